from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from moderation.audit.services.chain import audit_chain_verify
from moderation.models import AuditEvent, Case
from reports.models import Report

pytestmark = pytest.mark.django_db


def test_it_seeds_demo_reports_through_the_intake_service():
    out = StringIO()
    call_command("seed_demo", reports=60, stdout=out)
    assert Report.objects.count() == 60
    assert AuditEvent.objects.filter(action="report.received").count() == 60
    assert audit_chain_verify().intact
    for case in Case.objects.all():
        assert case.report_count == case.reports.count()
        assert case.priority > 0
    call_command("seed_demo", reports=60, stdout=StringIO())
    assert Report.objects.count() == 60
    assert "moderator" in out.getvalue()
