from django.urls import path

from signin import views

app_name = "signin"

urlpatterns = [
    path("", views.account, name="account"),
    path("two-factor/", views.verify, name="verify"),
    path("two-factor/enrol/", views.enrol, name="enrol"),
    path("two-factor/remove/", views.two_factor_remove, name="two_factor_remove"),
    path("password/", views.password_change, name="password_change"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
]
