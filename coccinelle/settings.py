"""All settings, read from the environment (see .env.example for every variable).

One module on purpose: what differs between a laptop and production is the environment, not the code.
With nothing set, Coccinelle runs in DEBUG on a SQLite file with Celery tasks executed in-process.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for development; real deployments pass the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto (and, on demand, X-Forwarded-Host) so that
# the URLs Django rebuilds are the public ones.
if env.bool("USE_PROXY_HEADERS", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=True)
    USE_X_FORWARDED_PORT = env.bool("USE_X_FORWARDED_PORT", default=False)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)

INSTALLED_APPS = [
    "customers.admin_site.CoccinelleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "customers",
    "webhooks",
    "crm_backends",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from STATIC_ROOT under gunicorn (the pages use no CDN).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "customers.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "coccinelle.urls"
WSGI_APPLICATION = "coccinelle.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; wait for the lock instead of failing when two requests write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="fr")
LANGUAGES = [("fr", "Français"), ("en", "English")]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
LOCALE_PATHS = [BASE_DIR / "locale"]

# The dashboard's sign-in (django.contrib.auth.urls under /accounts/); the admin keeps its own login.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/dashboard/customers/"
LOGOUT_REDIRECT_URL = "login"

# E-mail: console in development; set EMAIL_URL (smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Coccinelle <noreply@localhost>")

# Celery. Without REDIS_URL the embedded default runs every task in-process, so no broker is needed.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "refresh-segments-nightly": {
        "task": "customers.tasks.refresh_all_segments",
        "schedule": 24 * 60 * 60,
    },
    "resend-stuck-outbound": {
        "task": "webhooks.tasks.resend_stuck_outbound",
        "schedule": 5 * 60,
    },
}

# Provider and CRM credentials, kept under the names the original handoff used. Each integration is on
# when its credentials are set; the issues that use them read them from here.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
WHATSAPP_ACCESS_TOKEN = env.str("WHATSAPP_ACCESS_TOKEN", default="")
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
HUBSPOT_ACCESS_TOKEN = env.str("HUBSPOT_ACCESS_TOKEN", default="")
SALESFORCE_CLIENT_ID = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_REFRESH_TOKEN = env.str("SALESFORCE_REFRESH_TOKEN", default="")
SALESFORCE_LOGIN_URL = env.str("SALESFORCE_LOGIN_URL", default="https://login.salesforce.com")
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="v67.0")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
# API hosts, overridable so that a local fake (tests, staging) can stand in for the real service.
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
WHATSAPP_GRAPH_BASE = env.str("WHATSAPP_GRAPH_BASE", default="https://graph.facebook.com")
WHATSAPP_GRAPH_VERSION = env.str("WHATSAPP_GRAPH_VERSION", default="v23.0")

# Webhook signatures (Twilio X-Twilio-Signature, Meta X-Hub-Signature-256) are always checked; turning
# the check off is for local experiments only and refused outside DEBUG.
WEBHOOK_VERIFY_SIGNATURES = env.bool("WEBHOOK_VERIFY_SIGNATURES", default=True)
if not WEBHOOK_VERIFY_SIGNATURES and not DEBUG:
    raise ImproperlyConfigured("WEBHOOK_VERIFY_SIGNATURES=0 is refused when DEBUG is off.")
# Providers never send more than this; anything bigger is refused before it is read.
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES

# Automatic replies: at most this many per customer per hour (two bots must not talk forever).
AUTO_REPLY_MAX_PER_HOUR = env.int("AUTO_REPLY_MAX_PER_HOUR", default=3)
# Optional LLM engine; off while LLM_PROVIDER is empty ("openai" for any OpenAI-compatible server, or
# "anthropic"). LLM_API_KEY falls back to OPENAI_API_KEY.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=8.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# CRM sync (crm_backends). Keys that encrypt CRM credentials at rest: comma-separated, the first
# encrypts, all decrypt (put a new key first to rotate). Empty: derived from SECRET_KEY.
CRM_ENCRYPTION_KEYS = env.list("CRM_ENCRYPTION_KEYS", default=[])
CRM_SYNC_MAX_ATTEMPTS = env.int("CRM_SYNC_MAX_ATTEMPTS", default=8)
# How often Celery beat sweeps the outbox for work left behind (a broker outage, a crashed worker).
CRM_SYNC_SWEEP_SECONDS = env.int("CRM_SYNC_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["crm-sync-sweep"] = {
    "task": "crm_backends.tasks.sweep_outbox",
    "schedule": CRM_SYNC_SWEEP_SECONDS,
}
