"""Settings for every deployment: each difference is an environment variable (docs/operations.md)."""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from console import embedded_redis
from console.env import (
    decode_key_b64,
    env_bool,
    env_choice,
    env_domain,
    env_int,
    env_list,
    env_probabilities,
    env_rate,
    env_str,
    generate_key_b64,
    given_secret,
    persistent_secret,
    shared_secrets,
)
from console.private_files import make_private_dir, restrict_new_files

# Every process (web, worker, beat, localcloud, commands) reads these settings before it writes to var/, so the
# umask set here makes all it creates there the console user's alone (docs/security.md).
restrict_new_files()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = make_private_dir(Path(env_str("CONSOLE_VAR_DIR", str(BASE_DIR / "var"))))
# Django's file storage sets these modes itself after writing (collectstatic into var/static, uploads), whatever
# the umask: its default 0644 would leave them open to group and others, and the start check would refuse them.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'console.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: wait for locks instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

# The embedded SQLite database serves one host, whose var/ may keep the secrets it generated. A shared database
# serves several hosts, which must all hold the same secrets: they are then given, never generated (console/env.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SECRET_KEY = persistent_secret("SECRET_KEY", VAR_DIR / "secret-key", generate_key_b64)
    root_key = persistent_secret("CONSOLE_ROOT_KEY", VAR_DIR / "root-key", generate_key_b64)
else:
    SECRET_KEY, root_key = shared_secrets("SECRET_KEY", "CONSOLE_ROOT_KEY")
CONSOLE_ROOT_KEY = decode_key_b64("CONSOLE_ROOT_KEY", root_key)
# During a root key rotation, the key being replaced: secrets still sealed under it open too (console/secrets.py).
previous_root_key = given_secret("CONSOLE_PREVIOUS_ROOT_KEY")
CONSOLE_PREVIOUS_ROOT_KEY = (
    decode_key_b64("CONSOLE_PREVIOUS_ROOT_KEY", previous_root_key) if previous_root_key else None
)
del root_key, previous_root_key

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
LOCALCLOUD_PORT = env_int("LOCALCLOUD_PORT", 9900, minimum=1, maximum=65535)
LOCALCLOUD_HOST = env_str("LOCALCLOUD_HOST", "127.0.0.1")
# The host name localcloud is reached by, if any: `<bucket>.<domain>` then addresses a bucket (virtual-hosted
# style, as the SDKs use for host names) and `kms.<region>.<domain>` KMS in a region (docs/localcloud.md).
LOCALCLOUD_DOMAIN = env_domain("LOCALCLOUD_DOMAIN")
# Hosts a connection's endpoints may name (cloud/endpoints.py): Alibaba Cloud and this machine by default.
CONSOLE_ENDPOINT_ALLOW = env_list("CONSOLE_ENDPOINT_ALLOW", ["*.aliyuncs.com", "loopback"])
# Off where the console manages only real OSS: then localcloud is neither started nor health-checked.
LOCALCLOUD_ENABLED = env_bool("LOCALCLOUD_ENABLED", True)
# `make up` sets it: a worker, once ready, scans the demo's versioned bucket if it never was (console.demo).
DEMO_FIRST_SCAN = env_bool("CONSOLE_DEMO_FIRST_SCAN", False)
LOCALCLOUD_DATA_DIR = Path(env_str("LOCALCLOUD_DATA_DIR", str(VAR_DIR / "localcloud")))
LOCALCLOUD_REGION = env_str("LOCALCLOUD_REGION", "cn-hangzhou")
LOCALCLOUD_EXTRA_REGIONS = env_list("LOCALCLOUD_EXTRA_REGIONS", [])
LOCALCLOUD_ACCESS_KEY_ID = env_str("LOCALCLOUD_ACCESS_KEY_ID")
LOCALCLOUD_ACCESS_KEY_SECRET = env_str("LOCALCLOUD_ACCESS_KEY_SECRET")
LOCALCLOUD_ROOT_KEY = decode_key_b64(
    "LOCALCLOUD_ROOT_KEY", persistent_secret("LOCALCLOUD_ROOT_KEY", VAR_DIR / "localcloud-root-key", generate_key_b64)
)
# The largest source OSS copies by CopyObject when the copy writes the data anew (another bucket, SSE or storage
# class): 5 GiB; larger ones take multipart copy. Tests lower it to prove the engine copies big objects in parts.
LOCALCLOUD_COPY_LIMIT_BYTES = env_int("LOCALCLOUD_COPY_LIMIT_BYTES", 5 * 1024**3, minimum=1, maximum=2**62)
# Regions where the console offers SSE-KMS; empty means every region with server-side encryption.
CONSOLE_KMS_REGIONS = env_list("CONSOLE_KMS_REGIONS", [])

