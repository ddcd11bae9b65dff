# ruff: noqa: E501 - the expectations table reads best one URL a line
"""The role matrix: every URL of the site and the API, for every role, gets exactly what
DESIGN.md "People" allows.

The URLs are not listed by hand: they are found by walking the URL conf
(`django.urls.get_resolver()`, into every include), so a new view cannot escape. A URL that
is not classified in EXPECTED below makes `test_every_url_is_classified` fail, naming it.

This is the one place that says who may open what. Other tests check what a page or a
service does for the people allowed to use it; a "role X gets 403 / is sent to sign in at
URL Y" check belongs here, as a row (or a second row for another method), not in them.

HOW TO CLASSIFY A URL — add a line to EXPECTED, keyed by its URL name with namespace
("moderation:queue"; an unnamed pattern is keyed "<namespace:>route", e.g. "admin:<unnamed>
auth/user/<path:object_id>/"). Keys may be shell-style globs ("admin:*"); an exact key wins
over a glob, a longer glob over a shorter one.

    "moderation:queue": row(LOGIN, OK, OK, 403, 403, 403, LOGIN),

The seven outcomes are, in this order, for the roles in ROLES:
    anonymous, moderator, supervisor, auditor, administrator, no_role, other_org
`no_role` is a signed-in person who holds no role (not staff either). `other_org` is a
request carrying `Authorization: Bearer <token>` of a source organisation that does NOT own
the test's report (for web pages it is just another signed-out visitor).

A URL that answers more than one method (a page that is read with GET and acted on with
POST, or a POST-only address that must refuse a GET) gets a list of rows, one per request:

    "logout": [row(..., method="POST"), row(405, 405, 405, 405, 405, 405, 405)],

An outcome is one of:
    OK           200
    LOGIN        a redirect to our sign-in page, /login/; for a GET it carries ?next= back
    ADMIN_LOGIN  a redirect to the admin's /admin/login/ (which itself sends to /login/)
    REDIRECT     any other redirect (301/302/303), e.g. a role's home sending it on
    GATE_PASSED  anything but a redirect to sign-in or a 5xx: past the admin site's gate (for
                 the many Django admin pages, where a 403 is the model permissions' answer,
                 e.g. no delete permission for anyone, and the exact answers Django's business)
    a number     exactly that status: 201, 204, 400, 401, 403, 404, 405, 409 …
    a tuple      any of the outcomes in it

`row(...)` takes keyword options:
    method="POST"         send this method instead of GET (a fresh client per request, so a
                          state-changing POST such as signing out does not spoil the rest)
    data={...}            the form/JSON body of that request
    json=True             send `data` as JSON
    kwargs={name: f}      how to fill a path converter: f(world) -> value. Without it a
                          converter is filled from SAMPLES by its name (pk, platform, …).

Every response of every role must also carry the strict Content-Security-Policy (or, for
evidence files, their own sandboxing one) and never `'unsafe-inline'`.
"""

from __future__ import annotations

import fnmatch
import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import django_rq
import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize
from rq import Worker

from moderation.audit import Actor, audit_record
from moderation.models import Export
from moderation.objections import ObjectionInput, objection_decide, objection_receive
from reports.models import ImportJob
from reports.services.evidence import evidence_check
from tests.support.factories import (
    CaseFactory,
    DecisionFactory,
    PlatformFactory,
    ReportFactory,
    SourceOrganisationFactory,
    TakedownRequestFactory,
    UserFactory,
)
from tests.support.intake import api_token_for, image_bytes, make_evidence
from tests.support.objections import carried_out

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "moderator",
    "supervisor",
    "auditor",
    "administrator",
    "no_role",
    "other_org",
)
OK, LOGIN, ADMIN_LOGIN, REDIRECT = "OK", "LOGIN", "ADMIN_LOGIN", "REDIRECT"
GATE_PASSED = "GATE_PASSED"


@dataclass(frozen=True)
class Row:
    outcomes: tuple
    method: str = "GET"
    data: dict | None = None
    json: bool = False
    kwargs: dict = field(default_factory=dict)


def row(*outcomes, method="GET", data=None, json=False, kwargs=None) -> Row:
    assert len(outcomes) == len(ROLES), f"a row needs {len(ROLES)} outcomes: {ROLES}"
    return Row(tuple(outcomes), method, data, json, kwargs or {})


