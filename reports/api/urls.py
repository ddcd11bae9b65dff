"""Intake API routes, mounted under /api/v1/ (DESIGN.md "Intake API")."""

urlpatterns: list = []
