import os

from celery import Celery, bootsteps
from celery.beat import PersistentScheduler
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("saring")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every module that defines Celery tasks; each task has an explicit name ("moderation.…"),
# which is what the beat schedule and the services queue by.
app.autodiscover_tasks(
    [
        "moderation.cases",
        "moderation.takedowns",
        "moderation.dashboard",
        "moderation.audit",
        "moderation.retention",
        "moderation.rings",
        "reports",
    ],
    related_name="tasks",
)


class Heartbeat(bootsteps.StartStopStep):
    """Every worker writes a heartbeat (config/heartbeats.py) on its timer, so /readyz can tell a
    stopped worker from an idle one."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.tref = None

    def start(self, worker):
        from django.conf import settings

        from config.heartbeats import heartbeat

        name = f"worker:{worker.hostname}"
        heartbeat(name)
        self.tref = worker.timer.call_repeatedly(
            settings.READY_HEARTBEAT_INTERVAL_SECONDS, heartbeat, (name,), priority=10
        )

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None


app.steps["worker"].add(Heartbeat)
# Each task's log lines carry the request id of the request that queued it (config/logs.py).
app.steps["worker"].add(DjangoStructLogInitStep)


class HeartbeatScheduler(PersistentScheduler):
    """Beat's usual scheduler, which also writes beat's heartbeat at every tick and ticks at
    least every READY_HEARTBEAT_INTERVAL_SECONDS."""

    def tick(self, *args, **kwargs):
        from django.conf import settings

        from config.heartbeats import heartbeat

        heartbeat("beat")
        return min(super().tick(*args, **kwargs), settings.READY_HEARTBEAT_INTERVAL_SECONDS)
