from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
    # The public side (issue 3): no sign-in.
    path("report/", views.public_report, name="public_report"),
    path("report/challenge/", views.altcha_challenge, name="altcha_challenge"),
    path("report/status/", views.public_status, name="public_status_lookup"),
    path("report/status/<str:code>", views.public_status, name="public_status"),
]
urlpatterns += [
    # Bulk CSV import (issue 3): supervisors.
    path("reports/import/", views.import_upload, name="import_upload"),
    path("reports/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("reports/import/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("reports/import/<int:pk>/retry/", views.import_retry, name="import_retry"),
]
