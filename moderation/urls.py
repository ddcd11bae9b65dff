from moderation.views import home

app_name = "moderation"

urlpatterns = [
    *home.urlpatterns,
]
