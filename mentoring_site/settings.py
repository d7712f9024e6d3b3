"""Continuum settings: one module, configured from the environment.

Every variable is read through a small helper that fails loudly on a bad value.
See README.md, "Configuration", for the list.
"""

import os
import re
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mentoring_site import logs

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


def env_admins(name: str) -> list[tuple[str, str]]:
    """``Name <a@example.org>, b@example.org`` as Django's ``ADMINS`` pairs; an entry
    without an address fails loudly. A name with a comma needs quotes."""
    raw = env_str(name)
    pairs = getaddresses([raw])
    bad = [person or address for person, address in pairs if not _EMAIL.fullmatch(address)]
    if bad:
        raise ImproperlyConfigured(f"{name} must be comma-separated email addresses, got {raw!r}")
    return [(person or address, address) for person, address in pairs]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


DEBUG = env_bool("DEBUG", default=False)
# Outside DEBUG a missing key stays empty instead of stopping here: commands that sign
# nothing (migrate, collectstatic) still run, Django refuses any use of an empty key, and
# manage.py and wsgi.py refuse to serve or run the rest with one line (startup.py).
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-for-debug"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "csp",
    "axes",
    "relationships",
    "assessments",
    "audit",
    "django_ratelimit",
    "django_tasks",
    "django_tasks_db",
    "delivery",
    "jobs",
]

MIDDLEWARE = [
    # first, so every response (even a redirect to HTTPS) and every log line has the id
    "mentoring_site.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mentoring_site.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mentoring_site.middleware.PrivatePagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # after sessions, before CommonMiddleware: the language cookie, else Accept-Language
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # a participant's own language on sign-in, their program's languages on their pages
    "mentoring_site.languages.ParticipantLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # a session opened by an invitation link stays inside that survey
    "assessments.survey.scope.LinkScopeMiddleware",
    # a throttled form (django-ratelimit) gets the 429 page of RATELIMIT_VIEW
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # django-axes last: it turns a locked-out sign-in into the lockout page (DESIGN §10)
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out account is refused before its password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mentoring_site.urls"
WSGI_APPLICATION = "mentoring_site.wsgi.application"

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
                "mentoring_site.languages.switcher",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if url:
        if not url.startswith(("postgres://", "postgresql://", "sqlite://")):
            raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL.")
        return dj_database_url.parse(url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
    # SQLite needs WAL and IMMEDIATE transactions to survive concurrent writers.
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_USER_MODEL = "relationships.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
# The languages of the interface; each needs a catalogue in locale/ (README, "Languages").
# A program offers some or all of them to its participants (Program.languages).
LANGUAGES = [
    ("en", _("English")),
    ("es", _("Spanish")),
    ("fr", _("French")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The choice outlives the browser session; no script reads it.
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.min.js exactly as the plotly package ships it (DESIGN §10)
    "mentoring_site.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND", "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Continuum <continuum@localhost>")
# An API mail provider instead of SMTP (docs/delivery.md): EMAIL_BACKEND set to one of
# django-anymail's backends, the provider's settings as ANYMAIL_<NAME> variables
# (ANYMAIL_MAILGUN_API_KEY=…, ANYMAIL_WEBHOOK_SECRET=user:pass); its tracking webhook
# is then served under /anymail/ and bounces mark their message failed.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_")
}
ANYMAIL_WEBHOOKS = EMAIL_BACKEND.startswith("anymail.")
if ANYMAIL_WEBHOOKS:
    INSTALLED_APPS += ["anymail"]

# Background work (DESIGN §9) through Django's task framework API (django-tasks): a queue
# in this database by default, so one machine needs no other service; TASKS_BACKEND=redis
# runs the tasks on RQ workers instead; "immediate" runs each task inside the caller.
TASKS_BACKEND = env_str("TASKS_BACKEND", "database").strip().lower()
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {sorted(_TASK_BACKENDS)}.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if TASKS_BACKEND == "redis":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {
            "URL": env_str("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "DEFAULT_TIMEOUT": env_int("RQ_JOB_TIMEOUT", 3600),
        }
    }

# Delivery of invitations, reminders and coordinator notices (docs/delivery.md).
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 100)
DELIVERY_PARALLEL_TASKS = env_int("DELIVERY_PARALLEL_TASKS", 4)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)


def _whole_seconds(name: str, default: str) -> list[int]:
    values = env_list(name, default)
    if not values or not all(v.isdigit() for v in values):
        raise ImproperlyConfigured(f"{name} must be comma-separated whole seconds, got {values!r}")
    return [int(v) for v in values]


# Waits before each retry after a temporary mail-server failure; the last one repeats.
DELIVERY_RETRY_SECONDS = _whole_seconds("DELIVERY_RETRY_SECONDS", "60,300,1800,7200")
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 600)
DELIVERY_SCHEDULE_SECONDS = env_int("DELIVERY_SCHEDULE_SECONDS", 60)
DELIVERY_REMINDER_GAP_HOURS = env_int("DELIVERY_REMINDER_GAP_HOURS", 12)
DELIVERY_ALERT_WINDOW_DAYS = env_int("DELIVERY_ALERT_WINDOW_DAYS", 14)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Sign-in rate limiting: five failures for one account from one address lock that pair
# out for a cool-off period (django-axes' default lock would be permanent).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mentoring_site.signin.locked_out"
AXES_USERNAME_CALLABLE = "mentoring_site.signin.attempted_email"
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (axes would guess "email")
AXES_VERBOSE = False

# Content-Security-Policy (django-csp 4): our own origin only; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Requests: bodies and field counts far above any real survey page or CSV are refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 300)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 8)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# A load balancer or monitor asks the app server directly over plain HTTP: /healthz
# answers it rather than redirecting to HTTPS (it shows nothing personal).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# Trust X-Forwarded-Proto only behind a proxy that sets it (and strips it from clients);
# otherwise any client could claim HTTPS.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Throttles count the client the proxy saw (the last X-Forwarded-For entry), not
    # the proxy itself, which would put every visitor in one bucket.
    RATELIMIT_IP_META_KEY = "mentoring_site.signin.forwarded_client"

# Shared cache: the throttles' counters. One process (make run) needs nothing more;
# several web processes share Redis (REDIS_URL), so a limit holds across them.
REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if not REDIS_URL:
    # One process's memory is shared by everything that process serves (make run); with
    # several web processes each counts alone, so deployments set REDIS_URL (README).
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
# Forms that send email or check a secret (assessments.survey.accounts): 429 page.
RATELIMIT_VIEW = "assessments.survey.accounts.rate_limited"
# Sign-in links emailed on request are short-lived and work once.
SIGNIN_LINK_MINUTES = env_int("SIGNIN_LINK_MINUTES", 20)

# Logs: one JSON object a line on the console outside DEBUG (mentoring_site.logs), text in
# development; every line carries the request id (mentoring_site.request_id). gunicorn
# writes the access log (gunicorn.conf.py).
LOG_FORMAT = env_choice("LOG_FORMAT", ("json", "text"), "text" if DEBUG else "json")
LOG_LEVEL = env_choice("LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), "warning")
LOGGING = logs.logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# Error reports: mail to ADMINS ("Name <a@example.org>, b@example.org") from SERVER_EMAIL,
# with posted values hidden (error_reports.py); Sentry as well when SENTRY_DSN is set.
ADMINS = env_admins("ADMINS")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[Continuum] "
DEFAULT_EXCEPTION_REPORTER_FILTER = "mentoring_site.error_reports.PrivateReporterFilter"
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from mentoring_site.sentry import sentry_start

    sentry_start(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE") or None,
    )
