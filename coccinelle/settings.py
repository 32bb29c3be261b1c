"""All settings, read from the environment (see .env.example for every variable).

One module on purpose: what differs between a laptop and production is the environment, not the code.
With nothing set, Coccinelle runs in DEBUG on a SQLite file, with Celery on a folder of files (no broker
server to install).
"""

from datetime import timedelta
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
# the URLs Django rebuilds are the public ones, and its X-Forwarded-For for the client's address.
USE_PROXY_HEADERS = env.bool("USE_PROXY_HEADERS", default=False)
if USE_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=True)
    USE_X_FORWARDED_PORT = env.bool("USE_X_FORWARDED_PORT", default=False)
# How many proxies in front append to X-Forwarded-For; the client is that many entries from the right.
PROXY_COUNT = env.int("PROXY_COUNT", default=1)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")

if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)


def _given(name: str) -> bool:
    # `NAME=` (as .env.example writes it) means "the default", not "off".
    return bool(env.str(name, default="").strip())


# HTTPS only, once a TLS proxy is in front: on by default when DEBUG is off behind USE_PROXY_HEADERS.
# Without a proxy gunicorn speaks plain HTTP, where a redirect to https:// would reach nothing.
_HTTPS = USE_PROXY_HEADERS and not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT") if _given("SECURE_SSL_REDIRECT") else _HTTPS
# The container health check calls http://127.0.0.1:8000/healthz from inside. HealthCheckMiddleware
# answers it before the redirect; the exemption keeps it so should the middleware order ever change.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# One year, what browsers' preload lists expect; start lower (e.g. 3600) when first trying HTTPS.
_HSTS_DEFAULT = 365 * 24 * 3600 if _HTTPS else 0
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS") if _given("SECURE_HSTS_SECONDS") else _HSTS_DEFAULT
SECURE_HSTS_INCLUDE_SUBDOMAINS = (
    env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS") if _given("SECURE_HSTS_INCLUDE_SUBDOMAINS") else _HTTPS
)
# Off unless asked: preloading binds the whole registered domain to HTTPS for months, beyond this app.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

INSTALLED_APPS = [
    "customers.admin_site.CoccinelleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files for /api/docs/, served from our static files (no CDN).
    "drf_spectacular_sidecar",
    "axes",
    "customers",
    "catalog",
    "webhooks",
    "crm_backends",
    "eshops",
    "shopinfo",
    "analytics",
]

MIDDLEWARE = [
    # First: /healthz is answered over plain HTTP whatever the Host header, before the HTTPS redirect
    # and the ALLOWED_HOSTS check (see coccinelle/middleware.py).
    "coccinelle.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from STATIC_ROOT under gunicorn (the pages use no CDN).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The admin in the shop's language, like the pages (after the user is known).
    "customers.middleware.AdminLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "customers.middleware.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "customers.context_processors.inbox",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections in production: opening a PostgreSQL connection costs a few milliseconds, more
# than the one INSERT a webhook does. Each gunicorn thread and each Celery process keeps its own (see
# gunicorn.conf.py for the sizing). With DEBUG on (runserver, scripts/run) connections close after each
# request, as Django does by default. The health check (a cheap ping when a request starts on a reused
# connection) replaces one the database dropped instead of failing the request.
_CONN_MAX_AGE = env.int("CONN_MAX_AGE") if _given("CONN_MAX_AGE") else (0 if DEBUG else 60)
DATABASES["default"].setdefault("CONN_MAX_AGE", _CONN_MAX_AGE)
DATABASES["default"].setdefault(
    "CONN_HEALTH_CHECKS",
    env.bool("CONN_HEALTH_CHECKS")
    if _given("CONN_HEALTH_CHECKS")
    else bool(DATABASES["default"]["CONN_MAX_AGE"]),
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the Celery worker and beat share the file. SQLite serialises writers: wait up to
    # 20 s for the lock instead of failing; take it when a transaction begins (IMMEDIATE), since a read
    # transaction that later tries to write is refused at once ("database is locked") rather than
    # waiting; and write-ahead logging lets readers go on while someone writes.
    _sqlite = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite.setdefault("timeout", 20)
    _sqlite.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL")

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

# Files customers send (webhooks.media): Django's default storage, local files under MEDIA_ROOT, outside
# the static folders and never served by whitenoise or the web server: only /dashboard/media/<id>/ serves
# them, to the shop's own people. The web server and the worker must share this folder (one volume).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT")) if _given("MEDIA_ROOT") else BASE_DIR / "var" / "media"
MEDIA_URL = "/dashboard/media/files/"  # never routed: storage URLs are not used to serve these files
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# MEDIA_STORAGE=s3 keeps these files in an S3-compatible bucket instead (django-storages): private
# objects (no ACL), under media/ in the bucket, never overwritten. They are still served only through
# /dashboard/media/<id>/, which streams them from the bucket: the bucket's URLs are never handed out.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local").strip().lower() or "local"
if MEDIA_STORAGE not in ("local", "s3"):
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}.")
if MEDIA_STORAGE == "s3":
    if not _given("MEDIA_S3_BUCKET"):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("MEDIA_S3_BUCKET").strip(),
            # Empty: AWS itself; otherwise the S3-compatible service's URL (MinIO, Scaleway, OVH...).
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="").strip() or None,
            "region_name": env.str("MEDIA_S3_REGION", default="").strip() or None,
            # Empty: boto3's own lookup (AWS_* variables, an instance or task role).
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="").strip() or None,
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="").strip() or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "location": "media",
        },
    }
