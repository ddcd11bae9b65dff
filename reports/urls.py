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
