"""Intake API routes, mounted under /api/v1/ (DESIGN.md "Intake API")."""

from django.urls import path

from reports.api import views

urlpatterns: list = [
    path("reports/", views.ReportCreate.as_view(), name="api-report-create"),
    path("reports/batch/", views.ReportBatch.as_view(), name="api-report-batch"),
    path("reports/<int:pk>/", views.ReportDetail.as_view(), name="api-report-detail"),
    path("reports/<int:pk>/evidence/", views.ReportEvidence.as_view(), name="api-report-evidence"),
]
