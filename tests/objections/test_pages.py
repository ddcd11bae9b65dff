"""The supervisors' objection pages (issue 18): the queue (order, overdue, filters, paging, a
constant number of queries), one objection beside its takedown, the decision with fresh
eyes, the restore request's retry and cancel, the owner's pictures, and the navigation.
Who may open which page is tests/security/test_role_matrix.py's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.roles import Role
from moderation.audit import Actor
from moderation.models import AuditEvent, Objection, RestoreRequest
from moderation.objections import ObjectionInput, objection_decide, objection_receive
from moderation.objections.selectors import objection_page
from reports.services.evidence import evidence_check
from tests.support.factories import UserFactory
from tests.support.intake import image_bytes
from tests.support.objections import carried_out, objected
from tests.support.takedowns import platform_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(db):
    return platform_for()


@pytest.fixture
def proposer(db):
    """A supervisor who proposed the takedown (supervisors review cases too)."""
    return UserFactory(username="proposer", roles=[Role.SUPERVISOR])


@pytest.fixture
def approver(db):
    return UserFactory(username="approver", roles=[Role.SUPERVISOR])


@pytest.fixture
def takedown(proposer, approver, platform):
    return carried_out(moderator=proposer, supervisor=approver, platform=platform)


@pytest.fixture
def objection(takedown):
    """An objection from the public form, with the owner's contact details and one picture."""
    picture = evidence_check(
        SimpleUploadedFile("shop.png", image_bytes(), content_type="image/png")
    )
    return objection_receive(
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


def _person(username: str, role: Role):
    """One person of each kind for all the objections a test makes (a password is hashed for
    each new person, which is what makes many of them slow)."""
    return User.objects.filter(username=username).first() or UserFactory(
        username=username, roles=[role]
    )


def many_objections(count: int, platform) -> list[Objection]:
    """`count` objections, each to a takedown of its own, proposed and approved by others
    than the test's supervisor."""
    moderator = _person("someone-proposing", Role.MODERATOR)
    approver = _person("someone-approving", Role.SUPERVISOR)
    return [
        objected(carried_out(moderator=moderator, supervisor=approver, platform=platform))
        for _ in range(count)
    ]


def decided(objection: Objection, outcome: str, reason: str = "Looked again.") -> Objection:
    return objection_decide(
        objection_id=objection.pk,
        supervisor=_person("someone-deciding", Role.SUPERVISOR),
        outcome=outcome,
        reason=reason,
    )


def listed(response) -> list[str]:
    """The receipt codes of the queue's rows, in order."""
    return re.findall(r'data-objection="([^"]+)"', response.content.decode())


def message_texts(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- The queue -------------------------------------------------------------------------------


def test_the_queue_lists_awaiting_objections_by_deadline_then_the_decided_newest_first(
    client_for, supervisor, platform
):
    late, soon, later, upheld, granted = many_objections(5, platform)
    now = timezone.now()
    for objection, days in ((late, 9), (soon, 2), (later, 12)):
        Objection.objects.filter(pk=objection.pk).update(deadline=now + timedelta(days=days))
    decided(upheld, "upheld")
    decided(granted, "granted")
    Objection.objects.filter(pk=upheld.pk).update(received_at=now - timedelta(days=3))

    response = client_for(supervisor).get("/objections/")

    assert response.status_code == 200
    assert listed(response) == [
        soon.receipt_code,
        late.receipt_code,
        later.receipt_code,
        granted.receipt_code,
        upheld.receipt_code,
    ]


def test_an_overdue_objection_is_marked_and_counted(client_for, supervisor, platform):
    overdue, in_time = many_objections(2, platform)
    Objection.objects.filter(pk=overdue.pk).update(
        deadline=timezone.now() - timedelta(days=2, hours=1)
    )

    response = client_for(supervisor).get("/objections/")
    html = response.content.decode()

    row = re.search(
        rf'<tr class="overdue" data-objection="{overdue.receipt_code}">.*?</tr>', html, re.S
    )
    assert row is not None and "overdue by 2\xa0days" in row.group(0)
    assert f'<tr class="" data-objection="{in_time.receipt_code}">' in html
    counts = re.search(r'id="objection-counts">(.*?)</p>', html, re.S).group(1)
    assert "<strong>2</strong> objections await a decision" in counts
    assert "1 overdue" in counts


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("awaiting", ["overdue", "waiting"]),
        ("overdue", ["overdue"]),
        ("decided", ["granted", "upheld"]),
        ("upheld", ["upheld"]),
        ("granted", ["granted"]),
        ("all", ["overdue", "waiting", "granted", "upheld"]),
    ],
)
def test_each_filter_shows_its_objections(client_for, supervisor, platform, show, expected):
    objections = dict(
        zip(["overdue", "waiting", "upheld", "granted"], many_objections(4, platform), strict=True)
    )
    Objection.objects.filter(pk=objections["overdue"].pk).update(
        deadline=timezone.now() - timedelta(hours=1)
    )
    decided(objections["upheld"], "upheld")
    decided(objections["granted"], "granted")
    Objection.objects.filter(pk=objections["upheld"].pk).update(
        received_at=timezone.now() - timedelta(days=1)
    )

    response = client_for(supervisor).get(f"/objections/?show={show}")

    assert listed(response) == [objections[name].receipt_code for name in expected]