# fmt: off
EXPECTED: dict[str, Row | list[Row]] = {
    # name                          anonymous  moderator  supervisor auditor   administrator no_role   other_org
    # A signed-in person without a role gets no page of the site; their home says so (403).
    "home":                         row(LOGIN, REDIRECT,  REDIRECT,  REDIRECT, REDIRECT,     403,      LOGIN),
    "login":                        row(OK,    REDIRECT,  REDIRECT,  REDIRECT, REDIRECT,     REDIRECT, OK),
    # Signing out (here and everywhere) is a POST: a GET, say from a link, signs no one out.
    "logout":                       [row(LOGIN, LOGIN,    LOGIN,     LOGIN,    LOGIN,        LOGIN,    LOGIN, method="POST"),
                                     row(405,   405,      405,       405,      405,          405,      405)],
    "favicon":                      row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT,  REDIRECT, REDIRECT),
    "healthz":                      row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    # Readiness is the same for everyone; here no Celery or RQ worker runs, so it is 503.
    "readyz":                       row(503,   503,       503,       503,      503,          503,      503),
    # Metrics answer only Prometheus's bearer token (METRICS_TOKEN), never a session; without
    # a token configured (as here) the URL does not exist (tests/project/test_metrics.py).
    "metrics":                      row(404,   404,       404,       404,      404,          404,      404),
    "set_language":                 row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, REDIRECT,   REDIRECT, REDIRECT,
                                        method="POST", data={"language": "en", "next": "/"}),
    # Sign-in and the account pages (signin app).
    "signin:account":               row(LOGIN, OK,        OK,        OK,       OK,           OK,       LOGIN),
    "signin:verify":                row(LOGIN, REDIRECT,  REDIRECT,  REDIRECT, REDIRECT,     REDIRECT, LOGIN),
    "signin:enrol":                 row(LOGIN, OK,        REDIRECT,  REDIRECT, REDIRECT,     OK,       LOGIN),
    "signin:two_factor_remove":     row(LOGIN, REDIRECT,  REDIRECT,  REDIRECT, REDIRECT,     REDIRECT, LOGIN, method="POST"),
    "signin:password_change":       row(LOGIN, OK,        OK,        OK,       OK,           OK,       LOGIN),
    "signin:sign_out_everywhere":   [row(LOGIN, LOGIN,    LOGIN,     LOGIN,    LOGIN,        LOGIN,    LOGIN, method="POST"),
                                     row(405,   405,      405,       405,      405,          405,      405)],
    # API description: public, like the API's own error messages.
    "api-schema":                   row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    "api-docs":                     row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    # Evidence: staff who review or audit, never an administrator as such, never a token.
    "reports:evidence":             row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    # Moderation pages.
    "moderation:queue":             row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    "moderation:supervisor_home":   row(LOGIN, 403,       OK,        403,      403,          403,      LOGIN),
    "moderation:audit_home":        row(LOGIN, 403,       403,       OK,       403,          403,      LOGIN),
    # --- Intake (reports app): the public form and receipt page are for everyone; the bulk
    # import is the supervisors'; the API answers source organisations' tokens only.
    "reports:public_report":        row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    "reports:altcha_challenge":     row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    "reports:public_status_lookup": row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    "reports:public_status":        row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
    # The upload form posted without a file comes back with its errors (200).
    "reports:import_upload":        [row(LOGIN, 403,      OK,        403,      403,          403,      LOGIN),
                                     row(LOGIN, 403,      OK,        403,      403,          403,      LOGIN, method="POST")],
    "reports:import_detail":        row(LOGIN, 403,       OK,        403,      403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.import_job.pk}),
    "reports:import_errors":        row(LOGIN, 403,       OK,        403,      403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.import_job.pk}),
    # Retrying a failed import (this one is done: refused with a message, back to its page).
    "reports:import_retry":         row(LOGIN, 403,       REDIRECT,  403,      403,          403,      LOGIN,
                                        method="POST", kwargs={"pk": lambda w: w.import_job.pk}),
    # A session is no API credential: staff get 401 like anyone without a token. Another
    # organisation's token cannot see or touch this report (404) and an empty body is a 400.
    "api-report-create":            row(401,   401,       401,       401,      401,          401,      400,
                                        method="POST", data={}, json=True),
    "api-report-batch":             row(401,   401,       401,       401,      401,          401,      400,
                                        method="POST", data={}, json=True),
    "api-report-detail":            row(401,   401,       401,       401,      401,          401,      404,
                                        kwargs={"pk": lambda w: w.report.pk}),
    "api-report-evidence":          row(401,   401,       401,       401,      401,          401,      404,
                                        method="POST", kwargs={"pk": lambda w: w.report.pk}),
    # Operator callbacks: only a signature with the platform's callback secret counts; a
    # callback is a POST.
    # Operators forward objections and read their outcome (docs/objections.md): only a
    # signature with the platform's callback secret counts.
    "operator-objections":          [row(401,  401,       401,       401,      401,          401,      401,
                                         method="POST", data={}, json=True),
                                     row(405,   405,      405,       405,      405,          405,      405)],
    "operator-objection":           [row(401,  401,       401,       401,      401,          401,      401,
                                         kwargs={"code": lambda w: w.objection.receipt_code}),
                                     row(405,   405,      405,       405,      405,          405,      405,
                                         method="POST",
                                         kwargs={"code": lambda w: w.objection.receipt_code})],
    "operator-callback":            [row(401,  401,       401,       401,      401,          401,      401,
                                         method="POST", data={}, json=True),
                                     row(405,   405,      405,       405,      405,          405,      405)],
    # --- The review queue and cases: moderators and supervisors act, auditors read.
    "moderation:queue_counts":      row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    "moderation:next_case":         row(LOGIN, REDIRECT,  REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    "moderation:escalated":         row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:bulk_dismiss":      row(LOGIN, 403,       (REDIRECT, 400), 403, 403,         403,      LOGIN, method="POST"),
    "moderation:case":              row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    "moderation:case_claim":        row(LOGIN, REDIRECT,  REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    "moderation:case_heartbeat":    row(LOGIN, (204, 409), (204, 409), 403,    403,          403,      LOGIN, method="POST"),
    "moderation:case_leave":        [row(LOGIN, (204, 409), (204, 409), 403,    403,          403,      LOGIN, method="POST"),
                                     row(405,   405,       405,       405,      405,          405,      405)],
    "moderation:case_decide":       row(LOGIN, (REDIRECT, 400, 409), (REDIRECT, 400, 409), 403, 403, 403, LOGIN, method="POST"),
    # Undo of a decision: only its author, within the window; the service refuses the rest.
    "moderation:decision_undo":     [row(LOGIN, REDIRECT, REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
                                     row(405,   405,       405,       405,      405,          405,      405)],
    "moderation:case_note":         row(LOGIN, (REDIRECT, 400), (REDIRECT, 400), 403, 403,   403,      LOGIN, method="POST"),
    # Takedown proposals for several cases of the account's ring (issue 17): those who decide.
    "moderation:case_ring_propose": [row(LOGIN, REDIRECT, REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
                                     row(405,   405,       405,       405,      405,          405,      405)],
    "moderation:case_release":      row(LOGIN, 403,       REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    "moderation:case_reassign":     row(LOGIN, 403,       (REDIRECT, 400), 403, 403,         403,      LOGIN, method="POST"),
    "moderation:evidence_preference": row(LOGIN, REDIRECT, REDIRECT, REDIRECT, 403,          403,      LOGIN, method="POST"),
    # Reviewer wellbeing (issue 16): everyone who sees evidence has their own settings page
    # and may hide today's break prompt.
    "moderation:evidence_settings": row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    "moderation:wellbeing_break_dismiss": [row(LOGIN, REDIRECT, REDIRECT, REDIRECT, 403,     403,      LOGIN, method="POST"),
                                     row(405,   405,       405,       405,      405,          405,      405)],
    # --- Four-eyes approvals and takedown requests.
    "moderation:approvals":         row(LOGIN, 403,       OK,        403,      403,          403,      LOGIN),
    "moderation:approvals_bulk_approve": row(LOGIN, 403,  (REDIRECT, 400), 403, 403,         403,      LOGIN, method="POST"),
    "moderation:approval_approve":  row(LOGIN, 403,       (REDIRECT, 400), 403, 403,         403,      LOGIN, method="POST"),
    "moderation:approval_reject":   row(LOGIN, 403,       (REDIRECT, 400), 403, 403,         403,      LOGIN, method="POST"),
    "moderation:takedowns":         row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:takedown_detail":   row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:takedown_retry":    row(LOGIN, 403,       REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    "moderation:takedown_cancel":   row(LOGIN, 403,       REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    # --- Objections (issue 18): supervisors decide, auditors read; the owner's pictures as
    # evidence is served. A refused decision (here: no outcome given) is a redirect back to
    # the page with the reason; the restore request's retry and cancel go back there too.
    "moderation:objections":        row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:objection_detail":  row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:objection_decide":  [row(LOGIN, 403,      REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
                                     row(405,   405,       405,       405,      405,          405,      405)],
    "moderation:objection_attachment": row(LOGIN, 403,    OK,        OK,       403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.objection_picture.pk}),
    "moderation:restore_retry":     [row(LOGIN, 403,      REDIRECT,  403,      403,          403,      LOGIN, method="POST",
                                         kwargs={"request_id": lambda w: w.restore.pk}),
                                     row(405,   405,       405,       405,      405,          405,      405,
                                         kwargs={"request_id": lambda w: w.restore.pk})],
    "moderation:restore_cancel":    [row(LOGIN, 403,      REDIRECT,  403,      403,          403,      LOGIN, method="POST",
                                         kwargs={"request_id": lambda w: w.restore.pk}),
                                     row(405,   405,       405,       405,      405,          405,      405,
                                         kwargs={"request_id": lambda w: w.restore.pk})],
    # The public objection form and its status page are for everyone; a POST without a
    # solved proof of work gets the form again with its error (200).
    "moderation:objection_public":  [row(OK,    OK,        OK,        OK,       OK,           OK,       OK),
                                     row(OK,    OK,        OK,        OK,       OK,           OK,       OK, method="POST",
                                         data={"statement": "x"})],
    "moderation:objection_status_lookup": row(OK, OK,     OK,        OK,       OK,           OK,       OK),
    "moderation:objection_status":  row(OK,    OK,        OK,        OK,       OK,           OK,       OK,
                                        kwargs={"code": lambda w: w.objection.receipt_code}),
    # --- Supervisors' dashboard and its numbers.
    "moderation:dashboard_csv":     row(LOGIN, 403,       OK,        403,      403,          403,      LOGIN,
                                        kwargs={"chart": lambda w: "reports"}),
    # --- Auditors: the decision log, the trail, exports, the chain.
    "moderation:audit_decisions":   row(LOGIN, 403,       403,       OK,       403,          403,      LOGIN),
    "moderation:audit_trail":       row(LOGIN, 403,       403,       OK,       403,          403,      LOGIN),
    "moderation:audit_case":        row(LOGIN, 403,       403,       OK,       403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.report.case_id}),
    # GET shows the log's latest checkpoint; POST queues a verification of the whole log and
    # redirects to its page (a 404 for an id that is no verification). The checkpoint
    # download is a 404 until the sequencer has signed one.
    "moderation:audit_chain":       [row(LOGIN, 403,      403,       OK,       403,          403,      LOGIN),
                                     row(LOGIN, 403,      403,       REDIRECT, 403,          403,      LOGIN, method="POST")],
    "moderation:audit_chain_verification": row(LOGIN, 403, 403,      (OK, 404), 403,         403,      LOGIN,
                                        kwargs={"job_id": lambda w: "7d9f3c1e-0b6a-4a53-9a43-2f6f3f1d2c11"}),
    "moderation:audit_checkpoint":  row(LOGIN, 403,       403,       (OK, 404), 403,         403,      LOGIN),
    "moderation:audit_export_create": row(LOGIN, 403,     403,       (REDIRECT, 400), 403,   403,      LOGIN,
                                        method="POST", data={"format": "csv"}),
    "moderation:audit_export":      row(LOGIN, 403,       403,       OK,       403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.export.pk}),
    "moderation:audit_export_download": row(LOGIN, 403,   403,       OK,       403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.export.pk}),
    # The proof bundle: 409 until the log has sealed and signed the export's completion.
    "moderation:audit_export_proof": row(LOGIN, 403,      403,       (OK, 409), 403,         403,      LOGIN,
                                        kwargs={"pk": lambda w: w.export.pk}),
    # Retrying a failed export (this one is done: refused with a message, back to its page).
    "moderation:audit_export_retry": row(LOGIN, 403,      403,       REDIRECT, 403,          403,      LOGIN,
                                        method="POST", kwargs={"pk": lambda w: w.export.pk}),
    # Exports with reporters' contact details wait for a supervisor (not the auditor who asked).
    "moderation:audit_exports_awaiting": row(LOGIN, 403,  OK,        403,      403,          403,      LOGIN),
    "moderation:audit_export_contacts_decide": row(LOGIN, 403, REDIRECT, 403,  403,          403,      LOGIN,
                                        method="POST", data={"verdict": "refuse"},
                                        kwargs={"pk": lambda w: w.export.pk}),
    # --- Retention: supervisors set and clear legal holds; the deletion batches are the
    # auditors' and the supervisors' to read.
    "moderation:case_legal_hold":   row(LOGIN, 403,       REDIRECT,  403,      403,          403,      LOGIN, method="POST"),
    "moderation:retention_batches": row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN),
    "moderation:retention_batch":   row(LOGIN, 403,       OK,        OK,       403,          403,      LOGIN,
                                        kwargs={"sequence": lambda w: retention_batch_of(w)}),
    # --- Accounts and search: everyone who reviews or audits.
    "moderation:account":           row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN,
                                        kwargs={"pk": lambda w: w.report.account_id}),
    "moderation:search":            row(LOGIN, OK,        OK,        OK,       403,          403,      LOGIN),
    # The Django admin: administrators only. It has no sign-in page of its own: its login
    # address sends everyone to ours.
    "admin:*":                      row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, GATE_PASSED, ADMIN_LOGIN, ADMIN_LOGIN),
    "admin:index":                  row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK,          ADMIN_LOGIN, ADMIN_LOGIN),
    # Signed in without the administrator role: refused, not sent to sign in again (which would
    # send them straight back, for ever); an administrator goes on to the admin.
    "admin:login":                  row(LOGIN, 403,       403,       403,      REDIRECT,     403,      LOGIN),
    "admin:logout":                 row(REDIRECT, REDIRECT, REDIRECT, REDIRECT, 405,        REDIRECT, REDIRECT),
}
# fmt: on


