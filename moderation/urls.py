from django.urls import path

from moderation import views

app_name = "moderation"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("supervision/", views.supervisor_home, name="supervisor_home"),
    path("audit/", views.audit_home, name="audit_home"),
]
