"""Verity settings: one module, driven by the environment.

Without DATABASE_URL / REDIS_URL everything is embedded (SQLite, the in-memory
channel layer, Celery tasks run eagerly) so one command runs the product on a
bare machine. With them, the same code runs on PostgreSQL, channels-redis and
real Celery workers. docs/configuration.md lists every variable.
"""

import base64
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kyc.env import env_bool, env_int, env_list, env_str
from kyc.net import parse_networks, parse_trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VERITY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)


def _generated_once(file_name: str, make) -> str:
    """Safe dev default for a secret: made once per installation by ``make``
    and kept in var/ (owner-only), so a bare-machine run never shares it
    with anybody else."""
    key_file = VAR_DIR / file_name
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    value = make()
    key_file.write_text(value)
    key_file.chmod(0o600)
    return value


def _secret_key() -> str:
    return env_str("SECRET_KEY") or _generated_once("secret_key", lambda: secrets.token_urlsafe(50))


SECRET_KEY = _secret_key()

# Links in e-mails and API answers are built from this, never from the
# request's Host header (a forged Host would otherwise phish with our links).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_public_host = urlparse(PUBLIC_BASE_URL).hostname or "127.0.0.1"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", sorted({"127.0.0.1", "localhost", _public_host}))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR
# ranges, comma-separated). Empty: the header is ignored. See kyc/net.py.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
parse_trusted_proxies(TRUSTED_PROXIES)  # a typo fails at start-up

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # The floors, lowest first (README › Layout; .importlinter enforces them).
    "accounts",
    "sessions_app",
    "workflows",
    "operators",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kyc.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "operators.middleware.StaffSessionTimeoutMiddleware",
    "operators.middleware.SecondFactorEnrolmentMiddleware",
    # After the session and the user are known, before CSRF's process_view
    # reads request.POST: no body is parsed for somebody who may not send it.
    "kyc.body_limits.RequestBodyLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in that axes refused into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kyc.urls"
ASGI_APPLICATION = "kyc.asgi.application"
WSGI_APPLICATION = None

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

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # CONN_MAX_AGE stays 0 (connections are pooled instead: see "Signaling
    # off the database" below).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue
                # instead of one failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels and Celery ----------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The pub/sub layer: group_send works from disconnect() (channels_redis
    # #372) and it held ~1,000 messages/s at 2,000 clients here. Delivery is
    # still at most once; the call never depends on one message arriving.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    # The default capacity (100 messages a channel) drops group messages
    # silently when a busy consumer falls behind a burst of ICE candidates.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}}

# Throttle counts live here: in Redis they are shared by every daphne process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "verity",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# With acks_late, a task whose worker was killed outright (main process and
# all) stays unacknowledged in Redis until this many seconds have passed, then
# goes to another worker. Celery's default is an hour: a check or a recording
# would wait that long. It must exceed the longest task (checks stop at 150 s)
# and every countdown, or a running task is handed out twice. Each worker
# looks for such tasks every 10 s (kombu's default looks every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}

# Where the automated checks run when there is no broker (embedded mode):
# "background" (a thread in the web process hands each capture to a worker
# process beside it, so neither seconds of OCR nor native code holding the
# interpreter ever stall a call's signaling; kyc/background.py), "inline" (in the request that stored the capture,
# after its commit) or "off". With a broker they always go to the workers.
# Tests set "off" unless they are about the checks (tests/conftest.py).
CHECKS_EMBEDDED_MODES = ("background", "inline", "off")
CHECKS_EMBEDDED_MODE = env_str("CHECKS_EMBEDDED_MODE", "background").lower()
if CHECKS_EMBEDDED_MODE not in CHECKS_EMBEDDED_MODES:
    raise ImproperlyConfigured(
        f"CHECKS_EMBEDDED_MODE={CHECKS_EMBEDDED_MODE!r} is not one of {', '.join(CHECKS_EMBEDDED_MODES)}"
    )

# --- Signaling off the database: presence leases, kept connections ------------
# Heartbeats renew a lease in this cache (kyc/presence.py), never a row; the
# database hears of joins, departures and lapses only. Its own alias, so the
# leases of thousands of sockets are never culled with the throttle counts
# (LocMemCache keeps 300 entries by default).
if REDIS_URL:
    CACHES["presence"] = {**CACHES["default"], "KEY_PREFIX": "verity-presence"}