def objection_granted(platform):
    """An objection with one picture to a takedown carried out on `platform`, granted by a
    third supervisor: the objection pages' and the restore request's sample. Made through the
    real services, by people who are none of the matrix's own."""
    from config.roles import Role

    takedown = carried_out(
        moderator=UserFactory(roles=[Role.MODERATOR]),
        supervisor=UserFactory(roles=[Role.SUPERVISOR]),
        platform=platform,
    )
    picture = evidence_check(
        SimpleUploadedFile("shop.png", image_bytes(), content_type="image/png")
    )
    objection = objection_receive(
        item=ObjectionInput(
            takedown_id=takedown.pk,
            source="public",
            statement="A batik shop.",
            attachments=[picture],
        ),
        actor=Actor.public(),
    ).objection
    return objection_decide(
        objection_id=objection.pk,
        supervisor=UserFactory(roles=[Role.SUPERVISOR]),
        outcome="granted",
        reason="The shop is real.",
    )


def retention_batch_of(world) -> int:
    """The number of a retention batch's audit event (written once per world)."""
    if not hasattr(world, "retention_batch"):
        world.retention_batch = audit_record(
            actor=Actor.system("retention"),
            action="retention.contacts_erased",
            data={"kind": "contacts", "count": 1, "reports": [world.report.pk], "cases": []},
        ).sequence
    return world.retention_batch


