"""The API docs page (Swagger UI from drf-spectacular-sidecar) under the site-wide CSP.

drf-spectacular's split view serves Swagger UI's start-up script as a separate JavaScript
response instead of an inline <script>, so script-src 'self' holds. Our template drops the
inline <style> of the stock one for a static stylesheet. Swagger UI's own stylesheet draws
its icons as data: SVG images, so this one page also allows img-src data:."""

from __future__ import annotations

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


@method_decorator(csp_update({"img-src": ["data:"]}), name="dispatch")
class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
