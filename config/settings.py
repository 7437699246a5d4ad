"""Kinship settings, read from the environment.

Defaults are the safe production ones (DEBUG off, secure cookies, HSTS, strict CSP). `make run` sets
``KINSHIP_ENV=development`` for a local profile: DEBUG on, plain-HTTP cookies, a generated secret kept in ``var/``.

Environment variables: KINSHIP_ENV, SECRET_KEY, DEBUG, ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, DATABASE_URL,
REDIS_URL, NOTIFY_API_KEY, NOTIFY_BASE_URL, JANUS_NODES, JANUS_ADMIN_URLS, JANUS_ADMIN_SECRET, JANUS_ADMIN_KEY,
JANUS_RTP_PORT_RANGE, JANUS_HTTP_ACL, JANUS_RECORDINGS_DIR, KINSHIP_MEDIA_ROOT, KINSHIP_VAR_DIR,
KINSHIP_SECURE_COOKIES.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Lets classes such as ModelAdmin[Model] be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KINSHIP_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


KINSHIP_ENV = os.environ.get("KINSHIP_ENV", "production")
DEVELOPMENT = KINSHIP_ENV in {"development", "test"}
TESTING = KINSHIP_ENV == "test"


def _development_secret() -> str:
    """A secret generated once per checkout and kept under var/ (ignored by git), never committed."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or (_development_secret() if DEVELOPMENT else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set outside development (see README: Configuration).")

DEBUG = _env_bool("DEBUG", KINSHIP_ENV == "development")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEVELOPMENT else "")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "kinship.core",
    "kinship.audit",
    "kinship.establishments",
    "kinship.accounts",
    "kinship.people",
    "kinship.bookings",
    "kinship.safeguarding",
    "kinship.calls",
    "kinship.recordings",
    # Background tasks: Django's own django.tasks with the database backend and its db_worker (django-tasks-db).
    "django_tasks_db",
    "kinship.notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kinship.core.middleware.RequestIdMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kinship.accounts.middleware.StaffTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kinship" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kinship.core.context_processors.kinship",
            ],
            "builtins": ["kinship.core.templatetags.govuk"],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kinship.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # Tests use a file, not SQLite's default in-memory database: with an in-memory database Django shares one
    # connection between the test and every thread of the live server, and a page that loads two things at once
    # (the browser tests) then corrupts that connection's transaction state.
    # One file per test run (its processes share the tag through the environment), so two runs in the same
    # checkout never create and delete each other's database.
    _test_run = os.environ.setdefault("KINSHIP_TEST_RUN", str(os.getpid()))
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-database-{_test_run}.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DATABASE_POOL", ""
).strip().lower() in {"1", "true", "yes", "on"}:
    # Django's psycopg pool (psycopg[pool]), one per process: under ASGI every request otherwise opens (and
    # closes) its own PostgreSQL connection. A pool does not mix with persistent connections.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "20")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "30")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get(
    "DATABASE_PREPARED_STATEMENTS", "on"
).strip().lower() not in {"0", "false", "no", "off"}:
    # The statements kinship.core.prepared sends (a booking decision's reads, and a few more that every booking
    # request runs) are prepared by PostgreSQL the first time they run on a connection, so it plans them once
    # per connection instead of every time: planning was most of PostgreSQL's work for a booking request (ADR
    # 0006). Only those statements: every other one keeps Django's client-side binding and is never prepared.
    # Off (DATABASE_PREPARED_STATEMENTS=off) behind a pooler that cannot carry prepared statements, such as
    # PgBouncer before 1.21 in transaction mode.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Hashing dominates test time; the algorithm is not what the tests check.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"