# How path converters are filled, by name, from the objects `world` creates.
SAMPLES: dict[str, Any] = {
    "pk": lambda w: w.evidence.pk,
    "id": lambda w: w.users["administrator"].pk,
    "object_id": lambda w: w.users["administrator"].pk,
    "content_type_id": lambda w: ContentType.objects.get_for_model(w.users["administrator"]).pk,
    "app_label": lambda w: "auth",
    "url": lambda w: "no-such-page/",
    "platform": lambda w: w.platform.slug,
    "report_id": lambda w: w.report.pk,
    "case_id": lambda w: w.report.case_id,
    "decision_id": lambda w: w.proposal.pk,
    "request_id": lambda w: w.takedown.pk,
    "objection_id": lambda w: w.objection.pk,
    "code": lambda w: w.report.receipt_code,
    "queue_index": lambda w: 0,
    "scheduler_index": lambda w: 0,
    "connection_index": lambda w: 0,
    "job_id": lambda w: w.rq_job.id,
    "result_id": lambda w: "no-such-result",
    "key": lambda w: w.rq_worker.key,
    "scheduler_name": lambda w: "no-such-scheduler",
    "cron_job_name": lambda w: "no-such-job",
    "token": lambda w: "guessed-token",
}


@dataclass(frozen=True)
class Endpoint:
    key: str  # what EXPECTED is keyed by
    format: str  # the path with %(name)s placeholders
    params: tuple[str, ...]


