from moderation.views import cases, home, queue

app_name = "moderation"

urlpatterns = [
    *home.urlpatterns,
    *queue.urlpatterns,
    *cases.urlpatterns,
]

# Dashboards, account pages and search (issue 8).
from moderation.views import accounts, dashboard, search  # noqa: E402

urlpatterns += [*dashboard.urlpatterns, *accounts.urlpatterns, *search.urlpatterns]
