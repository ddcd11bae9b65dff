"""In a real browser: a supervisor with fresh eyes opens the objection queue, reads the owner's
statement beside the takedown's rationale, grants the objection and sees the restore request
it made."""

from __future__ import annotations

import re

import pytest

from config.roles import Role
from moderation.models import RestoreRequest
from tests.support.browser import sign_in
from tests.support.factories import UserFactory
from tests.support.objections import carried_out, objected
from tests.support.takedowns import platform_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_reads_the_statement_beside_the_rationale_and_grants_the_objection(
    page, site_server
):
    platform = platform_for()
    moderator = UserFactory(username="dewi", roles=[Role.MODERATOR])
    approver = UserFactory(username="siti", roles=[Role.SUPERVISOR])
    UserFactory(username="rahmat", roles=[Role.SUPERVISOR])
    takedown = carried_out(moderator=moderator, supervisor=approver, platform=platform)
    objection = objected(takedown, statement="My shop sells batik only, see the catalogue.")

    sign_in(page, site_server.url, "rahmat")
    page.goto(site_server.url + "/objections/")
    assert page.locator("#nav-objections-awaiting").inner_text() == "1"
    row = page.locator(f"tr[data-objection='{objection.receipt_code}']")
    assert "Awaiting decision" in row.inner_text()
    assert "dewi / siti" in row.inner_text()
    row.get_by_role("link", name=objection.receipt_code).click()
    page.wait_for_url(re.compile(rf"/objections/{objection.pk}/$"))

    rationale = page.locator("#rationale")
    statement = page.locator("#statement")
    assert takedown.approval.decision.rationale in rationale.inner_text()
    assert "My shop sells batik only" in statement.inner_text()
    left, right = rationale.bounding_box(), statement.bounding_box()
    assert left["x"] + left["width"] <= right["x"]  # side by side, the takedown on the left
    assert abs(left["y"] - right["y"]) < 40  # each at the top of its side, level

    page.get_by_label("Grant: restore the account").check()
    page.get_by_label("Reason (the owner and the operator receive it)").fill(
        "The catalogue shows a real batik shop."
    )
    page.get_by_role("button", name="Decide the objection").click()
    page.wait_for_load_state()

    assert "granted: a restore request is on its way" in page.locator(".messages").inner_text()
    decided = page.locator("#decided").inner_text()
    assert "rahmat" in decided and "in time" in decided
    assert "The catalogue shows a real batik shop." in decided
    restore = RestoreRequest.objects.get(objection=objection)
    facts = page.locator("#restore-request").inner_text()
    assert str(restore.pk) in facts and "Pending" in facts
    assert page.get_by_role("button", name="Cancel request").count() == 1
    assert page.locator("#nav-objections-awaiting").count() == 0
