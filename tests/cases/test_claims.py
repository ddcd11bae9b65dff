"""Claims: next case under concurrency (for moderators and supervisors alike), leases, expiry,
release and reassignment."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.roles import Role
from moderation.cases.services import (
    CaseActionError,
    CaseChanged,
    case_claim_next,
    case_claim_open,
    case_claim_reassign,
    case_claim_release,
    case_claim_renew,
    case_claims_expire,
)
from moderation.cases.tasks import claims_expire
from moderation.models import AuditEvent, Case
from tests.support.factories import CaseFactory, UserFactory
from tests.support.queue import make_open_cases


@pytest.mark.django_db(transaction=True)
def test_it_claims_every_case_exactly_once_under_twenty_threads():
    make_open_cases(2000)
    moderators = [UserFactory(roles=[Role.MODERATOR]) for _ in range(20)]
    claimed: list[list[int]] = [[] for _ in moderators]
    errors: list[BaseException] = []
    start = threading.Barrier(len(moderators))

    def work(index: int) -> None:
        try:
            start.wait()
            while True:
                case = case_claim_next(moderator=moderators[index])
                if case is None:
                    return
                claimed[index].append(case.pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(moderators))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    every = [pk for ids in claimed for pk in ids]
    assert len(every) == 2000
    assert len(set(every)) == 2000
    assert sum(1 for ids in claimed if ids) > 1  # the work really was shared
    assert not Case.objects.filter(status="open").exists()
    # Each case is held by the thread that got it, with one audit event per claim.
    for index, ids in enumerate(claimed[:3]):
        assert set(Case.objects.filter(pk__in=ids).values_list("claimed_by", flat=True)) <= {
            moderators[index].pk
        }
    assert AuditEvent.objects.filter(action="case.claimed").count() == 2000


def test_it_claims_the_most_important_case_with_a_lease(moderator):
    low = CaseFactory(priority=10)
    high = CaseFactory(priority=90)
    case = case_claim_next(moderator=moderator)
    assert case.pk == high.pk
    case.refresh_from_db()
    assert case.status == "in_review" and case.claimed_by == moderator
    assert case.version == 2
    left = case.claim_expires_at - timezone.now()
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)
    event = AuditEvent.objects.get(action="case.claimed")
    assert event.subject_id == str(case.pk) and event.actor_user == moderator
    assert case_claim_next(moderator=moderator).pk == low.pk
    assert case_claim_next(moderator=moderator) is None


def test_it_refuses_a_claim_to_an_auditor(auditor):
    CaseFactory()
    with pytest.raises(CaseActionError):
        case_claim_next(moderator=auditor)


def test_it_renews_a_lease_only_for_its_holder(moderator, moderator2):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    Case.objects.filter(pk=case.pk).update(claim_expires_at=timezone.now() + timedelta(minutes=1))
    assert case_claim_renew(case_id=case.pk, moderator=moderator2) is None
    renewed = case_claim_renew(case_id=case.pk, moderator=moderator)
    assert renewed.claim_expires_at > timezone.now() + timedelta(minutes=14)
    assert renewed.version == 2  # a renewal is not a change of state


def test_a_lapsed_claim_the_sweeper_has_not_reached_is_not_renewed_held_shown_or_decidable(
    moderator, moderator2, client_for
):
    from moderation.access import may_decide
    from moderation.cases.selectors import claim_held

    case = CaseFactory()
    case_claim_next(moderator=moderator)
    lapsed = timezone.now() - timedelta(seconds=1)
    Case.objects.filter(pk=case.pk).update(claim_expires_at=lapsed)
    assert claim_held(case_id=case.pk, moderator=moderator) is False
    assert case_claim_renew(case_id=case.pk, moderator=moderator) is None
    case.refresh_from_db()
    assert case.claim_expires_at == lapsed  # not revived; the sweeper returns it to the queue
    assert not may_decide(moderator, case)
    for person in (moderator, moderator2):
        page = client_for(person).get(f"/cases/{case.pk}/").content.decode()
        assert "The claim on this case ran out" in page
        assert "You hold this case" not in page and "is reviewing this case" not in page
        assert 'id="decide-dismiss"' not in page
    assert case_claims_expire() == 1


def test_it_returns_expired_claims_to_the_queue(moderator):
    expired, live = CaseFactory(priority=50), CaseFactory(priority=40)
    case_claim_next(moderator=moderator)
    case_claim_next(moderator=moderator)
    Case.objects.filter(pk=expired.pk).update(
        claim_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert claims_expire() == 1  # the beat task, run in-process
    expired.refresh_from_db()
    live.refresh_from_db()
    assert expired.status == "open" and expired.claimed_by is None and expired.version == 3
    assert live.status == "in_review" and live.claimed_by == moderator
    event = AuditEvent.objects.get(action="case.claim_expired")
    assert event.actor_kind == "system" and event.subject_id == str(expired.pk)
    assert case_claims_expire() == 0
    # Back in the queue: the next "next case" gets it again.
    assert case_claim_next(moderator=moderator).pk == expired.pk


def test_it_lets_only_a_supervisor_release_a_claim(moderator, moderator2, supervisor):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    with pytest.raises(CaseActionError):
        case_claim_release(case_id=case.pk, supervisor=moderator2)
    released = case_claim_release(case_id=case.pk, supervisor=supervisor)
    assert released.status == "open" and released.claimed_by is None
    assert AuditEvent.objects.filter(action="case.released", actor_user=supervisor).count() == 1
    with pytest.raises(CaseChanged):  # nothing left to release
        case_claim_release(case_id=case.pk, supervisor=supervisor)


def test_it_lets_only_a_supervisor_reassign_a_claim(moderator, moderator2, supervisor, auditor):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    with pytest.raises(CaseActionError):
        case_claim_reassign(case_id=case.pk, supervisor=moderator, to_user=moderator2)
    with pytest.raises(CaseActionError):
        case_claim_reassign(case_id=case.pk, supervisor=supervisor, to_user=auditor)
    with pytest.raises(CaseChanged):  # a stale version
        case_claim_reassign(case_id=case.pk, supervisor=supervisor, to_user=moderator2, version=1)
    moved = case_claim_reassign(
        case_id=case.pk, supervisor=supervisor, to_user=moderator2, version=2
    )
    assert moved.claimed_by == moderator2 and moved.version == 3
    event = AuditEvent.objects.get(action="case.reassigned")
    assert event.data["to"] == "moderator2"


def test_it_shows_a_held_case_read_only_with_its_holder(client_for, moderator, moderator2):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    page = client_for(moderator2).get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "moderator is reviewing this case" in text
    assert 'id="decide-dismiss"' not in text
    mine = client_for(moderator).get(f"/cases/{case.pk}/").content.decode()
    assert 'id="decide-dismiss"' in mine and 'hx-post="/cases/' in mine


def test_it_renews_through_the_heartbeat_and_says_when_the_claim_is_lost(
    client_for, moderator, supervisor
):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    client = client_for(moderator)
    before = Case.objects.get(pk=case.pk).claim_expires_at
    assert client.post(f"/cases/{case.pk}/heartbeat/", {"active": "1"}).status_code == 204
    assert Case.objects.get(pk=case.pk).claim_expires_at > before
    case_claim_release(case_id=case.pk, supervisor=supervisor)
    lost = client.post(f"/cases/{case.pk}/heartbeat/", {"active": "1"})
    assert lost.status_code == 200 and b"no longer hold" in lost.content


def test_a_heartbeat_from_an_unattended_page_keeps_but_does_not_renew_the_claim(
    client_for, moderator, supervisor
):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    client = client_for(moderator)
    before = Case.objects.get(pk=case.pk).claim_expires_at
    poll = {"HX-Request": "true", "X-Saring-Poll": "1"}
    assert client.post(f"/cases/{case.pk}/heartbeat/", headers=poll).status_code == 204
    assert Case.objects.get(pk=case.pk).claim_expires_at == before
    case_claim_release(case_id=case.pk, supervisor=supervisor)
    lost = client.post(f"/cases/{case.pk}/heartbeat/", headers=poll)
    assert lost.status_code == 200 and b"no longer hold" in lost.content


def test_it_releases_and_reassigns_through_the_page(client_for, moderator, moderator2, supervisor):
    case = CaseFactory()
    case_claim_next(moderator=moderator)
    response = client_for(supervisor).post(
        f"/cases/{case.pk}/reassign/", {"to_user": "moderator2", "version": 2}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.claimed_by == moderator2
    client_for(supervisor).post(f"/cases/{case.pk}/release/", {"version": case.version})
    case.refresh_from_db()
    assert case.status == "open"
    unknown = client_for(supervisor).post(f"/cases/{case.pk}/reassign/", {"to_user": "nobody"})
    assert unknown.status_code == 302


def test_it_claims_a_chosen_open_case_once(client_for, moderator, moderator2):
    case = CaseFactory()
    assert client_for(moderator).post(f"/cases/{case.pk}/claim/", {"version": 1}).status_code == 302
    client_for(moderator2).post(f"/cases/{case.pk}/claim/", {"version": 1})
    case.refresh_from_db()
    assert case.claimed_by == moderator and case.version == 2
    assert AuditEvent.objects.filter(action="case.claimed").count() == 1


def test_it_refreshes_priorities_as_cases_age(db):
    from moderation.cases.services import case_priorities_refresh
    from moderation.cases.tasks import priorities_refresh

    young = CaseFactory(opened_at=timezone.now(), priority=1.0, source_kinds="police")
    old = CaseFactory(opened_at=timezone.now() - timedelta(days=3), priority=1.0)
    assert priorities_refresh() == 2
    young.refresh_from_db()
    old.refresh_from_db()
    assert young.priority == pytest.approx(35 + 20, abs=0.2)  # prostitution + police
    assert old.priority == pytest.approx(35 + 12, abs=0.2)  # prostitution + 3 days x 4
    assert case_priorities_refresh() == 0  # nothing moved since


def test_a_supervisor_takes_the_next_case_as_a_moderator_does(client_for, supervisor):
    case = CaseFactory()
    response = client_for(supervisor).post("/queue/next/")
    assert response["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.claimed_by == supervisor


@pytest.mark.parametrize("move", ["claim", "claim_open", "reassign", "release", "expire"])
def test_every_claim_change_moves_the_version_saves_updated_at_and_writes_one_event(
    move, moderator, moderator2, supervisor
):
    case = CaseFactory()
    if move in ("release", "expire"):
        case = case_claim_next(moderator=moderator)
    if move == "expire":
        Case.objects.filter(pk=case.pk).update(claim_expires_at=timezone.now() - timedelta(1))
    before = Case.objects.get(pk=case.pk)
    events = AuditEvent.objects.count()
    if move == "claim":
        case_claim_next(moderator=moderator2)
    elif move == "claim_open":
        case_claim_open(case_id=case.pk, moderator=moderator2, version=before.version)
    elif move == "reassign":
        case_claim_reassign(case_id=case.pk, supervisor=supervisor, to_user=moderator2)
    elif move == "release":
        case_claim_release(case_id=case.pk, supervisor=supervisor)
    else:
        case_claims_expire()
    after = Case.objects.get(pk=case.pk)
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at
    assert AuditEvent.objects.count() == events + 1
    holder = {"claim": moderator2, "claim_open": moderator2, "reassign": moderator2}.get(move)
    assert after.claimed_by == holder
    assert after.status == (Case.Status.IN_REVIEW if holder else Case.Status.OPEN)
