"""Accounts that come back after a takedown (issue 17): flagged "returning" on arrival by
number or profile address, by a picture once it is linked, with a priority boost, audited."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from config.roles import Role
from moderation.cases import cases_mark_returning, cases_refresh
from moderation.cases.priority import RETURNING_POINTS, case_score
from moderation.models import AuditEvent, Case
from moderation.objections import objection_decide
from moderation.rings import account_returning
from tests.support.factories import UserFactory
from tests.support.intake import report_body
from tests.support.objections import objected
from tests.support.rings import account, link, open_case, picture, taken_down

pytestmark = pytest.mark.django_db


def post_report(token: str, body: dict) -> dict:
    response = Client().post(
        "/api/v1/reports/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_an_account_with_the_number_of_a_taken_down_account_arrives_returning_ranked_higher(
    ministry_token,
):
    _, token = ministry_token
    old = account("bella_old", phones=["+6281234567890"])
    request = taken_down(old)

    back = post_report(token, report_body("NEW-1"))  # 0812-3456-7890: the same number
    fresh = post_report(token, report_body("NEW-2", account={"identifier": "0812-1111-2222"}))

    returning, control = Case.objects.get(pk=back["case"]), Case.objects.get(pk=fresh["case"])
    assert (returning.returning_from_id, returning.returning_via) == (request.pk, "phone")
    assert control.returning_from_id is None
    assert returning.priority == pytest.approx(control.priority + RETURNING_POINTS, abs=0.1)
    _score, parts = case_score(returning, now=timezone.now())
    assert "Returning: matches an account already taken down" in [str(p.label) for p in parts]
    event = AuditEvent.objects.get(action="case.returning")
    assert event.subject_id == str(returning.pk)
    assert event.data["after"] == {
        "returning_from": str(request.pk),
        "via": "phone",
        "matches_account": old.pk,
    }


def test_a_takedown_the_operator_has_not_confirmed_makes_nobody_returning(ministry_token):
    _, token = ministry_token
    taken_down(account("bella_old", phones=["+6281234567890"]), status="acknowledged")

    case = Case.objects.get(pk=post_report(token, report_body("NEW-1"))["case"])

    assert case.returning_from_id is None
    assert not AuditEvent.objects.filter(action="case.returning").exists()


def test_a_picture_link_to_a_taken_down_account_flags_the_case_raises_it_and_audits_it():
    old, new = account("gone_bo"), account("back_bo", platform="telegram")
    request = taken_down(old)
    old_picture = picture(old)
    case = open_case(new)
    new_picture = picture(new)
    cases_refresh(case_ids=[case.pk])
    before = Case.objects.get(pk=case.pk).priority
    link(old_picture, new_picture, distance=9)

    flagged = cases_mark_returning(account_ids=[new.pk, old.pk])

    case.refresh_from_db()
    assert flagged == [case.pk]
    assert (case.returning_from_id, case.returning_via) == (request.pk, "picture")
    assert case.priority == pytest.approx(before + RETURNING_POINTS, abs=0.1)
    event = AuditEvent.objects.get(action="case.returning")
    assert (event.subject_type, event.subject_id) == ("moderation.case", str(case.pk))
    assert event.actor_label == "rings"
    assert cases_mark_returning(account_ids=[new.pk]) == []  # flagged once
    assert AuditEvent.objects.filter(action="case.returning").count() == 1


def test_a_stock_picture_makes_nobody_returning(settings):
    settings.RING_STOCK_PICTURE_ACCOUNTS = 3
    old, new = account("gone_bo"), account("back_bo")
    taken_down(old)
    stock = picture(old)
    for i in range(3):
        link(stock, picture(account(f"stranger{i}")))
    open_case(new)
    link(stock, picture(new))  # the old picture now reaches four other accounts: stock

    assert cases_mark_returning(account_ids=[new.pk]) == []
    assert account_returning(new) is None


def test_it_finds_the_same_profile_address_and_names_the_old_takedown():
    old = account("gone", profile_url="https://linktr.ee/bella_bo")
    request = taken_down(old)
    new = account("back", platform="telegram", profile_url="HTTPS://www.Linktr.ee/bella_bo/")

    found = account_returning(new)

    assert found is not None and found.via == "profile_url"
    assert found.request == request and found.request.account.platform.slug == "michat"
    assert account_returning(old) is None  # an account never "returns" as itself


def test_an_account_first_reported_before_the_takedown_is_not_returning():
    old = account("gone_bo", phones=["+6281234567788"])
    sister = account("sister_bo", platform="telegram", phones=["+6281234567788"])
    case = open_case(sister)
    taken_down(old, days_ago=0)  # confirmed after the sister was first reported

    assert cases_mark_returning(account_ids=[sister.pk, old.pk]) == []
    case.refresh_from_db()
    assert case.returning_from_id is None


def test_a_takedown_whose_objection_was_granted_makes_nobody_returning(ministry_token):
    _, token = ministry_token
    request = taken_down(account("bella_old", phones=["+6281234567890"]))
    fresh_eyes = UserFactory(username="supervisor3", roles=[Role.SUPERVISOR])
    objection_decide(
        objection_id=objected(request).pk,
        supervisor=fresh_eyes,
        outcome="granted",
        reason="The number belongs to a batik shop.",
    )

    case = Case.objects.get(pk=post_report(token, report_body("NEW-1"))["case"])

    assert case.returning_from_id is None
    assert account_returning(account=case.account) is None
