from __future__ import annotations

import pytest
from django.test import Client

from config.roles import Role
from tests.support.browser import ARTIFACTS
from tests.support.factories import UserFactory


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", roles=[Role.MODERATOR])


@pytest.fixture
def moderator2(db):
    return UserFactory(username="moderator2", roles=[Role.MODERATOR])


@pytest.fixture
def specialist(db):
    """A moderator who also holds the Specialist role (CSAM and terrorism cases)."""
    return UserFactory(username="specialist", roles=[Role.MODERATOR, Role.SPECIALIST])


@pytest.fixture
def specialist_supervisor(db):
    return UserFactory(username="supervisor-specialist", roles=[Role.SUPERVISOR, Role.SPECIALIST])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", roles=[Role.SUPERVISOR])


@pytest.fixture
def auditor(db):
    return UserFactory(username="auditor", roles=[Role.AUDITOR])


@pytest.fixture
def administrator(db):
    return UserFactory(username="admin", is_staff=True, roles=[Role.ADMINISTRATOR])


@pytest.fixture
def client_for():
    """A Django test client signed in as the given user.

    For a person who must use two-factor sign-in (supervisors, auditors, administrators) it also
    creates a confirmed TOTP device and marks the session verified by it, as django-otp does
    after a right code, so page tests stay simple. The session is written directly rather
    than through `force_login`, so no sign-in audit event is added to what a test counts."""

    def make(user) -> Client:
        from tests.support.signin import signed_in_client

        return signed_in_client(user)

    return make


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright. Missing: a failure in CI, a skip elsewhere."""
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install the chromium package")
        pytest.skip(f"browser tests need {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    context = chromium.new_context(locale="en-US", timezone_id="Asia/Jakarta")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


class LiveServer:
    def __init__(self, url: str) -> None:
        self.url = url

    def __str__(self) -> str:
        return self.url


@pytest.fixture
def site_server(transactional_db):
    """The app on a real port, serving static files through WhiteNoise as in production.

    pytest-django's own fixture serves /static/ from the finders, which know nothing of the
    hashed names the manifest storage writes into pages."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", static_handler=lambda _app: WSGIHandler())
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield LiveServer(f"http://127.0.0.1:{thread.port}")
    thread.terminate()


@pytest.fixture(autouse=True)
def _audit_trail_flushable(request):
    """A transactional test ends with one TRUNCATE of every table, which the audit trail's
    trigger refuses by design. Around such a test only, the TRUNCATE trigger is switched off
    for the flush and on again for the next test; the code under test never sees it off."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from tests.support.auditlog import AUDIT_TABLES

    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_refuse_truncate")
    yield
    with connection.cursor() as cursor:
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_refuse_truncate")


# --- Intake (issue 3) ---------------------------------------------------------------------


@pytest.fixture
def ministry_token(db):
    """(organisation, token in clear) of the ministry, with the MiChat platform present."""
    from reports.services.tokens import api_token_issue
    from tests.support.intake import michat, organisation

    michat()
    org = organisation("kominfo", "ministry")
    _token, plain = api_token_issue(organisation=org, label="crawler")
    return org, plain


@pytest.fixture
def police_token(db):
    from reports.services.tokens import api_token_issue
    from tests.support.intake import michat, organisation

    michat()
    org = organisation("polri", "police")
    _token, plain = api_token_issue(organisation=org, label="patrol")
    return org, plain
