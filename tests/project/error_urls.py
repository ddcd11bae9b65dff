"""A URL that fails, for tests/project/test_errors.py only (never in config.urls)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def broken(request: HttpRequest) -> HttpResponse:
    reporter = request.POST.get("reporter_email", "")
    phone = request.POST.get("reporter_phone", "")
    raise ValueError(f"could not file the report of {reporter} ({phone})")


urlpatterns = [path("broken/", broken, name="broken")]
