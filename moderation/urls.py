from moderation.views import cases, home, queue

app_name = "moderation"

urlpatterns = [
    *home.urlpatterns,
    *queue.urlpatterns,
    *cases.urlpatterns,
]
