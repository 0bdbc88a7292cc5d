"""Settings for the CMS, read from the environment (see .env.example for every variable)."""

from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from cms.env import (
    database_config,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    redis_db_index,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DEBUG=true")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
TIME_ZONE = env_str("TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone") from None
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("sv", "Svenska")]
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "cms.portal",
    "organizations",
    "stations",
    "sessions_app",
    "billing",
    "roaming",
    "ocpp_gateway",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static files (admin, portal assets) from the process itself: no CDN, no proxy needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a user's saved language wins over the browser's.
    "cms.portal.language.UserLanguageMiddleware",
    "cms.portal.middleware.OrganizationTimezoneMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cms.urls"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"
ASGI_APPLICATION = "cms.asgi.application"
WSGI_APPLICATION = None

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
                "cms.portal.context_processors.portal",
            ],
        },
    },
]

# Channels serves every OCPP message through one DB thread per process: reconnecting per
# message cuts throughput tenfold, so connections are kept and health-checked.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 600, minimum=0)
DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {"default": database_config(DATABASE_URL, BASE_DIR, DB_CONN_MAX_AGE)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url(env_str("REDIS_URL"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer keeps command latency low where the list-based layer saturates.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Redis pub/sub ignores the database index of REDIS_URL: without a prefix of their
            # own, two deployments sharing a Redis would deliver commands to each other.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHANNEL_LAYER_PREFIX", f"cms{redis_db_index(REDIS_URL)}"),
            },
        }
    }
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "purge-ocpp-message-log": {
        "task": "ocpp_gateway.tasks.purge_message_log",
        "schedule": 3600.0,
    },
    "expire-reservations": {
        "task": "sessions_app.tasks.expire_reservations",
        "schedule": 60.0,
    },
    # Five past the hour, so a session that stopped just before midnight has been rated by the
    # time its period is closed; a record rated later still goes on the next period's invoice.
    "close-billing-periods": {
        "task": "billing.tasks.close_billing_periods",
        "schedule": crontab(minute=5),
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve the apps' static files without a collectstatic step: one thing less to forget when
# deploying, at the cost of a scan at start-up.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header from the first class, and only with
    # one does an unauthenticated request get 401 rather than 403. Sessions serve the portal.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "cms.api.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bodies only: form encoding turns "" into "not sent" or null, so a client's
    # mistake would pass silently. Uploads (the card import) declare their own parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "cms.api.schema.TenantAutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        # Password guessing against the token endpoint, per client address.
        "auth-token": env_rate("API_TOKEN_THROTTLE_RATE", "10/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CMS API",
    "DESCRIPTION": "Charging-station management: every resource of your organizations. "
    "See docs/api.md for authentication, roles and worked examples.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cms.api.schema.allow_empty_filters",
    ],
    # Several models have a `status` or `role`: name each enum after its choices.
    "ENUM_NAME_OVERRIDES": {
        "ConnectorStatusEnum": "stations.choices.ConnectorStatus",
        "CommandStatusEnum": "ocpp_gateway.choices.CommandStatus",
        "IdTokenStatusEnum": "organizations.choices.IdTokenStatus",
        "ReservationStatusEnum": "sessions_app.choices.ReservationStatus",
        "InvoiceStatusEnum": "billing.choices.InvoiceStatus",
        "RoamingPartnerStatusEnum": "roaming.choices.PartnerStatus",
        "RoleEnum": "organizations.choices.Role",
        "APIKeyRoleEnum": "organizations.models.APIKeyRole",
        "RoamingPartnerRoleEnum": "roaming.choices.PartnerRole",
        "TariffAssignmentScopeEnum": "billing.choices.AssignmentScope",
        "ChargingProfilePurposeEnum": "stations.choices.ChargingProfilePurpose",
    },
}

# OCPP gateway
OCPP_UNKNOWN_STATIONS = env_choice("OCPP_UNKNOWN_STATIONS", "refuse", ("refuse", "register"))
OCPP_DEFAULT_HEARTBEAT_INTERVAL = env_int("OCPP_DEFAULT_HEARTBEAT_INTERVAL", 300, minimum=10)
OCPP_MAX_FRAME_BYTES = env_int("OCPP_MAX_FRAME_BYTES", 65536, minimum=1024)
OCPP_CALL_TIMEOUT = env_float("OCPP_CALL_TIMEOUT", 30.0)
OCPP_MESSAGE_LOG_ENABLED = env_bool("OCPP_MESSAGE_LOG_ENABLED", True)
OCPP_MESSAGE_LOG_RETENTION_DAYS = env_int("OCPP_MESSAGE_LOG_RETENTION_DAYS", 30, minimum=1)
OCPP_MESSAGE_LOG_FLUSH_SECONDS = env_float("OCPP_MESSAGE_LOG_FLUSH_SECONDS", 1.0)
# Garbage collection of a gateway process holding thousands of sockets (ocpp_gateway/gcpolicy.py).
GC_FREEZE_SECONDS = env_float("GC_FREEZE_SECONDS", 10.0, allow_zero=True)
GC_FULL_COLLECT_SECONDS = env_float("GC_FULL_COLLECT_SECONDS", 3600.0, allow_zero=True)

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