def test_a_bad_filter_or_cursor_shows_the_first_page_with_a_message(
    client_for, supervisor, platform
):
    (objection,) = many_objections(1, platform)
    client = client_for(supervisor)

    bad_filter = client.get("/objections/?show=everything")
    bad_cursor = client.get("/objections/?show=awaiting&after=1_junk_3")
    other_segment = client.get("/objections/?show=awaiting&after=1_1700000000000000_3")

    for response in (bad_filter, bad_cursor, other_segment):
        assert response.status_code == 200
        assert listed(response) == [objection.receipt_code]
    assert any("everything" in text for text in message_texts(bad_filter))
    assert message_texts(bad_cursor) == ["That page link is broken; showing the first page."]
    assert message_texts(other_segment) == ["That page link is broken; showing the first page."]


def test_the_pages_of_all_run_through_the_awaiting_into_the_decided_without_a_gap(platform):
    objections = many_objections(5, platform)
    for objection in objections[3:]:
        decided(objection, "upheld")
    seen, cursor = [], ""
    while True:
        page = objection_page(show="all", cursor=cursor, limit=2)
        seen += [row.pk for row in page.rows]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    awaiting = sorted(objections[:3], key=lambda o: (o.deadline, o.pk))
    decided_ones = sorted(objections[3:], key=lambda o: (o.received_at, o.pk), reverse=True)
    assert seen == [o.pk for o in awaiting + decided_ones]


def test_the_queue_reads_3_or_30_rows_in_the_same_number_of_queries(
    client_for, supervisor, platform
):
    client = client_for(supervisor)
    few = many_objections(3, platform)
    decided(few[0], "granted")
    client.get("/objections/")
    with CaptureQueriesContext(connection) as small:
        assert len(listed(client.get("/objections/"))) == 3
    many = many_objections(27, platform)
    decided(many[0], "upheld")
    with CaptureQueriesContext(connection) as large:
        assert len(listed(client.get("/objections/"))) == 30
    assert len(small) == len(large)


# --- One objection -------------------------------------------------------------------------


def test_a_supervisor_sees_the_takedown_beside_the_statement_and_the_contact_in_full(
    client_for, objection, takedown
):
    third = UserFactory(roles=[Role.SUPERVISOR])

    response = client_for(third).get(f"/objections/{objection.pk}/")
    html = response.content.decode()

    assert response.status_code == 200
    takedown_side = html.split('id="takedown-side"')[1].split('id="objection-side"')[0]
    owner_side = html.split('id="objection-side"')[1].split('id="objection-decision"')[0]
    assert takedown.approval.decision.rationale in takedown_side
    assert f"/cases/{takedown.case_id}/" in takedown_side
    assert f"/takedowns/{takedown.pk}/" in takedown_side
    assert "My shop sells batik only." in owner_side
    attachment = objection.attachments.get()
    assert f"/objections/attachments/{attachment.pk}/" in owner_side
    assert "Budi Santoso · budi@example.id · +6281234567890" in owner_side
    assert f'action="/objections/{objection.pk}/decide/"' in html


def test_an_auditor_sees_the_contact_masked_and_no_decision_form(client_for, auditor, objection):
    response = client_for(auditor).get(f"/objections/{objection.pk}/")
    html = response.content.decode()

    contact = re.search(r'id="contact">(.*?)</p>', html, re.S).group(1)
    assert "B••• · b•••@example.id · •••90" in contact and "(masked)" in contact
    assert "Budi" not in html and "budi@" not in html and "1234567890" not in html
    assert "/decide/" not in html
    assert "Only supervisors decide objections." in html