# Larger files are refused (shown as such on the timeline). WhatsApp allows 5 MB images, 16 MB audio
# and video, 100 MB documents; MMS stays under 5 MB. 16 MB keeps every photo, voice note and video.
MEDIA_MAX_BYTES = env.int("MEDIA_MAX_BYTES", default=16 * 1024 * 1024)
# A download failing for a passing reason (network, 5xx, 429) is tried again after
# MEDIA_RETRY_BASE_SECONDS, doubling (at most 30 minutes apart), MEDIA_MAX_ATTEMPTS times in all.
MEDIA_MAX_ATTEMPTS = env.int("MEDIA_MAX_ATTEMPTS", default=5)
MEDIA_RETRY_BASE_SECONDS = env.int("MEDIA_RETRY_BASE_SECONDS", default=30)
LOCALE_PATHS = [BASE_DIR / "locale"]

# The dashboard's sign-in (django.contrib.auth.urls under /accounts/); the admin keeps its own login.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/dashboard/customers/"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes) on both sign-in pages: after LOGIN_FAILURE_LIMIT wrong passwords for
# one username from one address, that pair is locked for LOGIN_LOCKOUT_MINUTES (0: until ops unlock it
# with `manage.py axes_reset_username`). Username *and* address together, on purpose: by username alone
# anyone could lock a shop owner out from everywhere by typing wrong passwords; by address alone, one
# shop's staff behind one router would lock each other out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=_LOCKOUT_MINUTES) if _LOCKOUT_MINUTES > 0 else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "coccinelle.signin.lockout_response"
# Behind a proxy REMOTE_ADDR is the proxy: read X-Forwarded-For, but only when USE_PROXY_HEADERS says so.
AXES_CLIENT_IP_CALLABLE = "coccinelle.signin.client_ip"
# Failed attempts are kept (that is the throttling); successful sign-ins are not logged in the database.
AXES_DISABLE_ACCESS_LOG = True
# No banner on every manage.py command. Lockouts are still logged (WARNING, username and address masked:
# people type passwords into the username box); `manage.py axes_list_attempts` shows who is locked.
AXES_VERBOSE = False

# E-mail: console in development; set EMAIL_URL (smtp+tls://user:pass@host:587) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Coccinelle <noreply@localhost>")

