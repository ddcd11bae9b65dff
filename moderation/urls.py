"""Moderation's pages: each module under moderation/views/ lists its own urlpatterns."""

from moderation.views import accounts, approvals, audit, cases, dashboard, queue, search, takedowns

app_name = "moderation"

urlpatterns = [
    *queue.urlpatterns,
    *cases.urlpatterns,
    *approvals.urlpatterns,  # supervisors
    *takedowns.urlpatterns,  # supervisors act, auditors read
    *dashboard.urlpatterns,  # supervisors
    *audit.urlpatterns,  # auditors: decision log, trail, case history, chain, exports
    *accounts.urlpatterns,
    *search.urlpatterns,
]