@pytest.mark.parametrize("who", ["proposer", "approver"])
def test_the_proposer_and_the_approver_see_why_they_may_not_decide_and_a_post_changes_nothing(
    client_for, objection, request, who
):
    person = request.getfixturevalue(who)
    client = client_for(person)
    word = "proposed" if who == "proposer" else "approved"
    refusal = (
        f"You {word} this takedown: another supervisor, who neither proposed nor approved it, "
        "decides the objection."
    )

    page = client.get(f"/objections/{objection.pk}/")
    assert refusal in page.content.decode()
    assert "/decide/" not in page.content.decode()

    events = AuditEvent.objects.count()
    response = client.post(
        f"/objections/{objection.pk}/decide/",
        {"outcome": "granted", "reason": "I was wrong."},
        follow=True,
    )

    assert response.redirect_chain == [(f"/objections/{objection.pk}/", 302)]
    assert refusal in message_texts(response)
    objection.refresh_from_db()
    assert objection.status == "received" and objection.decided_by is None
    assert not RestoreRequest.objects.exists()
    assert AuditEvent.objects.count() == events


def test_a_refused_decision_keeps_what_the_supervisor_typed(client_for, objection):
    third = UserFactory(roles=[Role.SUPERVISOR])
    client = client_for(third)

    response = client.post(
        f"/objections/{objection.pk}/decide/", {"reason": "The shop is real."}, follow=True
    )

    assert message_texts(response) == ["Choose whether the objection is upheld or granted."]
    assert "The shop is real.</textarea>" in response.content.decode()
    assert Objection.objects.get(pk=objection.pk).status == "received"


def test_another_supervisor_grants_and_the_restore_request_appears_pending(
    client_for, objection, takedown
):
    third = UserFactory(username="fresh-eyes", roles=[Role.SUPERVISOR])

    response = client_for(third).post(
        f"/objections/{objection.pk}/decide/",
        {"outcome": "granted", "reason": "The shop is real."},
        follow=True,
    )

    assert response.redirect_chain == [(f"/objections/{objection.pk}/", 302)]
    assert message_texts(response) == [
        f"Objection {objection.receipt_code} granted: a restore request is on its way to "
        f"{takedown.platform.name}."
    ]
    restore = RestoreRequest.objects.get(objection=objection)
    html = response.content.decode()
    decided_part = re.search(r'id="decided">(.*?)</dl>', html, re.S).group(1)
    assert "fresh-eyes" in decided_part and "in time" in decided_part
    assert "The shop is real." in decided_part
    restore_part = re.search(r'id="restore-request">(.*?)</dl>', html, re.S).group(1)
    assert str(restore.pk) in restore_part and "Pending" in restore_part
    assert "Not attempted yet." in html
    assert "Cancel request" in html and "Retry now" not in html


def test_another_supervisor_upholds_and_no_restore_request_is_made(client_for, objection):
    third = UserFactory(roles=[Role.SUPERVISOR])
    Objection.objects.filter(pk=objection.pk).update(deadline=timezone.now() - timedelta(days=1))

    response = client_for(third).post(
        f"/objections/{objection.pk}/decide/",
        {"outcome": "upheld", "reason": "Price list in the profile."},
        follow=True,
    )

    assert message_texts(response) == [
        f"Objection {objection.receipt_code} upheld: the takedown stands."
    ]
    objection.refresh_from_db()
    assert objection.status == "upheld" and objection.reason == "Price list in the profile."
    assert not RestoreRequest.objects.exists()
    decided_part = re.search(r'id="decided">(.*?)</dl>', response.content.decode(), re.S).group(1)
    assert "Upheld: the takedown stands" in decided_part
    assert "late by 1\xa0day" in decided_part
    assert 'id="restore-request"' not in response.content.decode()


# --- The restore request -------------------------------------------------------------------


@pytest.fixture
def restore(objection):
    return decided(objection, "granted").restore_request


def test_a_supervisor_retries_a_failed_restore_request(client_for, supervisor, restore, objection):
    RestoreRequest.objects.filter(pk=restore.pk).update(status="failed")
    client = client_for(supervisor)
    assert "Retry now" in client.get(f"/objections/{objection.pk}/").content.decode()

    response = client.post(f"/restores/{restore.pk}/retry/", follow=True)

    assert response.redirect_chain == [(f"/objections/{objection.pk}/", 302)]
    assert message_texts(response) == ["The restore request will be delivered again now."]
    restore.refresh_from_db()
    assert restore.status == "pending"


