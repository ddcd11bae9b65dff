"""Headers, the Content-Security-Policy, evidence never rendered as a page, and the cap on
request bodies (issue 7, "Headers and settings" and "Uploads"). Who may open evidence at all
is the role matrix's (test_role_matrix.py)."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from config.bodylimit import RequestBodyLimit
from tests.support import ROOT
from tests.support.env import production_env
from tests.support.intake import make_evidence
from tests.support.signin import keep_test_connection

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_strict_csp(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    for name, value in STRICT.items():
        assert policy.get(name) == value, (name, policy)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_every_page_has_the_strict_policy_and_the_usual_headers(client_for, moderator):
    for client, path in [(Client(), "/login/"), (client_for(moderator), "/queue/")]:
        response = client.get(path)
        assert response.status_code == 200
        assert_strict_csp(response)
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_htmx_is_told_not_to_inject_its_indicator_styles(client_for, moderator):
    page = client_for(moderator).get("/queue/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in page


def test_no_template_has_inline_script_style_or_handlers():
    offenders = []
    pattern = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|\sstyle=|<style|\son[a-z]+=|\shx-on",
        re.IGNORECASE,
    )
    for template in (ROOT / "templates").rglob("*.html"):
        for match in pattern.finditer(template.read_text()):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
    assert not offenders, "inline script/style breaks the CSP:\n" + "\n".join(offenders)


def test_the_api_docs_page_needs_no_inline_script():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data:"  # Swagger UI's icons, on this page only
    page = response.content.decode()
    assert "<style" not in page
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attributes for attributes in scripts)
    init = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    script = Client().get(init)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_production_settings_send_hsts_and_secure_cookies():
    code = (
        "import json; from django.test import Client;"
        "r = Client().get('/login/', secure=True, HTTP_HOST='saring.komdigi.go.id');"
        "c = r.cookies['csrftoken'];"
        "print(json.dumps({'status': r.status_code, 'hsts': r.get('Strict-Transport-Security'),"
        "'csrf_secure': bool(c['secure']), 'csrf_samesite': c['samesite'],"
        "'csp': r.get('Content-Security-Policy')}));"
        "from django.conf import settings as s;"
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG]))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    response, flags = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert response["status"] == 200
    assert response["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert response["csrf_secure"] and response["csrf_samesite"] == "Lax"
    assert "frame-ancestors 'none'" in response["csp"]
    assert flags == [True, True, "Lax", True, True, False]


def test_debug_is_off_unless_asked_for():
    env = production_env()
    code = "from django.conf import settings; print(settings.DEBUG)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


# --- Evidence ------------------------------------------------------------------------------------


def test_evidence_that_is_not_an_image_is_only_ever_downloaded(client_for, moderator):
    evidence = make_evidence(b"<html><script>alert(1)</script></html>", "text/html")
    response = client_for(moderator).get(f"/evidence/{evidence.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    # The view's own sandboxing policy wins over the site-wide one.
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


@pytest.mark.parametrize("persona", ["moderator", "supervisor", "auditor"])
def test_evidence_images_are_sandboxed_too(request, client_for, persona):
    evidence = make_evidence()
    response = client_for(request.getfixturevalue(persona)).get(f"/evidence/{evidence.pk}/")
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


# --- Request body cap ------------------------------------------------------------------------


def wsgi_post(app, path: str, body: bytes, *, declared: int | None) -> tuple[str, bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(
        REQUEST_METHOD="POST",
        PATH_INFO=path,
        HTTP_HOST="127.0.0.1",
        SERVER_NAME="127.0.0.1",
        CONTENT_TYPE="application/x-www-form-urlencoded",
    )
    environ["wsgi.input"] = io.BytesIO(body)
    if declared is not None:
        environ["CONTENT_LENGTH"] = str(declared)
    else:
        environ.pop("CONTENT_LENGTH", None)
    status: list[str] = []
    with keep_test_connection():
        chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
        return status[0], b"".join(chunks)


def test_the_site_runs_behind_the_body_cap(settings):
    from config.wsgi import application

    assert isinstance(application, RequestBodyLimit)
    assert application.limit == settings.REQUEST_BODY_MAX_BYTES


def test_a_body_declared_over_the_cap_is_refused_before_it_is_read():
    app = RequestBodyLimit(WSGIHandler(), limit=1024)
    body = io.BytesIO(b"x" * 5000)
    environ_status, content = wsgi_post(app, "/login/", body.getvalue(), declared=5000)
    assert environ_status.startswith("413")
    assert b"Request body too large" in content


def test_a_body_read_past_the_cap_is_refused_even_without_a_length():
    def reads_everything(environ, start_response):
        data = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(len(data)).encode()]

    app = RequestBodyLimit(reads_everything, limit=1024)
    status, _ = wsgi_post(app, "/", b"x" * 4096, declared=None)
    assert status.startswith("413")
    status, content = wsgi_post(app, "/", b"x" * 512, declared=None)
    assert (status, content) == ("200 OK", b"512")


def test_a_body_under_the_cap_reaches_django():
    app = RequestBodyLimit(WSGIHandler(), limit=1024)
    status, _ = wsgi_post(app, "/login/", b"username=a&password=b", declared=21)
    assert status.startswith("403")  # Django's CSRF check answered: the body got through