# Celery. No web request runs a task (a provider send, an LLM call, a CRM push): a worker does, with or
# without Redis. With REDIS_URL, Redis is the broker. Without it, the embedded default: kombu's
# filesystem transport, one file per message under CELERY_BROKER_DIR, so that scripts/run starts a real
# worker and beat beside the web server with no server to install. Tests run tasks eagerly
# (tests/conftest.py); CELERY_TASK_ALWAYS_EAGER=1 does the same here, and makes requests wait on them.
REDIS_URL = env.str("REDIS_URL", default="")
# A relative CELERY_BROKER_DIR is read from BASE_DIR, so that every process finds the same folder.
CELERY_BROKER_DIR = BASE_DIR / (env.str("CELERY_BROKER_DIR", default="").strip() or ".celery-broker")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # One folder both ways: the web process writes there, the worker reads there.
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.25,  # seconds between looks at the folder when it is empty
    }
    for _folder in ("queue", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_BROKER_DIR / "beat-schedule")
    # Remote control broadcasts to every worker that ever ran; with files nobody would clean them up.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fix-up closes the database connection around every task unless this is set; it then
# closes it only every this many tasks, and coccinelle/celery.py applies CONN_MAX_AGE and the health
# check around each task instead, as Django does around a request.
CELERY_DB_REUSE_MAX = 1000
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
    # Holds (catalog.holds): expired ones free their units within minutes; reminders ~2 h before.
    "expire-holds": {
        "task": "catalog.tasks.expire_holds",
        "schedule": 5 * 60,
    },
    "remind-holds": {
        "task": "catalog.tasks.remind_holds",
        "schedule": 10 * 60,
    },
    # Back in stock (catalog.alerts): within minutes of units coming back, whatever brought them back.
    "send-stock-alerts": {
        "task": "catalog.tasks.send_stock_alerts",
        "schedule": 5 * 60,
    },
}

# Django's cache holds what every inbound event looks up (a receiving address's shop, whether the shop
# pushes to a CRM: coccinelle/cache.py), as ids and plain values, never credentials. With Redis every
# process shares it and a change saved anywhere deletes the keys at once (signal handlers); its keys are
# prefixed so that they never meet Celery's, and expire after LOOKUP_CACHE_SECONDS in case a change
# bypasses the signals (a queryset update, raw SQL). Without Redis the web server, the worker and beat
# share no memory: each keeps its own copy, which a change made in another process cannot delete, so
# it lives only LOOKUP_CACHE_SECONDS_LOCAL (a new number or CRM connection reaches the worker within that).
LOOKUP_CACHE_SECONDS = env.int("LOOKUP_CACHE_SECONDS") if _given("LOOKUP_CACHE_SECONDS") else 300
LOOKUP_CACHE_SECONDS_LOCAL = (
    env.int("LOOKUP_CACHE_SECONDS_LOCAL") if _given("LOOKUP_CACHE_SECONDS_LOCAL") else 30
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coccinelle-cache",
            "TIMEOUT": LOOKUP_CACHE_SECONDS,
            # A cache that does not answer must not hold up the worker: coccinelle/cache.py then reads
            # the database instead.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": LOOKUP_CACHE_SECONDS_LOCAL,
        }
    }

# The REST API (coccinelle/api/, each app's api/ package). JSON in and out; an API key or the pages'
# session; every error as {"error", "detail", "fields"}; calls per key and minute counted in the cache.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coccinelle.api.authentication.ApiKeyAuthentication",
        "coccinelle.api.authentication.ShopSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["coccinelle.api.permissions.ShopScope"],
    "DEFAULT_THROTTLE_CLASSES": ["coccinelle.api.throttling.PerKeyThrottle"],
    "DEFAULT_PAGINATION_CLASS": "coccinelle.api.pagination.Cursor",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "coccinelle.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coccinelle API",
    "DESCRIPTION": "A shop's customers, notes, orders, messages, tags and catalogue. Authenticate with "
    "`Authorization: Bearer <API key>`; every error is JSON: "
    '`{"error": code, "detail": text, "fields": {field: [messages]}}`.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Schema and docs are public: they describe the API, and every call still needs a key.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name for the channels' choice set, whichever field carries it (a customer's preferred channel,
    # a message's channel): without it the schema names it twice and drf-spectacular warns.
    "ENUM_NAME_OVERRIDES": {"ChannelEnum": "customers.models.Channel"},
}