# Tests and benchmarks only: a simulated network, every OSS and KMS answer delayed by the latency ± the jitter
# (localcloud/latency.py). Read per request. The server needs a thread per request in flight to wait side by side.
LOCALCLOUD_LATENCY_MS = env_int("LOCALCLOUD_LATENCY_MS", 0, maximum=60_000)
LOCALCLOUD_LATENCY_JITTER_MS = env_int("LOCALCLOUD_LATENCY_JITTER_MS", 0, maximum=60_000)
LOCALCLOUD_THREADS = env_int("LOCALCLOUD_THREADS", 32, minimum=1, maximum=512)
# Tests only: failures localcloud answers instead of handling a request, e.g. "503:0.05,reset:0.01";
# the kinds are those of localcloud/faults.py. Read per request, so tests may change it (docs/localcloud.md).
LOCALCLOUD_FAULTS = env_probabilities(
    "LOCALCLOUD_FAULTS", kinds=("503", "500", "throttle", "qos", "kms-throttle", "reset")
)
LOCALCLOUD_FAULTS_SEED = env_int("LOCALCLOUD_FAULTS_SEED", None, maximum=2**63)

EMBEDDED_REDIS_PORT = env_int("EMBEDDED_REDIS_PORT", 6390, minimum=1, maximum=65535)
REDIS_IS_EMBEDDED = not env_str("REDIS_URL")
# The embedded Redis asks every client for this password; a configured REDIS_URL is used as given.
EMBEDDED_REDIS_PASSWORD = (
    persistent_secret("EMBEDDED_REDIS_PASSWORD", VAR_DIR / "redis-password", generate_key_b64)
    if REDIS_IS_EMBEDDED
    else ""
)
REDIS_URL = env_str("REDIS_URL") or embedded_redis.url(EMBEDDED_REDIS_PORT, EMBEDDED_REDIS_PASSWORD)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "console",
    "accounts",
    "audit",
    "buckets",
    "encryption",
    "jobs",
    "localcloud",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "console.middleware.SessionExpiryMiddleware",
    "console.middleware.LoginRequiredMiddleware",
    "console.middleware.TwoFactorMiddleware",
    "console.middleware.PasswordChangeMiddleware",
    "audit.channel.ChannelMiddleware",
    "console.middleware.ServiceErrorPageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
                "console.navigation.navigation",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "console",
        # Anyone who can write to Redis could plant a pickle that the default serializer would run.
        "OPTIONS": {"serializer": "console.cache_serializer.JsonSerializer"},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
