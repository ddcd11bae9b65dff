"""Moderation's pages: each module under moderation/views/ lists its own urlpatterns."""

from moderation.views import accounts, audit, cases, dashboard, queue, search

app_name = "moderation"

urlpatterns = [
    *queue.urlpatterns,
    *cases.urlpatterns,
    *dashboard.urlpatterns,  # supervisors
    *audit.urlpatterns,  # auditors: decision log, trail, case history, chain, exports
    *accounts.urlpatterns,
    *search.urlpatterns,
]