# Provider and CRM credentials, kept under the names the original handoff used. Each integration is on
# when its credentials are set; the issues that use them read them from here.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
WHATSAPP_ACCESS_TOKEN = env.str("WHATSAPP_ACCESS_TOKEN", default="")
WHATSAPP_VERIFY_TOKEN = env.str("WHATSAPP_VERIFY_TOKEN", default="")
WHATSAPP_APP_SECRET = env.str("WHATSAPP_APP_SECRET", default="")
# Without a provider's credentials, sends go to the built-in sandbox (webhooks/providers/sandbox.py):
# recorded as delivered there, nothing reaches a phone. Unset (None) follows DEBUG; 1 or 0 wins.
MESSAGING_SANDBOX = env.bool("MESSAGING_SANDBOX") if env.str("MESSAGING_SANDBOX", default="") else None
HUBSPOT_ACCESS_TOKEN = env.str("HUBSPOT_ACCESS_TOKEN", default="")
SALESFORCE_CLIENT_ID = env.str("SALESFORCE_CLIENT_ID", default="")
SALESFORCE_CLIENT_SECRET = env.str("SALESFORCE_CLIENT_SECRET", default="")
SALESFORCE_REFRESH_TOKEN = env.str("SALESFORCE_REFRESH_TOKEN", default="")
SALESFORCE_LOGIN_URL = env.str("SALESFORCE_LOGIN_URL", default="https://login.salesforce.com")
SALESFORCE_API_VERSION = env.str("SALESFORCE_API_VERSION", default="v67.0")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
# API hosts, overridable so that a local fake (tests, staging) can stand in for the real service.
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
TWILIO_CONTENT_BASE = env.str(
    "TWILIO_CONTENT_BASE", default="https://content.twilio.com"
)  # WhatsApp templates
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

# Inbound events (webhooks.inbound_events): the webhook stores each event and a worker processes it. A
# failed attempt is retried with exponential backoff from INBOUND_RETRY_BASE_SECONDS (with jitter), and
# after INBOUND_MAX_ATTEMPTS the event stays failed, visible in the admin until someone reprocesses it.
INBOUND_MAX_ATTEMPTS = env.int("INBOUND_MAX_ATTEMPTS", default=6)
INBOUND_RETRY_BASE_SECONDS = env.int("INBOUND_RETRY_BASE_SECONDS", default=30)
# How often beat hands over events left behind (the broker was down) and retries that are due.
INBOUND_SWEEP_SECONDS = env.int("INBOUND_SWEEP_SECONDS", default=30)
# A web process that saw the "task queued" flag up this recently publishes no task without asking Redis
# (webhooks.inbound_events.wake_worker); a task that processed events looks once more a second after.
INBOUND_WAKEUP_LOCAL_SECONDS = env.float("INBOUND_WAKEUP_LOCAL_SECONDS", default=0.5)
CELERY_BEAT_SCHEDULE["inbound-events-sweep"] = {
    "task": "webhooks.tasks.sweep_inbound_events",
    "schedule": INBOUND_SWEEP_SECONDS,
}
# Turns whose reply task never ran (the broker was down when it was scheduled) are answered by beat.
CELERY_BEAT_SCHEDULE["unanswered-turns-sweep"] = {
    "task": "webhooks.tasks.sweep_unanswered_turns",
    "schedule": 60,
}
# Media downloads whose task never ran (broker down) or whose worker died mid-way.
CELERY_BEAT_SCHEDULE["media-download-sweep"] = {
    "task": "webhooks.tasks.sweep_media_downloads",
    "schedule": 5 * 60,
}

# Replies a worker's batch recorded are sent to the provider this many at a time (threads waiting on
# HTTP; the database work stays in the task's own thread). 1 sends them one after the other.
OUTBOUND_SEND_CONCURRENCY = env.int("OUTBOUND_SEND_CONCURRENCY", default=8)

