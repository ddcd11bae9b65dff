"""Retention reaches objections (README "Retention"): an objecting owner's pictures and
contact details go when their period has passed since the objection's decision — never while
it awaits a decision or while its case is held — with one audit event per batch; what the pages
and the command show afterwards."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from config.roles import Role
from moderation.audit import Actor
from moderation.models import AuditEvent, Objection, ObjectionAttachment
from moderation.objections import ObjectionInput, objection_decide, objection_receive
from moderation.retention import retention_run
from moderation.retention.services import case_legal_hold_set
from reports.services.evidence import evidence_check
from tests.support.factories import UserFactory
from tests.support.intake import image_bytes
from tests.support.objections import carried_out
from tests.support.takedowns import platform_for

pytestmark = pytest.mark.django_db

EVIDENCE_DAYS, CONTACT_DAYS = 365, 30


@pytest.fixture(autouse=True)
def periods(settings):
    settings.RETENTION_EVIDENCE_DAYS = EVIDENCE_DAYS
    settings.RETENTION_REPORTER_CONTACT_DAYS = CONTACT_DAYS


@pytest.fixture
def people(db):
    """The takedown's proposer and approver, and the supervisor with fresh eyes who decides."""
    return (
        UserFactory(username="proposer", roles=[Role.MODERATOR]),
        UserFactory(username="approver", roles=[Role.SUPERVISOR]),
        UserFactory(username="decider", roles=[Role.SUPERVISOR]),
    )


def objection_with_contacts(people, *, decided_days_ago: float | None) -> Objection:
    """An objection from the public form with the owner's contact details and one picture,
    upheld `decided_days_ago` days ago (None: still awaiting a decision)."""
    proposer, approver, decider = people
    takedown = carried_out(moderator=proposer, supervisor=approver, platform=platform_for())
    picture = evidence_check(
        SimpleUploadedFile("shop.png", image_bytes(), content_type="image/png")
    )
    objection = objection_receive(
        item=ObjectionInput(
            takedown_id=takedown.pk,
            source=Objection.Source.PUBLIC,
            statement="My shop sells batik only.",
            contact_name="Budi Santoso",
            contact_email="budi@example.id",
            contact_phone="+6281234567890",
            attachments=[picture],
        ),
        actor=Actor.public(),
    ).objection
    if decided_days_ago is not None:
        objection_decide(
            objection_id=objection.pk,
            supervisor=decider,
            outcome=Objection.Status.UPHELD,
            reason="The advertisements in the evidence are the shop's own.",
        )
        Objection.objects.filter(pk=objection.pk).update(
            decided_at=timezone.now() - timedelta(days=decided_days_ago)
        )
    else:  # received long ago, so only the missing decision keeps it
        Objection.objects.filter(pk=objection.pk).update(
            received_at=timezone.now() - timedelta(days=EVIDENCE_DAYS * 2)
        )
    objection.refresh_from_db()
    return objection


def run(django_capture_on_commit_callbacks):
    """A run whose transactions commit (the files go after each batch's commit)."""
    with django_capture_on_commit_callbacks(execute=True):
        return retention_run()


def test_past_both_periods_the_pictures_bytes_and_the_contact_details_go(
    people, django_capture_on_commit_callbacks
):
    objection = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 1)
    picture = objection.attachments.get()
    name, storage = picture.file.name, picture.file.storage
    assert storage.exists(name)

    result = run(django_capture_on_commit_callbacks)

    assert (result.objection_pictures_deleted, result.objection_contacts_erased) == (1, 1)
    picture.refresh_from_db()
    assert picture.deleted_at is not None and picture.file.name == ""
    assert not storage.exists(name)
    assert picture.sha256  # the record and its hash stay
    objection.refresh_from_db()
    assert (objection.contact_name, objection.contact_email, objection.contact_phone) == (
        "",
        "",
        "",
    )
    assert objection.contact_deleted_at is not None
    assert objection.statement == "My shop sells batik only."  # the record of being heard stays
    assert objection.reason and objection.status == Objection.Status.UPHELD


