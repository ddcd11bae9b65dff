"""Reviewer wellbeing (issue 16): blur level and grayscale with organisation defaults and
per-person overrides, the day's count of graphic pictures seen, the break prompt, and the
supervisors' totals. Who may open the new addresses is the role matrix's (tests/security/)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection

from config.clock import wib_today
from config.roles import Role
from moderation.cases import evidence_settings_for
from moderation.cases.services import staff_preference_set
from moderation.models import AuditEvent, StaffPreference
from reports.models import Evidence, GraphicEvidenceView
from reports.selectors import graphic_seen_today, graphic_seen_today_totals
from tests.support import ROOT
from tests.support.env import production_env
from tests.support.factories import CaseFactory, PlatformFactory, ReportFactory, UserFactory
from tests.support.intake import PNG, make_evidence
from tests.support.takedowns import proposal

pytestmark = pytest.mark.django_db


def picture_on(case, content: bytes = PNG, content_type: str = "image/png") -> Evidence:
    """Evidence stored on a new report of `case`, as intake stores it."""
    evidence = make_evidence(content, content_type)
    evidence.report = ReportFactory(case=case)
    evidence.save(update_fields=["report"])
    return evidence


def fetch_bytes(client, evidence: Evidence) -> int:
    """Ask for a picture's bytes as an <img> does, reading them all."""
    response = client.get(f"/evidence/{evidence.pk}/", HTTP_SEC_FETCH_DEST="image")
    b"".join(response.streaming_content)
    return response.status_code


def thumb_classes(html: str) -> set[str]:
    match = re.search(r'<button type="button" class="(evidence-thumb [^"]*)"', html)
    assert match, "no evidence thumbnail on the page"
    return set(match.group(1).split())


# --- Which settings apply -------------------------------------------------------------------


def test_it_applies_the_organisation_defaults_to_a_person_who_chose_nothing(settings, moderator):
    settings.EVIDENCE_BLUR_DEFAULT = "light"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = False
    look = evidence_settings_for(moderator)
    assert (look.blur, look.grayscale, look.keep_blurred) == ("light", False, False)
    assert look.blur_is_default and look.grayscale_is_default
    assert look.thumb_classes == "blur-light is-blurred"


def test_a_persons_own_choice_wins_over_the_default_until_they_return_to_it(settings, moderator):
    settings.EVIDENCE_BLUR_DEFAULT = "strong"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = True
    staff_preference_set(user=moderator, evidence_blur="none", evidence_grayscale=False)
    look = evidence_settings_for(moderator)
    assert (look.blur, look.grayscale) == ("none", False)
    assert not look.blur_is_default and not look.grayscale_is_default
    assert look.thumb_classes == "blur-none"  # not blurred, nothing to reveal

    # The organisation changes its defaults: the person's choice still stands.
    settings.EVIDENCE_BLUR_DEFAULT = "light"
    assert evidence_settings_for(moderator).blur == "none"

    staff_preference_set(user=moderator, evidence_blur="", evidence_grayscale=None)
    look = evidence_settings_for(moderator)
    assert (look.blur, look.grayscale) == ("light", True)
    assert look.blur_is_default and look.grayscale_is_default