# Lock an account/IP pair out after repeated failures (django-axes); the lockout page explains what to do.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Sessions and cookies: secure unless the local development profile says otherwise.
SECURE_COOKIES = _env_bool("KINSHIP_SECURE_COOKIES", not DEVELOPMENT)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 8
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", not DEVELOPMENT)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEVELOPMENT else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEVELOPMENT
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# A strict Content Security Policy: our own origin only, inline scripts only with the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Collected for production; development and tests serve straight from the finders (no collectstatic).
STATIC_ROOT = None if DEVELOPMENT else VAR_DIR / "staticfiles"
# Compiled GOV.UK / MoJ Frontend assets (npm run build); app-specific files live in each app's static/.
STATICFILES_DIRS = [BASE_DIR / "frontend" / "dist"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEVELOPMENT
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded identity documents live outside the web root and are never given a public URL:
# staff views stream them after checking role and establishment.
# In development and tests WhiteNoise serves straight from the finders, so no collectstatic is needed.
WHITENOISE_USE_FINDERS = DEVELOPMENT
MEDIA_ROOT = Path(os.environ.get("KINSHIP_MEDIA_ROOT", VAR_DIR / "private"))
FILE_UPLOAD_PERMISSIONS = 0o600
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Email for account links (verification, password reset). The console backend prints them; set EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend and the EMAIL_* variables to send them.
_email_options: dict[str, object] = {
    key: value
    for key, value in {
        "host": os.environ.get("EMAIL_HOST"),
        "port": int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT") else None,
        "username": os.environ.get("EMAIL_HOST_USER"),
        "password": os.environ.get("EMAIL_HOST_PASSWORD"),
        "use_tls": _env_bool("EMAIL_USE_TLS", True) if os.environ.get("EMAIL_HOST") else None,
    }.items()
    if value is not None
}
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
        "OPTIONS": _email_options,
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kinship@localhost")

# GOV.UK Notify: empty key means the log backend (messages written to the log, nothing sent).
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
# Our wording lives in kinship/notifications/messages.py; each Notify template only places it: an email template
# with subject ((subject)) and body ((body)), a text message template with body ((body)).
NOTIFY_EMAIL_TEMPLATE_ID = os.environ.get("NOTIFY_EMAIL_TEMPLATE_ID", "")
NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
NOTIFY_TIMEOUT_SECONDS = int(os.environ.get("NOTIFY_TIMEOUT_SECONDS", "10"))

# Background tasks (django.tasks). The database backend keeps tasks in PostgreSQL/SQLite for the worker
# (`manage.py db_worker`, the Procfile's worker); the test profile runs them inline, at the moment they are
# enqueued (which for booking notifications is when the booking's transaction commits).
TASKS = {
    "default": {
        "BACKEND": (
            "django.tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}


# Janus (the media plane; kinship/calls/media, docs/adr/0007-media-plane.md). JANUS_NODES lists each node's HTTP API
# URL, comma-separated; JANUS_ADMIN_URLS, when set, the matching admin API URLs (otherwise the same host on port
# 7088, path /admin). The admin secret and the VideoRoom admin key are shared by every node; development generates
# them once into var/ (never committed). They stay server-side: nothing passes them to a template or to JSON.
def _janus_admin_url(node_url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(node_url)
    return urlunsplit((parts.scheme, f"{parts.hostname}:7088", "/admin", "", ""))


def _development_janus_secret(name: str) -> str:
    path = VAR_DIR / name
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


JANUS_NODES = _env_list("JANUS_NODES", "http://127.0.0.1:8088/janus" if DEVELOPMENT else "")
JANUS_ADMIN_URLS = _env_list("JANUS_ADMIN_URLS") or [_janus_admin_url(url) for url in JANUS_NODES]
if len(JANUS_ADMIN_URLS) != len(JANUS_NODES):
    raise ImproperlyConfigured("JANUS_ADMIN_URLS must name one admin URL per entry of JANUS_NODES.")
JANUS_ADMIN_SECRET = os.environ.get("JANUS_ADMIN_SECRET") or (
    _development_janus_secret("janus_admin_secret") if DEVELOPMENT else ""
)
JANUS_ADMIN_KEY = os.environ.get("JANUS_ADMIN_KEY") or (
    _development_janus_secret("janus_admin_key") if DEVELOPMENT else ""
)
if JANUS_NODES and not (JANUS_ADMIN_SECRET and JANUS_ADMIN_KEY):
    raise ImproperlyConfigured("JANUS_ADMIN_SECRET and JANUS_ADMIN_KEY must be set with JANUS_NODES.")
_janus_ports = os.environ.get("JANUS_RTP_PORT_RANGE", "20000-20999").split("-")
JANUS_RTP_PORT_RANGE = (int(_janus_ports[0]), int(_janus_ports[1]))
JANUS_HTTP_ACL = _env_list("JANUS_HTTP_ACL")
JANUS_REQUEST_TIMEOUT_SECONDS = float(os.environ.get("JANUS_REQUEST_TIMEOUT_SECONDS", "10"))
# Sessions with a VideoRoom handle attached that each web process keeps ready per node, so that joining a call
# skips two round trips to Janus (kinship/calls/media/janus.py); 0 turns them off.
JANUS_SPARE_HANDLES = int(os.environ.get("JANUS_SPARE_HANDLES", "4"))
# Prison recordings (PF 1.3): Janus writes each call's raw .mjr files into a folder of its own under this one.
JANUS_RECORDINGS_DIR = Path(os.environ.get("JANUS_RECORDINGS_DIR", VAR_DIR / "recordings"))
# The media server the call lifecycle uses (kinship/calls/provider.py): a dotted path to a MediaServer class (built
# with its from_settings when it has one) or factory. Default: the Janus client when JANUS_NODES is set; empty means
# media is not configured (call actions show an error page saying so). Tests use the in-memory FakeMediaServer.
KINSHIP_MEDIA_SERVER = os.environ.get(
    "KINSHIP_MEDIA_SERVER", "kinship.calls.media.janus.JanusMediaServer" if JANUS_NODES else ""
)


# Log-in rate limit per client address, on top of the axes lockout (attempts per window).
LOGIN_RATE_LIMIT = int(os.environ.get("LOGIN_RATE_LIMIT", "20"))
LOGIN_RATE_WINDOW_SECONDS = 300

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# Django Channels (the call signalling WebSocket, kinship/calls/consumers.py): one process's memory by default;
# with REDIS_URL every process (the web server, the clock) shares one layer, so state pushes reach every browser.
CHANNEL_LAYERS: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}
}
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }

# Staff must use a TOTP second factor; development may turn this off for demo log-ins.
KINSHIP_REQUIRE_STAFF_2FA = _env_bool("KINSHIP_REQUIRE_STAFF_2FA", True)
OTP_TOTP_ISSUER = "Kinship"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # httpx logs every Janus request at INFO; warnings and errors are what operators need.
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# Tasks the clock process (manage.py clock) enqueues every few minutes: each app lists its own periodic work.
KINSHIP_PERIODIC_TASKS = [
    "kinship.notifications.tasks.requeue_notifications",
    "kinship.notifications.tasks.send_reminders",
    "kinship.notifications.tasks.poll_delivery_status",
    "kinship.safeguarding.tasks.safeguarding_deadlines_pass",
    "kinship.calls.tasks.calls_tick",
    "kinship.recordings.tasks.recordings_tick",
]