def test_each_batch_is_one_audit_event_with_ids_and_hashes_and_no_contact_values(
    people, django_capture_on_commit_callbacks
):
    objection = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 1)
    picture = objection.attachments.get()

    run(django_capture_on_commit_callbacks)

    pictures = AuditEvent.objects.get(action="retention.objection_pictures_deleted")
    assert pictures.data["attachments"] == [picture.pk]
    assert pictures.data["sha256"] == [picture.sha256]
    assert pictures.data["objections"] == [objection.pk]
    assert pictures.data["cases"] == [objection.case_id]
    assert pictures.data["period_days"] == EVIDENCE_DAYS
    contacts = AuditEvent.objects.get(action="retention.objection_contacts_erased")
    assert contacts.data["objections"] == [objection.pk]
    assert contacts.data["period_days"] == CONTACT_DAYS
    text = json.dumps([pictures.data, contacts.data])
    assert "budi" not in text.lower() and "6281234567890" not in text


def test_between_the_two_periods_only_the_contact_details_go(
    people, django_capture_on_commit_callbacks
):
    objection = objection_with_contacts(people, decided_days_ago=CONTACT_DAYS + 1)

    result = run(django_capture_on_commit_callbacks)

    assert (result.objection_pictures_deleted, result.objection_contacts_erased) == (0, 1)
    assert objection.attachments.get().deleted_at is None
    objection.refresh_from_db()
    assert objection.contact_email == "" and objection.contact_deleted_at is not None


def test_an_undecided_a_recent_or_a_held_objection_keeps_everything(
    people, supervisor, django_capture_on_commit_callbacks
):
    undecided = objection_with_contacts(people, decided_days_ago=None)
    recent = objection_with_contacts(people, decided_days_ago=CONTACT_DAYS - 1)
    held = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 100)
    case_legal_hold_set(case_id=held.case_id, supervisor=supervisor, reason="PTUN Jakarta 3/G")

    result = run(django_capture_on_commit_callbacks)

    assert (result.objection_pictures_deleted, result.objection_contacts_erased) == (0, 0)
    for objection in (undecided, recent, held):
        objection.refresh_from_db()
        assert objection.contact_email == "budi@example.id"
        assert objection.contact_deleted_at is None
    assert not ObjectionAttachment.objects.filter(deleted_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="retention.objection").exists()


def test_a_dry_run_lists_the_objections_due_and_changes_nothing(people):
    objection = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 1)
    picture = objection.attachments.get()
    out = io.StringIO()

    call_command("retention_run", "--dry-run", stdout=out)

    text = out.getvalue()
    assert f"picture {picture.pk} sha256 {picture.sha256} objection {objection.pk}" in text
    assert f"objection {objection.pk} case {objection.case_id}" in text
    assert not ObjectionAttachment.objects.filter(deleted_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action__startswith="retention.").exists()


def test_the_objection_page_shows_the_deletions_and_the_picture_answers_410(
    people, client_for, django_capture_on_commit_callbacks
):
    objection = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 1)
    picture = objection.attachments.get()
    run(django_capture_on_commit_callbacks)
    client = client_for(people[2])

    page = client.get(f"/objections/{objection.pk}/").content.decode()
    served = client.get(f"/objections/attachments/{picture.pk}/")

    assert "Deleted under retention on" in page
    assert f"/objections/attachments/{picture.pk}/" not in page
    assert "Contact details erased under retention on" in page
    assert "budi@example.id" not in page
    assert served.status_code == 410
    assert picture.sha256 in served.content.decode()


def test_the_retention_pages_list_objection_batches_with_their_hashes(
    people, auditor, client_for, django_capture_on_commit_callbacks
):
    objection = objection_with_contacts(people, decided_days_ago=EVIDENCE_DAYS + 1)
    picture = objection.attachments.get()
    run(django_capture_on_commit_callbacks)
    event = AuditEvent.objects.get(action="retention.objection_pictures_deleted")
    client = client_for(auditor)

    listing = client.get("/retention/").content.decode()
    batch = client.get(f"/retention/{event.sequence}/").content.decode()

    assert "Objecting owners' pictures" in listing
    assert "Objecting owners' contact details" in listing
    assert picture.sha256 in batch
    assert f'href="/objections/{objection.pk}/"' in batch
    assert "days after the objection was decided" in batch
