"""Operator-facing API routes, mounted under /api/v1/ (operator callbacks)."""

from django.urls import path

from moderation.api.callbacks import operator_callback

urlpatterns: list = [
    path(
        "operators/<slug:platform>/callbacks/",
        operator_callback,
        name="operator-callback",
    ),
]
