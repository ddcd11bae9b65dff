"""Everything under /api/v1/: the intake API (reports) and operator callbacks (moderation)."""

from moderation.urls import api_urlpatterns as moderation_api
from reports.api.urls import urlpatterns as reports_api

urlpatterns = [*reports_api, *moderation_api]