def endpoints() -> list[Endpoint]:
    """Every URL pattern of the URL conf, includes walked, as a fillable path."""
    found: list[Endpoint] = []

    def walk(patterns, prefix_formats, namespace, route_prefix):
        for pattern in patterns:
            possibilities = normalize(pattern.pattern.regex.pattern)
            # Optional groups give several paths: take the one that uses the most parameters.
            fmt, params = max(possibilities, key=lambda p: len(p[1]))
            formats = [(f + fmt, [*p, *params]) for f, p in prefix_formats]
            route = route_prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                ns = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, formats, ns, route)
            elif isinstance(pattern, URLPattern):
                key = (
                    f"{namespace}{pattern.name}" if pattern.name else f"{namespace}<unnamed>{route}"
                )
                for f, p in formats:
                    found.append(Endpoint(key, "/" + f, tuple(p)))

    walk(get_resolver().url_patterns, [("", [])], "", "")
    return found


def expectation(key: str) -> list[Row] | None:
    """The rows that classify the URL keyed `key`, or None when no key or glob matches."""
    if key in EXPECTED:
        rule = EXPECTED[key]
    else:
        globs = [k for k in EXPECTED if any(c in k for c in "*?[") and fnmatch.fnmatchcase(key, k)]
        if not globs:
            return None
        rule = EXPECTED[max(globs, key=len)]
    return list(rule) if isinstance(rule, list) else [rule]