else:
    CACHES["presence"] = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "verity-presence",
        "OPTIONS": {"MAX_ENTRIES": 200_000},
    }
# A call socket re-checks that its person may still be in the call (link not
# revoked, call not ended, operator still signed in) on a heartbeat at most
# this often; every change made through the services nudges the sockets at
# once (the embedded checks' when a capture's checks are done), so this
# bounds only what a lost nudge or a sign-out takes.
SIGNALING_RECHECK_SECONDS = env_int("SIGNALING_RECHECK_SECONDS", 30)
# PostgreSQL: Django's connection pool (psycopg-pool). Opening a connection was
# a third of a small query's cost, and CONN_MAX_AGE > 0 leaks connections
# under ASGI (a thread per request); a pooled connection goes back to the pool
# when Django closes it. DATABASE_POOL_MAX_SIZE bounds the backends of one process.
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASE_POOL_MIN_SIZE = env_int("DATABASE_POOL_MIN_SIZE", 2)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
DATABASE_POOL_TIMEOUT_SECONDS = env_int("DATABASE_POOL_TIMEOUT_SECONDS", 10)
if DATABASE_URL and DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": DATABASE_POOL_MIN_SIZE,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": DATABASE_POOL_TIMEOUT_SECONDS,
    }
# SQLite (embedded) keeps CONN_MAX_AGE = 0. Kept connections (600 s) were
# tried: 40 sockets and page loads left 16 connections open on the file (a
# thread per HTTP request under ASGI keeps its own; with 0 they stay within
# the test's bound of 8),
# tests/consumers/test_database_connections_are_bounded.py. The per-close WAL
# checkpoint is paid far less often instead: heartbeats no longer reach the
# database, and a connect reaches it once.