def test_retrying_a_restore_request_that_has_not_failed_is_refused_with_a_message(
    client_for, supervisor, restore, objection
):
    response = client_for(supervisor).post(f"/restores/{restore.pk}/retry/", follow=True)

    assert response.redirect_chain == [(f"/objections/{objection.pk}/", 302)]
    assert message_texts(response) == ["Only a failed request can be retried."]
    restore.refresh_from_db()
    assert restore.status == "pending"


def test_a_supervisor_cancels_a_pending_restore_request(client_for, supervisor, restore, objection):
    response = client_for(supervisor).post(
        f"/restores/{restore.pk}/cancel/", {"reason": "The owner withdrew."}, follow=True
    )

    assert response.redirect_chain == [(f"/objections/{objection.pk}/", 302)]
    assert message_texts(response) == ["The restore request is cancelled."]
    restore.refresh_from_db()
    assert restore.status == "cancelled"
    assert "Cancel request" not in response.content.decode()
    event = AuditEvent.objects.get(action="restore.cancelled")
    assert event.data["reason"] == "The owner withdrew."


def test_an_unknown_restore_request_goes_back_to_the_queue_with_a_message(client_for, supervisor):
    response = client_for(supervisor).post(
        "/restores/7d9f3c1e-0b6a-4a53-9a43-2f6f3f1d2c11/cancel/", follow=True
    )

    assert response.redirect_chain == [("/objections/", 302)]
    assert message_texts(response) == ["There is no such restore request."]


# --- The owner's pictures ------------------------------------------------------------------


def test_a_picture_is_served_as_evidence_is_never_executable_nor_cached(
    client_for, auditor, objection
):
    attachment = objection.attachments.get()

    response = client_for(auditor).get(f"/objections/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_picture_gone_from_storage_is_not_found(client_for, supervisor, objection):
    attachment = objection.attachments.get()
    attachment.file.storage.delete(attachment.file.name)

    response = client_for(supervisor).get(f"/objections/attachments/{attachment.pk}/")

    assert response.status_code == 404


def test_the_pictures_of_a_restricted_category_are_for_specialists_only(
    client_for, objection, specialist_supervisor
):
    objection.takedown.category = "child_sexual_abuse"
    objection.takedown.save(update_fields=["category"])
    attachment = objection.attachments.get()
    plain = client_for(UserFactory(roles=[Role.SUPERVISOR]))

    page = plain.get(f"/objections/{objection.pk}/").content.decode()

    assert f"/objections/attachments/{attachment.pk}/" not in page
    assert "for people in the Specialist role" in page
    assert plain.get(f"/objections/attachments/{attachment.pk}/").status_code == 403
    specialist = client_for(specialist_supervisor)
    assert specialist.get(f"/objections/attachments/{attachment.pk}/").status_code == 200
    assert (
        f"/objections/attachments/{attachment.pk}/"
        in specialist.get(f"/objections/{objection.pk}/").content.decode()
    )


# --- Links from elsewhere ------------------------------------------------------------------


def test_the_takedown_page_links_to_its_objection(client_for, supervisor, objection, takedown):
    html = client_for(supervisor).get(f"/takedowns/{takedown.pk}/").content.decode()

    link = re.search(r'id="takedown-objection">(.*?)</dd>', html, re.S).group(1)
    assert f'href="/objections/{objection.pk}/"' in link
    assert f"{objection.receipt_code}</a> (Awaiting decision)" in link


def test_a_takedown_without_an_objection_says_nothing_of_one(client_for, supervisor, takedown):
    html = client_for(supervisor).get(f"/takedowns/{takedown.pk}/").content.decode()

    assert 'id="takedown-objection"' not in html


def test_the_navigation_counts_the_objections_awaiting_and_the_overdue(
    client_for, auditor, moderator, platform
):
    overdue, _waiting, upheld = many_objections(3, platform)
    Objection.objects.filter(pk=overdue.pk).update(deadline=timezone.now() - timedelta(hours=1))
    decided(upheld, "upheld")

    html = client_for(auditor).get("/takedowns/").content.decode()
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)

    link = re.search(r'<a href="/objections/"[^>]*>(.*?)</a>', nav, re.S).group(1)
    assert re.search(r'id="nav-objections-awaiting"[^>]*>2</span>', link)
    assert re.search(r'id="nav-objections-overdue"[^>]*>1 overdue</span>', link)
    moderators_page = client_for(moderator).get("/queue/").content.decode()
    assert 'href="/objections/"' not in moderators_page