def test_every_url_is_classified():
    missing = sorted({e.key for e in endpoints() if expectation(e.key) is None})
    assert not missing, (
        "These URLs are not in EXPECTED of tests/security/test_role_matrix.py. Classify each "
        "one: add a row saying what every role gets (the format is at the top of that file):"
        "\n  " + "\n  ".join(missing)
    )


def test_the_table_names_no_url_that_is_gone():
    keys = {e.key for e in endpoints()}
    stale = sorted(k for k in EXPECTED if not any(c in k for c in "*?[") and k not in keys)
    assert not stale, f"EXPECTED lists URLs the URL conf no longer has: {stale}"


@pytest.fixture
def world(request, client_for):
    """One of everything the URLs point at, and a client per role (signed in for staff)."""
    platform = PlatformFactory(slug="michat")
    owner = SourceOrganisationFactory(slug="owner-org")
    other = SourceOrganisationFactory(slug="other-org", kind="police")
    report = ReportFactory(organisation=owner)
    evidence = make_evidence()
    evidence.report = report
    evidence.save(update_fields=["report"])
    raw = api_token_for(other)
    users = {
        name: request.getfixturevalue(name)
        for name in ("moderator", "supervisor", "auditor", "administrator")
    }
    users["no_role"] = UserFactory(username="no-role")
    # A queued RQ job for the admin's RQ dashboard pages (no worker runs it here).
    rq_job = django_rq.get_queue("default", commit_mode="auto").enqueue("builtins.len", "matrix")
    request.addfinalizer(rq_job.delete)
    queue = django_rq.get_queue("default")
    rq_worker = Worker([queue], connection=queue.connection, name=f"matrix-{secrets.token_hex(4)}")
    rq_worker.register_birth()
    request.addfinalizer(rq_worker.register_death)
    # What the moderation pages point at: a third person's proposal, a takedown request, an
    # auditor's finished export, a supervisor's import.
    proposal = DecisionFactory(moderator=UserFactory(), case=CaseFactory(status="proposed"))
    takedown = TakedownRequestFactory()
    export = Export(requested_by=users["auditor"], format="csv", status="done", rows=0)
    export.file.save("matrix.csv", ContentFile(b"decision_id\n"), save=False)
    export.save()
    import_job = ImportJob(organisation=owner, requested_by=users["supervisor"], status="done")
    import_job.file.save("matrix.csv", ContentFile(b"external_reference\n"), save=False)
    import_job.save()
    objection = objection_granted(platform)
    world = SimpleNamespace(
        objection=objection,
        objection_picture=objection.attachments.get(),
        restore=objection.restore_request,
        proposal=proposal,
        takedown=takedown,
        export=export,
        import_job=import_job,
        platform=platform,
        report=report,
        evidence=evidence,
        users=users,
        other_token=raw,
        rq_job=rq_job,
        rq_worker=rq_worker,
    )

    def client(role: str) -> Client:
        # A crash is reported as the 500 it is, in the list of failures, not as an exception.
        if role == "anonymous":
            return Client(raise_request_exception=False)
        if role == "other_org":
            return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {raw}")
        client = client_for(users[role])
        client.raise_request_exception = False
        return client

    world.client = client
    return world


