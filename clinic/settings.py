"""Settings for every deployment, read from the environment.

Two shapes share this one file:

* the embedded default (nothing set): SQLite under ``var/``, Celery on its filesystem
  transport under ``var/celery/``, e-mail written to ``var/mail/``;
* production: ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL``, ``EMAIL_HOST`` and friends,
  with ``DJANGO_DEBUG`` off and ``SECRET_KEY`` required.

Every variable is read through :func:`env`, which records its name in ``ENV_VARS`` so
tests can check that README and docker-compose.yml speak of the same variables. In
development a variable may also come from the ``.env`` file that ``make run`` writes
(``clinic.local_env``); the real environment wins, and with DJANGO_DEBUG off the file is
ignored.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

from clinic import local_env

BASE_DIR = Path(__file__).resolve().parent.parent

ENV_VARS: dict[str, str] = {}
# The development .env's values (empty until read below, and in production).
_LOCAL_ENV: dict[str, str] = {}


def env(name: str, default: str = "", *, doc: str) -> str:
    """Read one variable (the real environment, else the development .env) and remember it
    (with its meaning) in ENV_VARS."""
    ENV_VARS[name] = doc
    return os.environ.get(name, _LOCAL_ENV.get(name, default))


def env_bool(name: str, default: bool, *, doc: str) -> bool:
    return local_env.is_on(env(name, "1" if default else "0", doc=doc))


def env_list(name: str, default: str = "", *, doc: str) -> list[str]:
    return [item.strip() for item in env(name, default, doc=doc).split(",") if item.strip()]


ENV_FILE = env(
    "ENV_FILE",
    str(local_env.DEFAULT_PATH),
    doc="The .env that `make run` writes and local commands read (empty: none); ignored with DJANGO_DEBUG off.",
)
_LOCAL_ENV = local_env.development_values(Path(ENV_FILE), environ=os.environ) if ENV_FILE else {}

DEBUG = env_bool("DJANGO_DEBUG", False, doc="1 for local development; never in production.")

VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var"), doc="Folder for local state (SQLite, mail, broker, uploads)."))

NO_SIGNING_KEY_MESSAGE = (
    "SECRET_KEY is not set. Production (DJANGO_DEBUG off) refuses to start without it: "
    "set SECRET_KEY to a long random value, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
)
SECRET_KEY = env("SECRET_KEY", doc="Django's signing key; required when DJANGO_DEBUG is off.")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(NO_SIGNING_KEY_MESSAGE)
    # Development only: a fixed key keeps sessions across restarts of `make run`.
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    "localhost,127.0.0.1,[::1]" if DEBUG else "",
    doc="Comma-separated host names the site answers to.",
)
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", doc="Comma-separated origins (https://clinic.example.org) allowed to POST."
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_htmx",
    "csp",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "phonenumber_field",
    "clinic",
    "conditions",
    "referrals",
    "scheduling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The access helpers and services record the request's IP and path through it.
    "clinic.audit.AuditOriginMiddleware",
    "clinic.user_sessions.SessionLifetimeMiddleware",
    # After authentication (they ask who is asking) and above the second-factor gate,
    # so the gate's redirects carry CSP, Permissions-Policy and no-store too.
    "csp.middleware.CSPMiddleware",
    "clinic.middleware.SecurityHeadersMiddleware",
    # request.user.is_verified(): whether this session passed a second factor (django-otp).
    "django_otp.middleware.OTPMiddleware",
    # Users who must use a second factor reach nothing but login, logout and the MFA pages
    # until they pass it (clinic.mfa_gate).
    "clinic.mfa_gate.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------

DATABASE_URL = env(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
    doc="Database URL; default SQLite under VAR_DIR, production postgres://user:pass@host:5432/name.",
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock when a transaction starts, so a check-then-write
        # (is this slot free? then insert) cannot interleave with another writer.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory: the integration tier starts a separate Celery worker that must
    # see the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    VAR_DIR.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")

# --- Users, login, sessions -------------------------------------------------------------

AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day: reset and invitation links expire

# Login throttling: five failures for one account from one address locks it for 15 minutes.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5", doc="Failed logins before a lockout."))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15", doc="Lockout length in minutes.")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the e-mail address as "username" (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
# A client's failures are forgotten when a login is complete, not at the password alone:
# otherwise knowing the password would buy fresh guesses at the second factor after every
# few wrong codes (clinic.mfa.failed_logins_forget does the reset instead).
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Every way of typing one address is one identity (clinic.login_identity), and the client's
# address is the one the outermost of PROXY_COUNT proxies saw (clinic.client_ip), for the
# lockout and the audit log alike.
AXES_USERNAME_CALLABLE = "clinic.login_identity.axes_username"
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"
PROXY_COUNT = int(
    env(
        "PROXY_COUNT",
        "0",
        doc="Reverse proxies in front of the app that append X-Forwarded-For (1 behind the TLS proxy; 0 ignores it).",
    )
)

# Two-factor authentication (clinic.mfa): TOTP apps, with recovery codes for a lost phone.
MFA_REQUIRED_FOR_STAFF = env_bool(
    "MFA_REQUIRED_FOR_STAFF",
    True,
    doc="1: clinic staff (intake, schedulers, providers, clinic admins, superusers) must use a second factor.",
)
MFA_REQUIRED_FOR_REFERRERS = env_bool(
    "MFA_REQUIRED_FOR_REFERRERS",
    False,
    doc="1: referring physicians must use a second factor too (otherwise they may choose to).",
)
OTP_TOTP_ISSUER = "Pain Management Referrals"
# A wrong second-factor code is not kept in django-axes' record of failed attempts.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]  # axes' default, plus the code

# PHI on screen: sessions end after an idle period and when the browser closes.
SESSION_COOKIE_AGE = 60 * int(env("SESSION_IDLE_MINUTES", "60", doc="Minutes of inactivity before logout."))
SESSION_SAVE_EVERY_REQUEST = True
# However active, a login lasts at most this long (clinic.user_sessions.SessionLifetimeMiddleware).
SESSION_ABSOLUTE_HOURS = int(
    env("SESSION_ABSOLUTE_HOURS", "12", doc="Hours after login when a session ends however active.")
)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Security (production) -------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, images and frames from this site only;
# inline script never, an inline <style> only with the response's nonce (the calendars'
# procedure colours); no plugins, not framed, forms and <base> to this site only. Bootstrap's
# CSS draws its icons (select arrow, navbar toggler) as data: SVG images. A sent e-mail's HTML
# part is its own response with its own policy (clinic.message_views.html_part_policy).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:"],
        "frame-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
# Read whether or not they apply, so ENV_VARS names every variable in every deployment.
_ssl_redirect = env_bool("SECURE_SSL_REDIRECT", True, doc="Redirect plain HTTP to HTTPS (production).")
_hsts_seconds = int(env("SECURE_HSTS_SECONDS", "31536000", doc="HSTS max-age in seconds (production)."))
_trust_proxy_proto = env_bool(
    "TRUST_X_FORWARDED_PROTO", False, doc="1 behind a TLS proxy that sets X-Forwarded-Proto (production)."
)
if not DEBUG:
    SECURE_SSL_REDIRECT = _ssl_redirect
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if _trust_proxy_proto:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Time and language -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", "America/Chicago", doc="Default zone for dates not tied to a location.")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles"), doc="Where collectstatic puts files."))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded records hold PHI: they live outside every served folder and are streamed only
# by views that check who is asking. There is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "uploads"), doc="Private folder for uploaded records."))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

PHONENUMBER_DEFAULT_REGION = "US"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- E-mail --------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env(
    "DEFAULT_FROM_EMAIL",
    "Institute of Interventional Pain Management <no-reply@clinic.localhost>",
    doc="From address of every e-mail.",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env("EMAIL_HOST", doc="SMTP host; when unset, e-mails are written to VAR_DIR/mail.")
EMAIL_PORT = int(env("EMAIL_PORT", "587", doc="SMTP port."))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", doc="SMTP user name.")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", doc="SMTP password.")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True, doc="STARTTLS to the SMTP server.")
EMAIL_TIMEOUT = float(env("EMAIL_TIMEOUT", "20", doc="Seconds one SMTP exchange may take before it counts as failed."))
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- The outgoing-message ledger (clinic.outbox) ------------------------------------------

# A message left "sending" this long belongs to a worker that died mid-send: the sweep puts it
# back in the queue.
OUTBOX_STALE_CLAIM_SECONDS = float(
    env("OUTBOX_STALE_CLAIM_SECONDS", "900", doc="Seconds before a message stuck in sending is queued again.")
)
# Releasing a claim while its worker is still alive, only slow, would send the message twice.
# A live worker holds a claim for one send, and every SMTP exchange of that send (connect,
# EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, end of data) is bounded by EMAIL_TIMEOUT, so the
# stale-claim interval must exceed the sum of those by a margin: ten timeouts.
if OUTBOX_STALE_CLAIM_SECONDS < 10 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured(
        f"OUTBOX_STALE_CLAIM_SECONDS ({OUTBOX_STALE_CLAIM_SECONDS:g}) must be at least ten times EMAIL_TIMEOUT "
        f"({EMAIL_TIMEOUT:g}): a claim released while its worker is still sending would send the message twice."
    )
# The sweep hands a due row to the broker once, and again only if it is still queued this long
# after: by then the hand-off was lost (Redis restarted without persistence, a worker died).
OUTBOX_REDISPATCH_SECONDS = float(
    env("OUTBOX_REDISPATCH_SECONDS", "600", doc="Seconds before the sweep hands a still-queued message over again.")
)
# After the n-th failed attempt the message waits the n-th delay; after the last, it is failed.
OUTBOX_RETRY_DELAYS_SECONDS = [
    float(value)
    for value in env_list(
        "OUTBOX_RETRY_DELAYS_SECONDS",
        "60,300,900,3600,14400",
        doc="Comma-separated waits (seconds) after each failed send; one more failure marks the message failed.",
    )
]

# --- Celery ----------------------------------------------------------------------------------

REDIS_URL = env("REDIS_URL", doc="Redis URL (redis://host:6379/0); used as the Celery broker when set.")
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    REDIS_URL or "filesystem://",
    doc="Celery broker; default REDIS_URL, else the filesystem transport under VAR_DIR/celery.",
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # In and out must be the same folder: producers and consumers meet there.
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # kombu does not create its folders.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Request paths in log lines ("Not Found: /p/confirm/<token>/") lose their tokens.
    "filters": {"redact_tokens": {"()": "clinic.log_redaction.RedactTokens"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]}},
    # Django's own handlers for "django" (a second console in DEBUG, mail_admins) and for
    # runserver's request lines would write request paths unredacted: ours instead.
    "loggers": {
        "django": {"handlers": [], "propagate": True},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO", doc="Root log level.")},
}

# --- The clinic --------------------------------------------------------------------------------

SITE_URL = env("SITE_URL", "http://localhost:8000", doc="The site's public base URL, for links in e-mails.").rstrip("/")
PATIENT_LINK_MAX_AGE_DAYS = int(
    env(
        "PATIENT_LINK_MAX_AGE_DAYS",
        "30",
        doc="Days a patient's e-mailed link (confirm, change, follow-up) stays valid.",
    )
)
CLINIC_HOLIDAY_COUNTRY = env(
    "CLINIC_HOLIDAY_COUNTRY", "US", doc="Country whose public holidays the clinic may observe (holidays library)."
)
# How many years of observed holidays exist ahead of today (this year plus the next two).
CLINIC_HOLIDAY_YEARS_AHEAD = 2
