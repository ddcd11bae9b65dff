"""Operator-facing API routes, mounted under /api/v1/ (operator callbacks)."""

urlpatterns: list = []