def outcome_holds(expected, response, method: str) -> bool:
    if isinstance(expected, tuple):
        return any(outcome_holds(e, response, method) for e in expected)
    status = response.status_code
    location = response.get("Location", "")
    redirect = status in {301, 302, 303}
    to_ours = redirect and location.startswith("/login/")
    to_admins = redirect and location.startswith("/admin/login/")
    to_login = to_ours or to_admins
    if expected == OK:
        return status == 200
    if expected == LOGIN:
        # Sent to sign in from a page, a person comes back to it afterwards.
        return to_ours and (method != "GET" or location.startswith("/login/?next="))
    if expected == ADMIN_LOGIN:
        return to_admins
    if expected == REDIRECT:
        return redirect and not to_login
    if expected == GATE_PASSED:
        return not to_login and status < 500
    return status == expected


def fill(endpoint: Endpoint, rule: Row, world) -> str:
    values = {}
    for name in endpoint.params:
        source = rule.kwargs.get(name) or SAMPLES.get(name)
        assert source is not None, (
            f"{endpoint.key}: no sample value for the path parameter {name!r}; add one to "
            "SAMPLES or to the row's kwargs in tests/security/test_role_matrix.py"
        )
        values[name] = source(world)
    return endpoint.format % values


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_design_allows_on_every_url(world, role):
    failures = []
    shared = world.client(role)
    classified = [(e, rule) for e in endpoints() for rule in expectation(e.key) or []]
    # GETs first: a POST such as "sign out everywhere" ends the shared client's session too.
    classified.sort(key=lambda pair: pair[1].method != "GET")
    for endpoint, rule in classified:
        path = fill(endpoint, rule, world)
        expected = rule.outcomes[ROLES.index(role)]
        client = shared if rule.method == "GET" else world.client(role)
        send = getattr(client, rule.method.lower())
        # A savepoint per request: a page that breaks the transaction breaks only itself.
        with transaction.atomic():
            if rule.json:
                response = send(path, rule.data or {}, content_type="application/json")
            else:
                response = send(path, rule.data or {})
            if response.status_code >= 500:
                transaction.set_rollback(True)
        if not outcome_holds(expected, response, rule.method):
            failures.append(
                f"{rule.method} {path} [{endpoint.key}]: expected {expected}, got "
                f"{response.status_code} {response.get('Location', '')}"
            )
        policy = response.get("Content-Security-Policy", "")
        if not policy or "unsafe-inline" in policy:
            failures.append(
                f"{rule.method} {path} [{endpoint.key}]: CSP missing or weak: {policy!r}"
            )
    assert not failures, f"{role}:\n  " + "\n  ".join(failures)


