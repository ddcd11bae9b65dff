from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
]
