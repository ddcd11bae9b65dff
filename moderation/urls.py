from moderation.views import audit, home

app_name = "moderation"

urlpatterns = [
    *home.urlpatterns,
    *audit.urlpatterns,  # auditors: decision log, trail, case history, chain, exports
]
