"""Moderation's addresses: each area's views module lists its own urlpatterns."""

from django.urls import path

from moderation.audit import views as audit
from moderation.cases.views import case, queue, ring, wellbeing
from moderation.dashboard import views as dashboard
from moderation.lookup import views as lookup
from moderation.objections import api as objections_api
from moderation.objections import public as objections_public
from moderation.objections import views as objections
from moderation.retention import views as retention
from moderation.takedowns import api
from moderation.takedowns.views import approvals, requests

app_name = "moderation"

urlpatterns = [
    *queue.urlpatterns,
    *case.urlpatterns,
    *ring.urlpatterns,  # acting on a case's ring: batch takedown proposals
    *wellbeing.urlpatterns,  # evidence settings and the break prompt
    *approvals.urlpatterns,  # supervisors
    *requests.urlpatterns,  # supervisors act, auditors read
    *dashboard.urlpatterns,  # supervisors
    *audit.urlpatterns,  # auditors: decision log, trail, case history, chain, exports
    *lookup.urlpatterns,  # account pages and search
    *retention.urlpatterns,  # legal holds (supervisors), deletion batches (auditors too)
    *objections.urlpatterns,  # supervisors decide, auditors read
    *objections_public.urlpatterns,  # the public objection form and its status page
]

# Mounted under /api/v1/ by config/api_urls.py, outside the "moderation" namespace.
api_urlpatterns = [
    path("operators/<slug:platform>/callbacks/", api.operator_callback, name="operator-callback"),
    *objections_api.urlpatterns,  # operators forward objections and read their outcome
]