# --- Files ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence (documents, faces, recordings) lives outside any served folder and
# is only ever streamed through views that check who is asking.
EVIDENCE_ROOT = Path(env_str("EVIDENCE_ROOT", str(VAR_DIR / "evidence")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": env_str("STATICFILES_STORAGE", "kyc.storage.VerityStaticFilesStorage")},
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Verity <no-reply@localhost>")

# --- SMS (one-time codes at the end of a call; kyc/sms.py) ---------------------
# kyc.sms.ConsoleBackend logs the message, kyc.sms.FileBackend appends one JSON
# line per message to SMS_FILE_PATH/messages.jsonl (development, browser tests),
# kyc.sms.HttpBackend POSTs JSON to SMS_HTTP_URL with the bearer SMS_HTTP_TOKEN
# (the provider; through the egress policy like a webhook).
SMS_BACKEND = env_str("SMS_BACKEND", "kyc.sms.ConsoleBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_HTTP_URL = env_str("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN", "")
SMS_HTTP_TIMEOUT_SECONDS = env_int("SMS_HTTP_TIMEOUT_SECONDS", 10)
SMS_SENDER = env_str("SMS_SENDER", "Verity")
# A one-time code is good for this long, for this many wrong entries, and a
# customer gets at most this many codes per call.
ONE_TIME_CODE_TTL_SECONDS = env_int("ONE_TIME_CODE_TTL_SECONDS", 300)
ONE_TIME_CODE_MAX_ATTEMPTS = env_int("ONE_TIME_CODE_MAX_ATTEMPTS", 5)
ONE_TIME_CODE_MAX_SENDS = env_int("ONE_TIME_CODE_MAX_SENDS", 5)

# --- WebRTC -----------------------------------------------------------------
ICE_STUN_URLS = env_list("ICE_STUN_URLS", [])
ICE_TURN_URLS = env_list("ICE_TURN_URLS", [])
# TURN REST API convention (coturn `use-auth-secret`): credentials are an
# HMAC of "expiry:user" with this shared secret, valid for a limited time.
TURN_SHARED_SECRET = env_str("TURN_SHARED_SECRET", "")
TURN_CREDENTIAL_TTL_SECONDS = env_int("TURN_CREDENTIAL_TTL_SECONDS", 3600)
# "relay": browsers use TURN only, so customer and operator never learn each
# other's IP address (needs ICE_TURN_URLS). A typo fails at start-up; the
# browser would otherwise refuse the whole configuration mid-call.
ICE_TRANSPORT_POLICY = env_str("ICE_TRANSPORT_POLICY", "all")
if ICE_TRANSPORT_POLICY not in ("all", "relay"):
    raise ImproperlyConfigured(f"ICE_TRANSPORT_POLICY={ICE_TRANSPORT_POLICY!r} is neither all nor relay")

# --- Signaling limits -------------------------------------------------------
SIGNALING_MAX_FRAME_BYTES = env_int("SIGNALING_MAX_FRAME_BYTES", 64 * 1024)
SIGNALING_RATE_PER_SECOND = env_int("SIGNALING_RATE_PER_SECOND", 50)
SIGNALING_RATE_BURST = env_int("SIGNALING_RATE_BURST", 200)
# A participant or operator not heard from for this long is gone (a crashed
# browser or server never says goodbye).
PRESENCE_TIMEOUT_SECONDS = env_int("PRESENCE_TIMEOUT_SECONDS", 30)
# A call nobody has been heard from for this long (every browser gone, or
# the network down) ends as interrupted.
CALL_RESUME_WINDOW_SECONDS = env_int("CALL_RESUME_WINDOW_SECONDS", 45)
LINK_DEFAULT_TTL_HOURS = env_int("LINK_DEFAULT_TTL_HOURS", 72)
MULTI_USER_MAX_PARTICIPANTS = env_int("MULTI_USER_MAX_PARTICIPANTS", 4)
# Frames per client IP across all its sockets (an office or a carrier NAT
# puts many people behind one address: generous, it stops floods only).
SIGNALING_IP_RATE_PER_SECOND = env_int("SIGNALING_IP_RATE_PER_SECOND", 300)
SIGNALING_IP_RATE_BURST = env_int("SIGNALING_IP_RATE_BURST", 1500)
SIGNALING_IP_WINDOW_SECONDS = env_int("SIGNALING_IP_WINDOW_SECONDS", 10)
# The shared (cross-process) count is updated once per this many frames.
SIGNALING_IP_REPORT_EVERY = env_int("SIGNALING_IP_REPORT_EVERY", 100)

# --- Security ---------------------------------------------------------------
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_NAME = "verity_session"
# Logged-in staff (operators, compliance, admins): logged out after this long
# without a request, and this long after login whatever they do. Their open
# sockets close at the next heartbeat. See operators/middleware.py.
OPERATOR_IDLE_TIMEOUT_SECONDS = env_int("OPERATOR_IDLE_TIMEOUT_SECONDS", 30 * 60)
OPERATOR_ABSOLUTE_TIMEOUT_SECONDS = env_int("OPERATOR_ABSOLUTE_TIMEOUT_SECONDS", 10 * 3600)
# Guessing link tokens: this many unknown tokens per client IP per window,
# then 429 until the window ends.
LINK_THROTTLE_FAILURES = env_int("LINK_THROTTLE_FAILURES", 20)
LINK_THROTTLE_WINDOW_SECONDS = env_int("LINK_THROTTLE_WINDOW_SECONDS", 600)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# W021 asks for HSTS preload. Preloading is the owner's decision for the whole
# registrable domain (every subdomain is HTTPS-only for months, and leaving the
# browsers' list is slow), and Verity usually runs on one subdomain of it, so
# it stays opt-in (SECURE_HSTS_PRELOAD=true) rather than a warning every
# deployment must ignore.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin: no referrer ever leaves for another site. (no-referrer would
# make browsers send "Origin: null" on our own form posts and fail CSRF.)
# The link page itself sends no-referrer: see sessions_app.views.link_open.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "operators:login"
LOGIN_REDIRECT_URL = "operators:console"

# --- Sign-in guessing: lockout (django-axes) and the mandatory second factor ---
# Every sign-in (password, then the code step) is checked and counted by
# axes, in the database (AccessAttempt): the count is shared by every daphne
# process and survives restarts. Failures count per username and client IP,
# and per username from any IP, so a guess spread over many addresses is
# caught too. The client IP is kyc.net.client_ip (X-Forwarded-For believed
# only from TRUSTED_PROXIES). Past the limit even the right password is
# refused until SIGNIN_LOCKOUT_MINUTES after the last failure.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out sign-in before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
SIGNIN_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
SIGNIN_LOCKOUT_MINUTES = env_int("SIGNIN_LOCKOUT_MINUTES", 15)
if SIGNIN_FAILURE_LIMIT < 1 or SIGNIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured("SIGNIN_FAILURE_LIMIT and SIGNIN_LOCKOUT_MINUTES must be at least 1")
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=SIGNIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_CLIENT_IP_CALLABLE = "kyc.net.client_ip"
AXES_LOCKOUT_CALLABLE = "operators.security_views.signin_locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Axes' own admin pages show to anyone with model permissions; ours show the
# attempts to superusers only (operators/admin.py).
AXES_ENABLE_ADMIN = False
# Never stored in the attempts' form data nor written to the log in clear.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "csrfmiddlewaretoken"]
# Staff users (the admin: every business's personal data) must have a
# confirmed authenticator app: after the password they reach nothing but the
# enrolment page until it is set up. Businesses require it of their operators
# with Business.require_second_factor.
STAFF_REQUIRE_SECOND_FACTOR = env_bool("STAFF_REQUIRE_SECOND_FACTOR", True)

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

REST_FRAMEWORK = {
    # The integration API (/api/v1/) authenticates businesses by API key only;
    # no cookie session, so no CSRF surface and no operator's login works there.
    "DEFAULT_AUTHENTICATION_CLASSES": ["operators.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "operators.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Verity integration API",
    "DESCRIPTION": (
        "Create video verification sessions, send the customers their links, read the outcome. "
        "Authenticate with `Authorization: Bearer <API key>`. Every error is a JSON problem "
        "(`type`, `code`, `title`, `detail`, `status`, `errors`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are public (they hold no data); a stale key sent
    # to them by a browser plugin must not turn them into a 401.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from our own static files
    # (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SessionStateEnum": "sessions_app.models.VerificationSession.State",
        "SessionKindEnum": "sessions_app.models.VerificationSession.Kind",
        "ParticipantStateEnum": "sessions_app.models.Participant.State",
        "StepStateEnum": "workflows.models.StepState.State",
        "StepKindEnum": "workflows.steps.STEP_KINDS",
    },
}

# --- Integration: idempotency, webhooks, e-mails, retention -------------------
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# A webhook is retried with exponential backoff (capped) for this long after
# the event; the last attempt falls on the end of the window.
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
CELERY_BEAT_SCHEDULE = {
    # Re-sends webhook events and link e-mails whose time has come. The
    # database is the queue: a worker restart loses nothing, the sweep
    # picks up where the dead worker stopped.
    "outbox-sweep": {"task": "operators.tasks.outbox_sweep", "schedule": 30.0},
    "retention-erase": {"task": "operators.tasks.retention_erase_due", "schedule": 3600.0},
    "sessions-housekeeping": {"task": "sessions_app.housekeeping.sessions_housekeeping", "schedule": 15.0},
    # Composes call recordings whose own task was lost (the worker was down
    # when the call ended); see sessions_app.recordings.compose_sweep_window.
    "recording-compose-pending": {"task": "sessions_app.tasks.recording_compose_pending", "schedule": 300.0},
    # Booked calls: reminders before the time, once each (operators.scheduling_notices).
    "booking-notices": {"task": "operators.tasks.booking_notices", "schedule": 60.0},
}

# --- Audit chain: keyed links and signed checkpoints ------------------------------
# Every audit event carries an HMAC-SHA256 of its hash under a key that is not
# in the database, so somebody who can only write the database cannot rewrite
# the chain and recompute it. Keys are "kid:base64key,..."; events keep the id
# of the key that signed them, so a rotated-out key stays here (verification
# only) and AUDIT_CHAIN_KEY_ID names the one new events use. The chain's head
# is checkpointed (Ed25519 over business, sequence, head hash, time) into a log
# file outside the database and the "verity.audit.checkpoint" logger, for a log
# shipper to anchor elsewhere. Without configuration, keys are made once per
# installation and kept in var/, like SECRET_KEY. See sessions_app/audit.py.


def _b64_key(name: str, value: str, *, length: int | None = None, at_least: int = 0) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError as exc:
        # Not a character of the value in the message: it is a secret.
        raise ImproperlyConfigured(f"{name} is not base64") from exc
    if (length is not None and len(key) != length) or len(key) < at_least:
        wanted = f"{length}" if length is not None else f"at least {at_least}"
        raise ImproperlyConfigured(f"{name}: a key of {len(key)} bytes, {wanted} needed")
    return key


def _audit_chain_keys() -> dict[str, bytes]:
    configured = env_list("AUDIT_CHAIN_KEYS", [])
    if not configured:
        # A random key id, so a key configured later never shares the id of
        # this generated one (events keep the id of the key that signed them).
        configured = [
            _generated_once(
                "audit_chain_key",
                lambda: f"local-{secrets.token_hex(4)}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
            )
        ]
    keys = {}
    for item in configured:
        kid, _, encoded = item.partition(":")
        if not kid or not encoded or kid in keys:
            raise ImproperlyConfigured(f"AUDIT_CHAIN_KEYS: {kid!r} is not a new 'kid:base64key'")
        keys[kid] = _b64_key(f"AUDIT_CHAIN_KEYS[{kid}]", encoded, at_least=32)
    return keys


AUDIT_CHAIN_KEYS = _audit_chain_keys()
AUDIT_CHAIN_KEY_ID = env_str("AUDIT_CHAIN_KEY_ID", next(iter(AUDIT_CHAIN_KEYS)) if len(AUDIT_CHAIN_KEYS) == 1 else None)
if AUDIT_CHAIN_KEY_ID not in AUDIT_CHAIN_KEYS:
    raise ImproperlyConfigured(f"AUDIT_CHAIN_KEY_ID={AUDIT_CHAIN_KEY_ID!r} names none of AUDIT_CHAIN_KEYS")
# The Ed25519 private key (base64 of its 32 raw bytes) that signs checkpoints;
# an auditor checks them with the public key alone (audit_checkpoint prints it).
AUDIT_CHECKPOINT_SIGNING_KEY = _b64_key(
    "AUDIT_CHECKPOINT_SIGNING_KEY",
    env_str("AUDIT_CHECKPOINT_SIGNING_KEY")
    or _generated_once("audit_checkpoint_key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
    length=32,
)
# Public keys (base64, 32 bytes) of signing keys rotated out: their
# checkpoints still verify.
AUDIT_CHECKPOINT_PUBLIC_KEYS = [
    _b64_key("AUDIT_CHECKPOINT_PUBLIC_KEYS", value, length=32) for value in env_list("AUDIT_CHECKPOINT_PUBLIC_KEYS", [])
]
AUDIT_CHECKPOINT_LOG = Path(env_str("AUDIT_CHECKPOINT_LOG", str(VAR_DIR / "audit_checkpoints.jsonl")))
AUDIT_CHECKPOINT_INTERVAL_SECONDS = env_int("AUDIT_CHECKPOINT_INTERVAL_SECONDS", 300)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "sessions_app.tasks.audit_checkpoint",
    "schedule": float(AUDIT_CHECKPOINT_INTERVAL_SECONDS),
}

# --- Evidence storage and encryption at rest (kyc/storage.py, kyc/evidence_crypto.py)
# Where evidence files live: "filesystem" (EVIDENCE_ROOT on this machine, the
# embedded default) or "s3" (any S3-compatible store: AWS S3, MinIO, Ceph RGW),
# which every daphne and worker on every machine reaches alike.
EVIDENCE_STORE = env_str("EVIDENCE_STORE", "filesystem").lower()
if EVIDENCE_STORE not in ("filesystem", "s3"):
    raise ImproperlyConfigured(f"EVIDENCE_STORE={EVIDENCE_STORE!r} is neither filesystem nor s3")
EVIDENCE_S3_BUCKET = env_str("EVIDENCE_S3_BUCKET", "")
EVIDENCE_S3_ENDPOINT_URL = env_str("EVIDENCE_S3_ENDPOINT_URL", "")  # empty: AWS itself
EVIDENCE_S3_REGION = env_str("EVIDENCE_S3_REGION", "")
# Empty: boto3's own chain (instance role, ~/.aws, AWS_* variables).
EVIDENCE_S3_ACCESS_KEY_ID = env_str("EVIDENCE_S3_ACCESS_KEY_ID", "")
EVIDENCE_S3_SECRET_ACCESS_KEY = env_str("EVIDENCE_S3_SECRET_ACCESS_KEY", "")
EVIDENCE_S3_PREFIX = env_str("EVIDENCE_S3_PREFIX", "").strip("/")  # a folder in a shared bucket
EVIDENCE_S3_TIMEOUT_SECONDS = env_int("EVIDENCE_S3_TIMEOUT_SECONDS", 10)
if EVIDENCE_STORE == "s3" and not EVIDENCE_S3_BUCKET:
    raise ImproperlyConfigured("EVIDENCE_STORE=s3 needs EVIDENCE_S3_BUCKET")
# Every file is encrypted with its own data key, wrapped by a key-encryption
# key from this keyring ("kid:base64 of 32 bytes,..."; the file's header keeps
# the kid). EVIDENCE_KEY_ID names the key new files use; a rotated-out key
# stays in the keyring until `manage.py evidence_rewrap` has moved every file
# to the new one. Without configuration a key is made once per installation
# and kept in var/, like SECRET_KEY: then var/ must be backed up with the
# evidence, and kept apart from it.


def _evidence_keys() -> dict[str, bytes]:
    configured = env_list("EVIDENCE_KEYS", []) or [
        _generated_once(
            "evidence_key",
            lambda: f"local-{secrets.token_hex(4)}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        )
    ]
    keys = {}
    for item in configured:
        kid, _, encoded = item.partition(":")
        if not kid or not encoded or kid in keys or len(kid) > 40 or not kid.isascii():
            raise ImproperlyConfigured(f"EVIDENCE_KEYS: {kid!r} is not a new 'kid:base64key' (kid: 1-40 ASCII characters)")
        keys[kid] = _b64_key(f"EVIDENCE_KEYS[{kid}]", encoded, length=32)
    return keys


EVIDENCE_KEYS = _evidence_keys()
EVIDENCE_KEY_ID = env_str("EVIDENCE_KEY_ID", next(iter(EVIDENCE_KEYS)) if len(EVIDENCE_KEYS) == 1 else None)
if EVIDENCE_KEY_ID not in EVIDENCE_KEYS:
    raise ImproperlyConfigured(f"EVIDENCE_KEY_ID={EVIDENCE_KEY_ID!r} names none of EVIDENCE_KEYS")
# Plaintext bytes per authenticated chunk: a range request decrypts whole
# chunks, so smaller means less work per seek and 16 bytes of tag more per chunk.
EVIDENCE_ENCRYPTION_CHUNK_BYTES = env_int("EVIDENCE_ENCRYPTION_CHUNK_BYTES", 64 * 1024)
if not 4096 <= EVIDENCE_ENCRYPTION_CHUNK_BYTES <= 16 * 1024 * 1024:
    raise ImproperlyConfigured("EVIDENCE_ENCRYPTION_CHUNK_BYTES must be between 4096 and 16777216")

# --- Webhook egress: where a business's webhook URL may point (kyc/egress.py) --
# https only, to public addresses only, by default, in every mode: a
# default that relaxed itself in "development" would be one forgotten
# variable away from SSRF in production. A developer (or a test) delivering
# to a receiver on this machine says so: WEBHOOK_ALLOW_HTTP=true and
# WEBHOOK_ALLOWED_NETWORKS=127.0.0.1/32.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
# Addresses or CIDR ranges a webhook may reach although they are private,
# loopback, link-local or otherwise not public (comma-separated).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS", [])
parse_networks("WEBHOOK_ALLOWED_NETWORKS", WEBHOOK_ALLOWED_NETWORKS)  # a typo fails at start-up

# --- Live location and allowed countries (kyc/geo.py) ------------------------
# A client on a private network (127.0.0.1 in development) has no IP country
# and is refused where a workflow allows only some countries. A developer or a
# test names the country to assume for such addresses (e.g. "IN"); never in
# production (``manage.py check --deploy`` refuses it).
GEO_PRIVATE_NETWORK_COUNTRY = (env_str("GEO_PRIVATE_NETWORK_COUNTRY", "") or "").strip().upper()
if GEO_PRIVATE_NETWORK_COUNTRY and not (len(GEO_PRIVATE_NETWORK_COUNTRY) == 2 and GEO_PRIVATE_NETWORK_COUNTRY.isalpha()):
    raise ImproperlyConfigured(f"GEO_PRIVATE_NETWORK_COUNTRY={GEO_PRIVATE_NETWORK_COUNTRY!r} is not a two-letter country code")
# A shared position less accurate than this (metres) is refused: it says
# nothing about where the customer is.
GEO_MAX_ACCURACY_METRES = env_int("GEO_MAX_ACCURACY_METRES", 10_000)
# A position older than this when the customer joins is asked for again.
GEO_LOCATION_MAX_AGE_SECONDS = env_int("GEO_LOCATION_MAX_AGE_SECONDS", 30 * 60)

# --- Call recording -----------------------------------------------------------
# A 3-second chunk of one 640x480 stream at 1 Mbit/s is ~400 KB; the cap leaves
# room for HD and keyframes while bounding what one request holds in memory
# (it stays under DATA_UPLOAD_MAX_MEMORY_SIZE).
RECORDING_MAX_CHUNK_BYTES = env_int("RECORDING_MAX_CHUNK_BYTES", 8 * 1024 * 1024)
RECORDING_MAX_CHUNKS_PER_SEGMENT = env_int("RECORDING_MAX_CHUNKS_PER_SEGMENT", 20_000)
RECORDING_MAX_SEGMENTS_PER_STREAM = env_int("RECORDING_MAX_SEGMENTS_PER_STREAM", 200)
# How long after the call ends the composition waits for segments a page has
# not finished (its last chunks still uploading, or a page that crashed).
RECORDING_FINISH_GRACE_SECONDS = env_int("RECORDING_FINISH_GRACE_SECONDS", 120)
# A required recording whose last chunk is older than this holds back approval.
RECORDING_STALE_SECONDS = env_int("RECORDING_STALE_SECONDS", 30)
# The beat sweep composes calls whose own task was lost, for this long after they end.
RECORDING_COMPOSE_SWEEP_HOURS = env_int("RECORDING_COMPOSE_SWEEP_HOURS", 48)
FFMPEG_PATH = env_str("FFMPEG_PATH", "ffmpeg")
FFPROBE_PATH = env_str("FFPROBE_PATH", "ffprobe")

# --- Request bodies and sockets: limits before anything is read --------------
# A request body is refused before it is buffered or parsed: over its route's
# cap with 413, and with 403 (401 on the API) when the route needs a
# credential and none came. daphne enforces it while the headers arrive
# (kyc/body_limits.py, installed by kyc/serve.py); the middleware
# kyc.body_limits.RequestBodyLimitMiddleware repeats it for other servers.
# A capture (one camera frame) as uploaded; larger images are refused.
CAPTURE_MAX_BYTES = env_int("CAPTURE_MAX_BYTES", 10 * 1024 * 1024)
# Room for the multipart framing around a capture or a recording chunk.
REQUEST_UPLOAD_SLACK_BYTES = env_int("REQUEST_UPLOAD_SLACK_BYTES", 64 * 1024)
# Forms and the console's JSON actions; the default for every other route.
REQUEST_MAX_FORM_BYTES = env_int("REQUEST_MAX_FORM_BYTES", 64 * 1024)
REQUEST_MAX_API_BYTES = env_int("REQUEST_MAX_API_BYTES", 256 * 1024)
REQUEST_MAX_ADMIN_BYTES = env_int("REQUEST_MAX_ADMIN_BYTES", 2 * 1024 * 1024)
_upload_cap = max(CAPTURE_MAX_BYTES, RECORDING_MAX_CHUNK_BYTES) + REQUEST_UPLOAD_SLACK_BYTES
# Path prefix -> (most bytes of body, credential needed before any is read).
# The longest matching prefix wins. Credentials: "customer" (the session
# cookie of a browser that opened a link), "staff" (a signed-in user's
# session cookie), "api_key" (Authorization: Bearer), None (anybody).
REQUEST_BODY_LIMITS = {
    "/call/captures/": (CAPTURE_MAX_BYTES + REQUEST_UPLOAD_SLACK_BYTES, "customer"),
    "/call/": (REQUEST_MAX_FORM_BYTES, "customer"),
    "/console/login": (REQUEST_MAX_FORM_BYTES, None),  # sign-in and its second step
    "/console/logout/": (REQUEST_MAX_FORM_BYTES, None),
    "/console/calls/": (_upload_cap, "staff"),  # captures and recording chunks
    "/console/": (REQUEST_MAX_FORM_BYTES, "staff"),
    "/api/v1/": (REQUEST_MAX_API_BYTES, "api_key"),
    "/admin/login/": (REQUEST_MAX_FORM_BYTES, None),
    "/admin/": (REQUEST_MAX_ADMIN_BYTES, "staff"),
    "/recordings/": (REQUEST_MAX_FORM_BYTES, "staff"),
    "/": (REQUEST_MAX_FORM_BYTES, None),
}
# Websockets: concurrent sockets per client IP, counted across processes in
# the cache. A socket renews its place every SIGNALING_SOCKET_SLOT_SECONDS
# (heartbeats), so the places of a crashed process expire on their own.
SIGNALING_MAX_SOCKETS_PER_IP = env_int("SIGNALING_MAX_SOCKETS_PER_IP", 50)
SIGNALING_SOCKET_SLOT_SECONDS = env_int("SIGNALING_SOCKET_SLOT_SECONDS", 60)
# A flood of refused frames on one socket logs one line when it starts and
# one with its count when it ends, or every this many seconds while it lasts.
SIGNALING_FLOOD_LOG_SECONDS = env_int("SIGNALING_FLOOD_LOG_SECONDS", 60)

# --- Call experience: the end of a call, the waiting customer, prompts -------
# Where a call's recording is composed when there is no broker (embedded
# mode): "background" (a thread in the web process: the request that ended
# the call answers at once, the operator's page shows the progress) or
# "inline" (in that request, after its commit). With a broker it always goes
# to the workers.
RECORDING_COMPOSE_EMBEDDED_MODES = ("background", "inline")
RECORDING_COMPOSE_EMBEDDED_MODE = env_str("RECORDING_COMPOSE_EMBEDDED_MODE", "background").lower()
if RECORDING_COMPOSE_EMBEDDED_MODE not in RECORDING_COMPOSE_EMBEDDED_MODES:
    raise ImproperlyConfigured(
        f"RECORDING_COMPOSE_EMBEDDED_MODE={RECORDING_COMPOSE_EMBEDDED_MODE!r} is not one of "
        f"{', '.join(RECORDING_COMPOSE_EMBEDDED_MODES)}"
    )
# The waiting customer's estimated wait: the median length of the
# business's last QUEUE_ESTIMATE_SAMPLE calls of the last
# QUEUE_ESTIMATE_HISTORY_DAYS days, shown once there are at least
# QUEUE_ESTIMATE_MIN_CALLS of them (no estimate is better than a made-up one).
QUEUE_ESTIMATE_SAMPLE = env_int("QUEUE_ESTIMATE_SAMPLE", 30)
QUEUE_ESTIMATE_HISTORY_DAYS = env_int("QUEUE_ESTIMATE_HISTORY_DAYS", 14)
QUEUE_ESTIMATE_MIN_CALLS = env_int("QUEUE_ESTIMATE_MIN_CALLS", 3)

# --- Logging: UTC timestamps, one line per record, never a token ------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "utc": {
            "()": "kyc.logging.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "filters": {"redact": {"()": "kyc.logging.RedactLinkTokensFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "utc", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "daphne": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # At DEBUG this logger dumps whole template contexts (CSRF tokens,
        # customers' names) for every missing variable: never below INFO.
        "django.template": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
