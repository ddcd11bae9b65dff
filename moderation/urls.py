from moderation.views import approvals, home, takedowns

app_name = "moderation"

urlpatterns = [
    *home.urlpatterns,
    *approvals.urlpatterns,
    *takedowns.urlpatterns,
]
