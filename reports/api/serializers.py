"""Shapes of the intake API, for the OpenAPI schema. Checking happens in
`reports.services.intake.report_input_parse`, one fast function shared by every path."""

from __future__ import annotations

from rest_framework import serializers

from accounts.categories import Category


class AccountIn(serializers.Serializer):
    identifier = serializers.CharField(
        help_text="Phone number (any Indonesian format), handle or profile URL."
    )
    display_name = serializers.CharField(required=False)
    profile_url = serializers.URLField(required=False)


class ReportIn(serializers.Serializer):
    external_reference = serializers.CharField(
        max_length=200, help_text="Your id for the report: the idempotency key."
    )
    platform = serializers.SlugField(help_text="The platform's slug, e.g. `michat`.")
    account = AccountIn()
    category = serializers.ChoiceField(choices=Category.choices)
    description = serializers.CharField(max_length=10_000)
    content_urls = serializers.ListField(
        child=serializers.URLField(), required=False, max_length=20
    )
    observed_at = serializers.DateTimeField(required=False)
    urgent = serializers.BooleanField(required=False, default=False)


class BatchIn(serializers.Serializer):
    reports = ReportIn(many=True, help_text="At most 500.")


class ReportOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_reference = serializers.CharField()
    case = serializers.IntegerField()
    account = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["received", "in_review", "action_taken", "closed"])
    received_at = serializers.DateTimeField()
    receipt_code = serializers.CharField()


class BatchItemOut(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.IntegerField(
        help_text="201 created, 200 repeat, 409 conflict, 400 invalid"
    )
    report = ReportOut(required=False)
    errors = serializers.DictField(child=serializers.ListField(), required=False)
    detail = serializers.CharField(required=False)


class BatchOut(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    conflicts = serializers.IntegerField()
    invalid = serializers.IntegerField()
    results = BatchItemOut(many=True)


class EvidenceOut(serializers.Serializer):
    id = serializers.IntegerField()
    report = serializers.IntegerField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class EvidenceIn(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG or WebP, at most 5 MB.")


class Problem(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(), required=False)
