import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("saring")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every module that defines Celery tasks; each task has an explicit name ("moderation.…"),
# which is what the beat schedule and the services queue by.
app.autodiscover_tasks(
    ["moderation.cases", "moderation.takedowns", "moderation.dashboard"], related_name="tasks"
)