# Sign-in defences (docs/security.md, "Sign-in"): lockouts by account and by client address, session expiry.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_CLIENT_FAILURE_LIMIT = env_int("LOGIN_CLIENT_FAILURE_LIMIT", 20, minimum=1)
LOCKOUT_MINUTES = env_int("LOCKOUT_MINUTES", 15, minimum=1)
# Second factor (docs/security.md, "Two-factor sign-in"): which roles must use one: admin (Admins), operator
# (Operators and Admins), all, or none.
CONSOLE_REQUIRE_2FA = env_choice("CONSOLE_REQUIRE_2FA", "none", ("admin", "operator", "all", "none"))
OTP_TOTP_ISSUER = "Bucket encryption console"
# Wrong codes count toward the sign-in lockouts above, one limit for passwords and codes; django-otp's own
# doubling delay would also refuse a right code typed just after a typo, as if it were wrong.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 60, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1, maximum=24 * 30)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# How long an API token works after it is issued; a client then asks for a new one.
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1, maximum=366)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Served over TLS (SECURE_COOKIES): browsers are told to use nothing else for a year.
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0
# Behind a TLS proxy: the header it sets and its value for https, e.g. "HTTP_X_FORWARDED_PROTO,https".
SECURE_PROXY_SSL_HEADER = tuple(env_list("SECURE_PROXY_SSL_HEADER", [])) or None
if SECURE_PROXY_SSL_HEADER is not None and len(SECURE_PROXY_SSL_HEADER) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER is a header and a value, e.g. HTTP_X_FORWARDED_PROTO,https")
# Every script and style comes from the console's own static files (no inline code, no other origin), so an
# injected <script> or style attribute does nothing; images may be data: URLs (Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["console.api.permissions.ActionPermissions"],
    "DEFAULT_SCHEMA_CLASS": "console.api.schema.ActionPermissionsSchema",
    "DEFAULT_PAGINATION_CLASS": "console.api.pagination.Pagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "console.api.exception_handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_ANON_THROTTLE_RATE", "60/minute"),
        "token": env_rate("API_TOKEN_THROTTLE_RATE", "10/minute"),
    },
    # Callers are told apart by the address of the connection unless proxies in front of the console are declared:
    # an X-Forwarded-For header is anyone's to forge. The sign-in lockouts use the same rule.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0, maximum=10),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bucket encryption console API",
    "DESCRIPTION": "Server-side encryption, keys and re-encryption jobs for OSS buckets.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The same choices serve several serializers: one named enum each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "EncryptionMethodEnum": "cloud.sse.METHOD_CHOICES",
        "EncryptionAlgorithmEnum": "cloud.sse.ALGORITHM_CHOICES",
    },
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
# Any number of beats may run: the one holding the lock in Redis fires, the others stand by (console/beat_lock.py).
CELERY_BEAT_SCHEDULER = "console.beat:SingletonDatabaseScheduler"
CONSOLE_BEAT_LEASE_SECONDS = env_int("CONSOLE_BEAT_LEASE_SECONDS", 30, minimum=3, maximum=3600)
CELERY_TIMEZONE = TIME_ZONE
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 30, minimum=1)
# Jobs: objects per listing page (one checkpoint each), how long a worker holds a page without news before
# another takes it over, and the size above which objects are re-encrypted by multipart copy: OSS advises it from
# 1 GB and refuses a CopyObject that changes SSE or storage class above 5 GiB, hence the default and the maximum.
JOBS_PAGE_SIZE = env_int("JOBS_PAGE_SIZE", 100, minimum=1, maximum=1000)
JOBS_PAGE_LEASE_SECONDS = env_int("JOBS_PAGE_LEASE_SECONDS", 120, minimum=2)
JOBS_COPY_THRESHOLD_BYTES = env_int("JOBS_COPY_THRESHOLD_BYTES", 1024**3, minimum=1, maximum=5 * 1024**3)
JOBS_PART_SIZE_BYTES = env_int("JOBS_PART_SIZE_BYTES", 64 * 1024**2, minimum=100 * 1024, maximum=5 * 1024**3)
JOBS_RECOVERY_INTERVAL_SECONDS = env_int("JOBS_RECOVERY_INTERVAL_SECONDS", 30, minimum=1)
# Jobs of one sweep active at once; the next bucket starts when one ends (docs/design-notes.md "Sweeps").
JOBS_SWEEP_MAX_RUNNING = env_int("JOBS_SWEEP_MAX_RUNNING", 4, minimum=1, maximum=100)
# Client-side encryption in the web process: files up to this size go up in one PutObject, larger ones in parts
# of about this size (a multiple of 16, at least 100 KiB).
CSE_MULTIPART_THRESHOLD = env_int(
    "CSE_MULTIPART_THRESHOLD_BYTES", 64 * 1024**2, minimum=100 * 1024, maximum=5 * 1024**3
)
# A large client-side encrypted upload still unfinished this long after it started is taken as lost: the hourly
# sweep fails it and aborts its multipart upload (buckets/services/upload_sweep.py). Keep it above the longest upload.
CSE_UPLOAD_MAX_AGE_SECONDS = env_int("CSE_UPLOAD_MAX_AGE_SECONDS", 6 * 3600, minimum=600)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "console.tasks.heartbeat", "schedule": float(HEARTBEAT_INTERVAL_SECONDS)},
    "recover-stalled-jobs": {"task": "jobs.recover_stalled", "schedule": float(JOBS_RECOVERY_INTERVAL_SECONDS)},
    "sweep-uploads": {"task": "encryption.sweep_uploads", "schedule": 3600.0},
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    # At DEBUG these libraries log whole request lines and headers (KMS query strings carry import tokens and
    # wrapped key material), so they stay at WARNING whatever LOG_LEVEL says.
    "loggers": {name: {"level": "WARNING"} for name in ("urllib3", "oss2", "alibabacloud-tea")},
}

CONSOLE_ADMIN_USER = env_str("CONSOLE_ADMIN_USER", "admin")