# Automatic replies: at most this many per customer per hour (two bots must not talk forever).
# A stock conversation is several answers (which size? -> on l'a en 38, je la mets de côté ? -> "oui" ->
# gardée jusqu'à demain) plus a hello; two bots answering each other still stop within the hour.
AUTO_REPLY_MAX_PER_HOUR = env.int("AUTO_REPLY_MAX_PER_HOUR", default=6)
# Seconds the worker waits after a customer's message before answering: the messages sent meanwhile are
# one turn and get one automatic reply (webhooks/autoreply.py).
AUTO_REPLY_DEBOUNCE_SECONDS = env.float("AUTO_REPLY_DEBOUNCE_SECONDS", default=5.0)
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
# The analytics' daily rows of the shops with new activity (analytics.aggregate.stats_refresh): the page
# is this fresh.
CELERY_BEAT_SCHEDULE["refresh-analytics"] = {"task": "analytics.tasks.refresh_stats", "schedule": 5 * 60}
# The Monday summaries: hourly, so that each shop's morning comes in its own time zone (analytics.weekly).
CELERY_BEAT_SCHEDULE["analytics-weekly-summaries"] = {
    "task": "analytics.tasks.send_weekly_summaries",
    "schedule": 60 * 60,
}
# CRM calls go only to the vendors' own hosts (https on *.hubapi.com, *.salesforce.com, *.force.com).
# Other host names listed here (comma-separated, e.g. a local fake: 127.0.0.1,localhost) may be used in
# a connection's api_base / login_url too, with that connection's own credentials: HUBSPOT_ACCESS_TOKEN
# and SALESFORCE_* go to the vendor (or to SALESFORCE_LOGIN_URL as set here) only. Empty by default.
CRM_ALLOWED_HOSTS = env.list("CRM_ALLOWED_HOSTS", default=[])

# Outgoing webhooks (crm_backends/outgoing): only https:// URLs on hosts resolving to public addresses,
# checked on save and before every delivery. 1 lifts the check (local development, the tests' loopback
# receiver); never in production, where it lets a shop owner reach the private network.
OUTGOING_WEBHOOKS_ALLOW_PRIVATE = env.bool("OUTGOING_WEBHOOKS_ALLOW_PRIVATE", default=False)
# How often Celery beat hands retries whose backoff has passed (and work left behind) to a worker.
OUTGOING_WEBHOOKS_SWEEP_SECONDS = env.int("OUTGOING_WEBHOOKS_SWEEP_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["outgoing-webhooks-sweep"] = {
    "task": "crm_backends.outgoing.tasks.sweep_webhooks",
    "schedule": OUTGOING_WEBHOOKS_SWEEP_SECONDS,
}

# E-shop sync (eshops): a full catalogue sync of every connection this often (webhooks keep it current
# between). Shopify tokens go only to https://<store>.myshopify.com and WooCommerce keys to https sites;
# hosts listed in ESHOPS_ALLOWED_HOSTS (a local fake) may be called over http too, and
# ESHOPS_SHOPIFY_BASE_URL replaces https://<store> (tests, staging). Both empty in production.
ESHOPS_SYNC_SECONDS = env.int("ESHOPS_SYNC_SECONDS", default=6 * 3600)
# How far back the first full sync reads orders (Shopify gives 60 days without read_all_orders).
ESHOPS_ORDERS_DAYS = env.int("ESHOPS_ORDERS_DAYS", default=60)
ESHOPS_ALLOWED_HOSTS = env.list("ESHOPS_ALLOWED_HOSTS", default=[])
ESHOPS_SHOPIFY_BASE_URL = env.str("ESHOPS_SHOPIFY_BASE_URL", default="")
CELERY_BEAT_SCHEDULE["eshops-full-sync"] = {"task": "eshops.tasks.sync_all", "schedule": ESHOPS_SYNC_SECONDS}
CELERY_BEAT_SCHEDULE["eshops-events-sweep"] = {"task": "eshops.tasks.sweep_events", "schedule": 5 * 60}