def test_a_blur_default_or_threshold_that_cannot_be_read_stops_the_start_with_its_name():
    for variable, value, says in [
        ("EVIDENCE_BLUR_DEFAULT", "medium", "is not one of: none, light, strong"),
        ("EVIDENCE_GRAYSCALE_DEFAULT", "grey", "is not a boolean"),
        ("GRAPHIC_DAILY_BREAK_THRESHOLD", "0", "below its minimum of 1"),
    ]:
        result = subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env=production_env(**{variable: value}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert f"{variable}=" in result.stderr and says in result.stderr


# --- Changing them --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_change_of_evidence_settings_is_audited_with_before_and_after_in_its_transaction(
    client_for, moderator
):
    case = CaseFactory()
    response = client_for(moderator).post(
        "/preferences/evidence/",
        {
            "keep_evidence_blurred": "on",
            "evidence_blur": "light",
            "evidence_grayscale": "off",
            "back": f"/cases/{case.pk}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    preference = StaffPreference.objects.get(user=moderator)
    assert (preference.keep_evidence_blurred, preference.evidence_blur) == (True, "light")
    assert preference.evidence_grayscale is False
    event = AuditEvent.objects.get(action="preference.changed")
    assert event.actor_user_id == moderator.pk
    assert event.data == {
        "before": {
            "keep_evidence_blurred": False,
            "evidence_blur": "",
            "evidence_grayscale": None,
        },
        "after": {
            "keep_evidence_blurred": True,
            "evidence_blur": "light",
            "evidence_grayscale": False,
        },
    }
    # The event was written by the transaction that changed the row (its xmin).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM moderation_staffpreference WHERE user_id = %s", [moderator.pk]
        )
        (row_xid,) = cursor.fetchone()
    assert event.xid % 2**32 == int(row_xid)


def test_saving_the_same_settings_again_records_nothing(moderator):
    staff_preference_set(user=moderator, evidence_blur="none")
    staff_preference_set(user=moderator, evidence_blur="none", keep_evidence_blurred=False)
    assert AuditEvent.objects.filter(action="preference.changed").count() == 1


def test_the_keep_blurred_checkbox_alone_leaves_blur_and_grayscale_as_they_are(
    client_for, moderator
):
    staff_preference_set(user=moderator, evidence_blur="light", evidence_grayscale=True)
    client_for(moderator).post("/preferences/evidence/", {"keep_evidence_blurred": "on"})
    preference = StaffPreference.objects.get(user=moderator)
    assert preference.keep_evidence_blurred
    assert (preference.evidence_blur, preference.evidence_grayscale) == ("light", True)
    event = AuditEvent.objects.filter(action="preference.changed").latest("sequence")
    assert event.data["after"] == {"keep_evidence_blurred": True}


def test_a_blur_level_that_is_not_offered_is_refused_with_a_message(client_for, moderator):
    client = client_for(moderator)
    response = client.post(
        "/preferences/evidence/", {"evidence_blur": "medium", "evidence_grayscale": "on"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Choose your evidence settings from the lists." in page
    assert not StaffPreference.objects.filter(user=moderator).exists()


def test_my_evidence_settings_page_offers_the_organisation_default_by_name(
    settings, client_for, auditor
):
    settings.EVIDENCE_BLUR_DEFAULT = "light"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = False
    page = client_for(auditor).get("/preferences/").content.decode()
    assert '<option value="" selected>Organisation default (Light)</option>' in page
    assert '<option value="" selected>Organisation default (off)</option>' in page
    assert 'href="/preferences/"' in page  # the header's link


# --- Applying them --------------------------------------------------------------------------


def test_the_case_page_draws_pictures_with_the_persons_blur_and_grayscale(
    settings, client_for, moderator
):
    settings.EVIDENCE_BLUR_DEFAULT = "strong"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = True
    case = CaseFactory()
    picture_on(case)
    client = client_for(moderator)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert {"blur-strong", "is-blurred", "is-gray"} <= thumb_classes(html)
    assert 'aria-pressed="false"' in html
    assert "style=" not in html.split('id="reports"')[1]  # classes only, never inline style

    staff_preference_set(user=moderator, evidence_blur="none", evidence_grayscale=False)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert thumb_classes(html) == {"evidence-thumb", "blur-none"}


def test_the_evidence_page_draws_the_picture_as_the_case_page_does(settings, client_for, moderator):
    settings.EVIDENCE_BLUR_DEFAULT = "light"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = True
    evidence = picture_on(CaseFactory())
    page = client_for(moderator).get(f"/evidence/{evidence.pk}/", HTTP_SEC_FETCH_DEST="document")
    assert page.status_code == 200
    assert thumb_classes(page.content.decode()) == {
        "evidence-thumb",
        "blur-light",
        "is-blurred",
        "is-gray",
    }


def test_the_approvals_page_draws_pictures_with_the_supervisors_settings(
    settings, client_for, moderator, supervisor
):
    settings.EVIDENCE_BLUR_DEFAULT = "light"
    settings.EVIDENCE_GRAYSCALE_DEFAULT = True
    decision = proposal(moderator=moderator, platform=PlatformFactory(slug="michat"))
    picture_on(decision.case)
    html = client_for(supervisor).get("/approvals/").content.decode()
    match = re.search(r'<a class="(evidence-thumb [^"]*)"', html)
    assert match and set(match.group(1).split()) == {
        "evidence-thumb",
        "blur-light",
        "is-blurred",
        "is-gray",
    }


# --- Counting graphic pictures --------------------------------------------------------------


def test_only_the_bytes_of_pictures_of_graphic_categories_are_counted(client_for, moderator):
    client = client_for(moderator)
    graphic = CaseFactory(category="pornography")
    picture = picture_on(graphic)
    document = picture_on(CaseFactory(category="prostitution"))
    not_a_picture = picture_on(graphic, b"just text", "text/plain")
    not_graphic = picture_on(CaseFactory(category="gambling"))

    assert fetch_bytes(client, picture) == 200
    # The page around a picture opened in a tab is not the picture (its <img> is).
    page = client.get(f"/evidence/{document.pk}/", HTTP_SEC_FETCH_DEST="document")
    assert page.status_code == 200
    assert fetch_bytes(client, not_a_picture) == 200  # a download, not a picture shown
    assert fetch_bytes(client, not_graphic) == 200

    assert list(GraphicEvidenceView.objects.values_list("evidence_id", flat=True)) == [picture.pk]
    assert graphic_seen_today(user=moderator) == 1


def test_a_picture_counts_once_a_day_however_often_it_is_opened(client_for, moderator):
    picture = picture_on(CaseFactory(category="prostitution"))
    yesterday = wib_today() - timedelta(days=1)
    GraphicEvidenceView.objects.create(day=yesterday, user=moderator, evidence=picture)
    client = client_for(moderator)
    for _ in range(3):
        assert fetch_bytes(client, picture) == 200
    assert graphic_seen_today(user=moderator) == 1
    assert GraphicEvidenceView.objects.filter(user=moderator).count() == 2  # one a day


def test_supervisors_see_each_persons_total_today_and_who_is_past_the_threshold(
    settings, client_for, moderator, moderator2, supervisor
):
    settings.GRAPHIC_DAILY_BREAK_THRESHOLD = 2
    pictures = [picture_on(CaseFactory(category="prostitution")) for _ in range(3)]
    for picture in pictures:
        fetch_bytes(client_for(moderator), picture)
    fetch_bytes(client_for(moderator2), pictures[0])
    GraphicEvidenceView.objects.create(
        day=wib_today() - timedelta(days=1), user=moderator2, evidence=pictures[1]
    )  # yesterday's, not today's

    totals = graphic_seen_today_totals()
    assert [(row.user.username, row.seen, row.break_due) for row in totals] == [
        ("moderator", 3, True),
        ("moderator2", 1, False),
    ]
    html = client_for(supervisor).get("/supervision/").content.decode()
    card = html.split('id="wellbeing"')[1].split("</section>")[0]
    assert "Reviewer wellbeing" in card
    assert re.search(r"moderator</th><td class=\"num\">3</td><td><strong>past the threshold", card)
    assert re.search(r"moderator2</th><td class=\"num\">1</td><td>—", card)
    assert "/evidence/" not in card  # a number per person, never which pictures


# --- What the person sees -------------------------------------------------------------------


def test_the_case_page_says_how_many_graphic_pictures_the_person_saw_today(client_for, moderator):
    client = client_for(moderator)
    case = CaseFactory(category="prostitution")
    for picture in [picture_on(case), picture_on(case)]:
        fetch_bytes(client, picture)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "You have seen 2 graphic pictures today." in html


def test_the_break_prompt_appears_at_the_threshold_and_not_below(settings, client_for, moderator):
    settings.GRAPHIC_DAILY_BREAK_THRESHOLD = 3
    client = client_for(moderator)
    case = CaseFactory(category="pornography")
    pictures = [picture_on(case) for _ in range(3)]
    for picture in pictures[:2]:
        fetch_bytes(client, picture)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "break-prompt" not in html

    fetch_bytes(client, pictures[2])
    html = client.get(f"/cases/{case.pk}/").content.decode()
    prompt = html.split('class="break-prompt"')[1].split("</div>")[0]
    assert 'role="alert"' in prompt
    assert "You have seen 3 graphic pictures today; from 3 on, we suggest a pause." in prompt


def test_a_dismissed_break_prompt_stays_hidden_for_the_day(settings, client_for, moderator):
    settings.GRAPHIC_DAILY_BREAK_THRESHOLD = 1
    client = client_for(moderator)
    case = CaseFactory(category="prostitution")
    fetch_bytes(client, picture_on(case))
    assert "break-prompt" in client.get(f"/cases/{case.pk}/").content.decode()

    response = client.post("/wellbeing/break/dismiss/", {"back": f"/cases/{case.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert client.session["wellbeing_break_dismissed"] == wib_today().isoformat()
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "break-prompt" not in html
    assert "You have seen 1 graphic picture today." in html  # the count still shows
    # Another person's session is not theirs.
    other = UserFactory(username="dewi", roles=[Role.MODERATOR])
    fetch_bytes(client_for(other), picture_on(case))
    assert "break-prompt" in client_for(other).get(f"/cases/{case.pk}/").content.decode()