def test_a_signed_in_person_without_the_admin_role_gets_a_403_at_the_admin_not_a_loop(
    client_for, moderator
):
    client = client_for(moderator)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert [url for url, _ in response.redirect_chain] == ["/admin/login/?next=/admin/"]


# --- Restricted categories (issue 16) -------------------------------------------------------
# The same walk over a case in a restricted category (CSAM): every URL about one case, and
# its evidence, for each reviewing or auditing role with and without the Specialist role. A
# specialist gets what EXPECTED gives their base role; anyone else gets 403 where the URL
# shows or acts on the case's content (RESTRICTED_GATED), and what EXPECTED says elsewhere.
RESTRICTED_ROLES = {
    # name: (base role in ROLES, also a specialist)
    "moderator": ("moderator", False),
    "specialist_moderator": ("moderator", True),
    "supervisor": ("supervisor", False),
    "specialist_supervisor": ("supervisor", True),
    "auditor": ("auditor", False),
    "specialist_auditor": ("auditor", True),
}
RESTRICTED_GATED = {
    "reports:evidence",
    "moderation:case",
    "moderation:case_claim",
    "moderation:case_heartbeat",
    "moderation:case_leave",
    "moderation:case_decide",
    "moderation:decision_undo",
    "moderation:case_note",
    "moderation:case_release",
    "moderation:case_reassign",
    "moderation:case_ring_propose",
}
# URLs about one case that stay open to non-specialists, and why.
RESTRICTED_OPEN = {
    # A legal hold keeps evidence from retention; setting it needs no look at the content.
    "moderation:case_legal_hold": "no content shown or changed",
    # Auditors audit every decision; the page hides the reports' texts from non-specialists.
    "moderation:audit_case": "decisions auditable, report texts hidden",
}


def case_endpoints() -> list[Endpoint]:
    return [e for e in endpoints() if "case_id" in e.params or e.key == "moderation:audit_case"]


def test_every_url_about_one_case_is_classified_for_restricted_categories():
    keys = {e.key for e in case_endpoints()}
    unclassified = sorted(keys - RESTRICTED_GATED - set(RESTRICTED_OPEN))
    assert not unclassified, f"classify in RESTRICTED_GATED or RESTRICTED_OPEN: {unclassified}"


@pytest.mark.parametrize("name", list(RESTRICTED_ROLES))
def test_only_specialists_open_a_restricted_case_and_its_evidence(world, client_for, name):
    from accounts.categories import Category
    from config.roles import Role
    from moderation.models import Case

    Case.objects.filter(pk=world.report.case_id).update(category=Category.CHILD_SEXUAL_ABUSE)
    base, specialist = RESTRICTED_ROLES[name]
    roles = {"moderator": Role.MODERATOR, "supervisor": Role.SUPERVISOR, "auditor": Role.AUDITOR}
    user = UserFactory(
        username=f"r-{name}", roles=[roles[base], *([Role.SPECIALIST] if specialist else [])]
    )

    def client() -> Client:
        signed_in = client_for(user)
        signed_in.raise_request_exception = False
        return signed_in

    shared = client()
    classified = [
        (e, rule)
        for e in [*case_endpoints(), *[e for e in endpoints() if e.key == "reports:evidence"]]
        for rule in expectation(e.key) or []
    ]
    classified.sort(key=lambda pair: pair[1].method != "GET")
    failures = []
    for endpoint, rule in classified:
        path = fill(endpoint, rule, world)
        expected = rule.outcomes[ROLES.index(base)]
        if not specialist and endpoint.key in RESTRICTED_GATED and expected != 405:
            expected = 403  # a wrong method is still refused as such first
        elif endpoint.key == "moderation:case_heartbeat" and expected == (204, 409):
            expected = (204, 409, OK)  # holding no claim here, the page is told it is lost
        send = getattr(shared if rule.method == "GET" else client(), rule.method.lower())
        with transaction.atomic():
            response = send(path, rule.data or {})
            if response.status_code >= 500:
                transaction.set_rollback(True)
        if not outcome_holds(expected, response, rule.method):
            failures.append(
                f"{rule.method} {path} [{endpoint.key}]: expected {expected}, got "
                f"{response.status_code} {response.get('Location', '')}"
            )
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)
