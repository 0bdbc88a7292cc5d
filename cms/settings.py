"""Settings for the CMS, read from the environment (see .env.example for every variable)."""

from datetime import timedelta
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
    firmware_storage,
    postgres_options,
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
    # Counts failed logins and locks an (account, address) pair out for a while: see below.
    "axes",
    "core",
    "portal",
    "organizations",
    "stations",
    "cards",
    "sessions_app",
    "billing",
    "roaming",
    "availability",
    "alerts",
    "firmware",
    "baselines",
    "ocpp_gateway",
    "fleet",
    "scan2pay",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static files (admin, portal assets) from the process itself: no CDN, no proxy needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, which answers static files (compressed at collectstatic) before it;
    # above everything else that writes the body. Since Django 4.2 it pads each response with
    # random bytes against BREACH; CSRF tokens are masked per response too.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a user's saved language wins over the browser's.
    "portal.language.UserLanguageMiddleware",
    "portal.middleware.OrganizationTimezoneMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside CommonMiddleware (a missing slash still redirects) and the language middlewares:
    # the portal's 403 and 404 pages, in DEBUG too, and one log line per refused request.
    "portal.errors.ErrorPagesMiddleware",
    # Last, as axes asks: turns a locked-out login's answer into the 429 of portal.login_guard.
    "axes.middleware.AxesMiddleware",
]

# Axes first: a locked-out (account, address) pair is refused before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
                "portal.context_processors.portal",
            ],
            # Every template's `date` and `time` filters: a stored implausible moment (year
            # 9999 in a zone east of UTC) renders instead of failing the page.
            "builtins": ["core.templatetags.safetime"],
        },
    },
]

# Channels serves every OCPP message through one DB thread per process: reconnecting per
# message cuts throughput tenfold, so connections are kept and health-checked.
DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 600, minimum=0)
DATABASE_URL = env_str("DATABASE_URL")
# PostgreSQL unreachable or stuck: fail within these times instead of hanging (cms.env).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5, minimum=1)
DB_STATEMENT_TIMEOUT = env_float("DB_STATEMENT_TIMEOUT", 60.0, allow_zero=True)
DB_IDLE_IN_TRANSACTION_TIMEOUT = env_float("DB_IDLE_IN_TRANSACTION_TIMEOUT", 60.0, allow_zero=True)
DB_KEEPALIVES_IDLE = env_int("DB_KEEPALIVES_IDLE", 30, minimum=1)
DB_KEEPALIVES_INTERVAL = env_int("DB_KEEPALIVES_INTERVAL", 10, minimum=1)
DB_KEEPALIVES_COUNT = env_int("DB_KEEPALIVES_COUNT", 3, minimum=1)
DATABASES = {
    "default": database_config(
        DATABASE_URL,
        BASE_DIR,
        DB_CONN_MAX_AGE,
        postgres=postgres_options(
            connect_timeout=DB_CONNECT_TIMEOUT,
            statement_timeout=DB_STATEMENT_TIMEOUT,
            idle_in_transaction_timeout=DB_IDLE_IN_TRANSACTION_TIMEOUT,
            keepalives_idle=DB_KEEPALIVES_IDLE,
            keepalives_interval=DB_KEEPALIVES_INTERVAL,
            keepalives_count=DB_KEEPALIVES_COUNT,
        ),
    )
}
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
    # Redis unreachable: the cache and the broker fail after this many seconds instead of the
    # kernel's connect timeout; a task is enqueued from the gateway's database thread.
    REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 2.0)
    _redis_timeouts = {
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": _redis_timeouts,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
    CELERY_BROKER_TRANSPORT_OPTIONS = _redis_timeouts
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
# Without Celery beat and Redis (`make run`): the server runs the schedule below on its own loop,
# where the stations' sockets are (demo/periodic.py); run_periodic alone cannot reach them.
PERIODIC_IN_SERVER = env_bool("PERIODIC_IN_SERVER", False)
PERIODIC_TICK_SECONDS = env_float("PERIODIC_TICK_SECONDS", 5.0)
CELERY_BEAT_SCHEDULE = {
    "purge-ocpp-message-log": {
        "task": "ocpp_gateway.tasks.purge_message_log",
        "schedule": 3600.0,
    },
    # With the lease period, a killed gateway process's stations show offline within 60 s.
    "reconcile-station-liveness": {
        "task": "ocpp_gateway.tasks.reconcile_station_liveness",
        "schedule": 15.0,
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
    # The safety net of every after-commit enqueue (core.enqueue): work a broker outage lost.
    "rate-unrated-sessions": {
        "task": "billing.tasks.rate_unrated_sessions",
        "schedule": 300.0,
    },
    # Payments nothing was heard of (a lost webhook), and holds whose payer walked away.
    "reconcile-payments": {
        "task": "billing.tasks.reconcile_payments",
        "schedule": 300.0,
    },
    "expire-pending-commands": {
        "task": "ocpp_gateway.tasks.expire_pending_commands",
        "schedule": 60.0,
    },
    # Signing requests a stopped process accepted but never answered with CertificateSigned.
    "resume-certificate-requests": {
        "task": "ocpp_gateway.tasks.resume_certificate_requests",
        "schedule": 300.0,
    },
    # Time-based alert rules (offline, stuck, silent meters, start failures, capacity) and
    # escalation of alerts nobody acknowledged.
    "evaluate-alert-rules": {
        "task": "alerts.tasks.evaluate_alert_rules",
        "schedule": 60.0,
    },
    # The safety nets of the after-commit sends: mails and webhook deliveries still owed.
    "send-pending-notifications": {
        "task": "alerts.tasks.send_pending_notifications",
        "schedule": 60.0,
    },
    "deliver-due-webhooks": {
        "task": "alerts.tasks.deliver_due_webhooks",
        "schedule": 30.0,
    },
    # Pushes to roaming partners still owed (first try failed, or the broker lost the send).
    "deliver-due-ocpi-pushes": {
        "task": "roaming.tasks.deliver_due_pushes",
        "schedule": 30.0,
    },
    # Partners' drivers' running sessions: kWh, charging periods and cost so far (PATCH).
    # CDRs whose push plan a dying process lost between the rating's commit and its subscriber.
    "push-unpushed-roaming-cdrs": {
        "task": "roaming.tasks.push_unpushed_cdrs",
        "schedule": 600.0,
    },
    "push-active-roaming-sessions": {
        "task": "roaming.tasks.push_active_sessions",
        "schedule": 300.0,
    },
    "purge-ocpi-exchange-log": {
        "task": "roaming.tasks.purge_exchange_log",
        "schedule": 3600.0,
    },
    # Partners' command results not delivered yet (retried with backoff), lost commands failed.
    "send-ocpi-command-results": {
        "task": "roaming.tasks.send_command_results",
        "schedule": 30.0,
    },
    # Our CPO role reads the tokens its eMSP partners changed (the pushes' safety net).
    "pull-ocpi-emsp-tokens": {
        "task": "roaming.tasks.pull_tokens_from_emsp_partners",
        "schedule": 3600.0,
    },
    # Our eMSP role reads what its CPO partners' senders changed (the pushes' safety net).
    "pull-ocpi-cpo-partners": {
        "task": "roaming.tasks.pull_from_cpo_partners",
        "schedule": 3600.0,
    },
    # Roaming cards that expired by date: their row did not change, so nothing pushed them.
    "publish-expired-roaming-tokens": {
        "task": "roaming.tasks.publish_expired_tokens",
        "schedule": 3600.0,
    },
    # Ten past the hour, after billing rated the sessions that stopped before it; the last
    # two local days are recomputed, older ones when a late CDR changed them.
    "roll-up-roaming-activity": {
        "task": "roaming.tasks.roll_up_activity",
        "schedule": crontab(minute=10),
    },
    # Firmware campaigns: start the next wave in each site's window, watch failures, time out.
    "advance-firmware-campaigns": {
        "task": "fleet.tasks.advance_campaigns",
        "schedule": 60.0,
    },
    # Planned maintenance windows: connectors Inoperative at the start, Operative at the end.
    "apply-maintenance-windows": {
        "task": "ocpp_gateway.tasks.apply_maintenance_windows",
        "schedule": 60.0,
    },
    # Diagnostics and log files older than their organization's retention.
    "purge-old-diagnostics": {
        "task": "stations.tasks.purge_old_diagnostics",
        "schedule": 3600.0,
    },
    "send-alert-digests": {
        "task": "alerts.tasks.send_alert_digests",
        "schedule": crontab(minute=0),
    },
    # Baseline runs nobody took (a lost enqueue) are sent again; those a dead process left close.
    "resume-baseline-runs": {
        "task": "ocpp_gateway.remote.baselines.resume_baseline_runs",
        "schedule": 300.0,
    },
    # Bulk command results a stopped process left open are failed and their commands finished.
    "close-stale-bulk-results": {
        "task": "ocpp_gateway.remote.bulk.close_stale_bulk_results",
        "schedule": 600.0,
    },
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins (portal, admin, browsable API, token endpoint), counted by django-axes per
# (username, client address) pair: a guesser is stopped without locking the real user out
# from anywhere else, and the lock ends by itself after the cooling period. The client address
# is REMOTE_ADDR, which uvicorn already takes from X-Forwarded-For for FORWARDED_ALLOW_IPS only;
# headers are never read here, so a client cannot pick its own address.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# The database handler: attempts survive a restart or a Redis flush, are shared by every
# process, and can be read and reset in the admin; logins are too rare for its writes to matter.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "portal.login_guard.lockout_response"
AXES_CLIENT_STR_CALLABLE = "portal.login_guard.client_str"
AXES_VERBOSE = False
# A real user's own typos do not add up towards a lock once they get the password right.
AXES_RESET_ON_SUCCESS = True
# Successful logins are not failures: each one would be a row a login forever.
AXES_DISABLE_ACCESS_LOG = True
# Seconds between the summary lines of failed logins (portal.login_guard.LoginFailureSummary).
LOGIN_FAILURE_LOG_SECONDS = env_int("LOGIN_FAILURE_LOG_SECONDS", 60, minimum=1)

# Behind TLS: cookies only over HTTPS and HSTS unless DEBUG (`make run` is plain http on
# localhost). TLS ends at the proxy in front; uvicorn takes the scheme from its
# X-Forwarded-Proto (FORWARDED_ALLOW_IPS), so Django sees HTTPS without trusting any header.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# For a server that does not rewrite the scheme itself (daphne): trust the proxy's header.
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SILENCED_SYSTEM_CHECKS = [
    # Redirecting http:// to https:// is the TLS proxy's job: stations and health checks reach
    # the app over plain http on the inside (SECURE_SSL_REDIRECT=true does it here instead).
    "security.W008",
    # Preloading is a commitment to browsers' lists an operator makes, never a default.
    "security.W021",
]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files stations upload (diagnostics, logs): never served as static files, only through the
# portal's permission-checked downloads. MEDIA_URL stays unset for the same reason.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", "") or BASE_DIR / "media")
# How long a station may upload to a diagnostics location the portal handed out, and how large
# one file may be.
DIAGNOSTICS_UPLOAD_HOURS = env_int("DIAGNOSTICS_UPLOAD_HOURS", 24, minimum=1)
DIAGNOSTICS_MAX_UPLOAD_BYTES = env_int(
    "DIAGNOSTICS_MAX_UPLOAD_BYTES", 100 * 1024 * 1024, minimum=1024
)
# The largest photo or PDF attached to a maintenance record.
MAINTENANCE_MAX_ATTACHMENT_BYTES = env_int(
    "MAINTENANCE_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024, minimum=1024
)
# How long uploaded diagnostics files are kept where an organization set no retention of its own.
DIAGNOSTICS_RETENTION_DAYS = env_int("DIAGNOSTICS_RETENTION_DAYS", 90, minimum=1)
# Firmware campaigns: a station sent UpdateFirmware that reports nothing for this long fails.
FLEET_STATION_TIMEOUT_HOURS = env_int("FLEET_STATION_TIMEOUT_HOURS", 24, minimum=1)
# Serve the apps' static files without a collectstatic step: one thing less to forget when
# deploying, at the cost of a scan at start-up.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (make run, make serve) names every file after its content's hash and writes
    # gzip and brotli copies; WhiteNoise serves those, cached for a year as immutable. A file
    # not collected keeps its plain name, served from the apps' folders (portal.staticfiles).
    "staticfiles": {"BACKEND": "portal.staticfiles.HashedCompressedStaticFilesStorage"},
}
# Firmware images (firmware app): files under MEDIA_ROOT/firmware, or an S3-compatible bucket
# (AWS, MinIO, Ceph...). Either way stations download through the platform's signed URLs.
STORAGES["firmware"] = firmware_storage(
    env_choice("FIRMWARE_STORAGE", "local", ("local", "s3")),
    bucket=env_str("FIRMWARE_S3_BUCKET", ""),
    endpoint_url=env_str("FIRMWARE_S3_ENDPOINT_URL", ""),
    region=env_str("FIRMWARE_S3_REGION", ""),
    access_key_id=env_str("FIRMWARE_S3_ACCESS_KEY_ID", ""),
    secret_access_key=env_str("FIRMWARE_S3_SECRET_ACCESS_KEY", ""),
    prefix=env_str("FIRMWARE_S3_PREFIX", "firmware"),
    addressing_style=env_choice(
        "FIRMWARE_S3_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual")
    ),
)
# The largest firmware image an admin may upload, and how long a signed download URL lasts
# (long enough for a campaign's window; a station retrying a day later still gets the file).
FIRMWARE_MAX_UPLOAD_BYTES = env_int("FIRMWARE_MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024)
FIRMWARE_URL_HOURS = env_int("FIRMWARE_URL_HOURS", 48, minimum=1, maximum=24 * 90)
# Payments (billing.providers): the platform's Stripe keys. Organizations pick their own
# connected account and currency (PaymentAccount); no key set means payments are off.
# STRIPE_API_BASE points the library elsewhere (a local fake such as localstripe; tests only).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
# The signing secret of the Connect endpoint (events of connected accounts), if there is one.
STRIPE_CONNECT_WEBHOOK_SECRET = env_str("STRIPE_CONNECT_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "").rstrip("/")
# Minutes a payment may wait for its payer (the hosted page left open) before it is canceled.
PAYMENT_PENDING_MINUTES = env_int("PAYMENT_PENDING_MINUTES", 30, minimum=5, maximum=24 * 60)
if STRIPE_API_BASE and not STRIPE_API_BASE.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"STRIPE_API_BASE={STRIPE_API_BASE!r} must start with http(s)://")
# The plain-named copies would only be compressed twice: the finders serve those names.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Source maps are read by developer tools only: compressing them doubled collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *("jpg", "jpeg", "png", "gif", "webp", "ico", "zip", "gz", "tgz", "bz2", "xz", "br"),
    *("woff", "woff2", "mp4", "webm", "map"),
]
# The portal's own pages for a CSRF refusal (an expired form), like every other 403.
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"

REST_FRAMEWORK = {
    # Token first: DRF takes the WWW-Authenticate header from the first class, and only with
    # one does an unauthenticated request get 401 rather than 403. Sessions serve the portal.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "organizations.api.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bodies only: form encoding turns "" into "not sent" or null, so a client's
    # mistake would pass silently. Uploads (the card import) declare their own parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.TenantAutoSchema",
    # Redis or the database away: a JSON 503, never Django's HTML 500 page.
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
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
        "core.api.schema.allow_empty_filters",
    ],
    # Several models have a `status` or `role`: name each enum after its choices.
    "ENUM_NAME_OVERRIDES": {
        "ConnectorStatusEnum": "stations.choices.ConnectorStatus",
        "CommandStatusEnum": "ocpp_gateway.choices.CommandStatus",
        "IdTokenStatusEnum": "cards.choices.IdTokenStatus",
        "InvitationStatusEnum": "organizations.choices.InvitationStatus",
        "ReservationStatusEnum": "sessions_app.choices.ReservationStatus",
        "InvoiceStatusEnum": "billing.choices.InvoiceStatus",
        "RoamingPartnerStatusEnum": "roaming.choices.PartnerStatus",
        "RoleEnum": "organizations.choices.Role",
        "APIKeyRoleEnum": "organizations.models.APIKeyRole",
        "RoamingPartnerRoleEnum": "roaming.choices.PartnerRole",
        "TariffAssignmentScopeEnum": "billing.choices.AssignmentScope",
        "TariffTypeEnum": "billing.choices.TariffType",
        "IdTokenTypeEnum": "cards.choices.IdTokenType",
        "ChargingProfilePurposeEnum": "stations.choices.ChargingProfilePurpose",
        "SessionStateEnum": "sessions_app.choices.SessionState",
        "AlertKindEnum": "alerts.choices.RuleKind",
        "AlertStateEnum": "alerts.choices.AlertState",
        "AlertActionEnum": "alerts.choices.AlertAction",
        "SeverityEnum": "alerts.choices.Severity",
        "DeliveryStatusEnum": "alerts.choices.DeliveryStatus",
        "MaintenanceKindEnum": "availability.choices.MaintenanceKind",
    },
}

# Email (member invitations). Without EMAIL_HOST mails are printed to the console.
EMAIL_HOST = env_str("EMAIL_HOST", "")
# Empty means: SMTP when EMAIL_HOST is set, else the console.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# A hanging mail server must not hold a request for long: the send is after commit, logged.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Charging portal <noreply@localhost>")

# Alerting: a condition back within this many minutes after it cleared reopens its alert
# instead of opening a new one (a flapping station is one alert, not a storm).
ALERT_REOPEN_MINUTES = env_int("ALERT_REOPEN_MINUTES", 10, minimum=0)
# Webhook deliveries: attempts before a delivery is given up, and each request's timeout.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT", 10, minimum=1)
# Whether endpoints may resolve to private, loopback or link-local addresses. Off in production:
# an organization's admin must not make the platform probe its own network (SSRF).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)
# Where the portal is reached from outside: alert mails and webhook payloads link to it.
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://localhost:8000").rstrip("/")
if not PORTAL_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"PORTAL_BASE_URL={PORTAL_BASE_URL!r} must start with http(s)://")
# OCPI roaming. Partners read our versions from OCPI_BASE_URL/ocpi/<organization>/versions.
OCPI_BASE_URL = (env_str("OCPI_BASE_URL", "") or PORTAL_BASE_URL).rstrip("/")
# Where stations upload diagnostics and logs (the address they reach the CSMS's HTTP at).
DIAGNOSTICS_BASE_URL = (env_str("DIAGNOSTICS_BASE_URL", "") or PORTAL_BASE_URL).rstrip("/")
# Where stations download firmware images from (empty: DIAGNOSTICS_BASE_URL).
FIRMWARE_BASE_URL = (env_str("FIRMWARE_BASE_URL", "") or DIAGNOSTICS_BASE_URL).rstrip("/")
if not FIRMWARE_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"FIRMWARE_BASE_URL={FIRMWARE_BASE_URL!r} must start with http(s)://"
    )
if not OCPI_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"OCPI_BASE_URL={OCPI_BASE_URL!r} must start with http(s)://")
# Requests a partner may make per minute (a partner's own limit, set on it, wins); 0: no limit.
OCPI_RATE_LIMIT_PER_MINUTE = env_int("OCPI_RATE_LIMIT_PER_MINUTE", 600, minimum=0)
# The most objects one page of a list answers (X-Limit).
OCPI_PAGE_LIMIT = env_int("OCPI_PAGE_LIMIT", 100, minimum=1, maximum=1000)
# Seconds a call to a partner may take; a real-time authorization waits less, a station is asking.
OCPI_TIMEOUT = env_int("OCPI_TIMEOUT", 15, minimum=1)
OCPI_AUTHORIZE_TIMEOUT = env_int("OCPI_AUTHORIZE_TIMEOUT", 4, minimum=1)
# 2.2.1 sends tokens base64-encoded; a partner that refuses is asked again with the plain token.
OCPI_ENCODE_TOKENS = env_bool("OCPI_ENCODE_TOKENS", True)
# As for webhooks: partners' URLs may not resolve to private addresses outside development.
OCPI_ALLOW_PRIVATE_ADDRESSES = env_bool("OCPI_ALLOW_PRIVATE_ADDRESSES", DEBUG)
# Attempts before a push to a partner is given up (pauses grow from 30 s to 12 h).
OCPI_PUSH_MAX_ATTEMPTS = env_int("OCPI_PUSH_MAX_ATTEMPTS", 10, minimum=1)
# Days every OCPI request and response is kept for support (admin: OCPI exchanges).
OCPI_LOG_RETENTION_DAYS = env_int("OCPI_LOG_RETENTION_DAYS", 30, minimum=1)
# Days a member invitation can be accepted before it expires.
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1, maximum=90)

# OCPP gateway
OCPP_UNKNOWN_STATIONS = env_choice("OCPP_UNKNOWN_STATIONS", "refuse", ("refuse", "register"))
OCPP_DEFAULT_HEARTBEAT_INTERVAL = env_int("OCPP_DEFAULT_HEARTBEAT_INTERVAL", 300, minimum=10)
OCPP_MAX_FRAME_BYTES = env_int("OCPP_MAX_FRAME_BYTES", 65536, minimum=1024)
OCPP_CALL_TIMEOUT = env_float("OCPP_CALL_TIMEOUT", 30.0)
# A gateway process renews its lease every third of this; a killed one's stations are marked
# offline by the next reconciliation after it expires (each third in the survivors, 15 s in beat).
OCPP_GATEWAY_LEASE_SECONDS = env_float("OCPP_GATEWAY_LEASE_SECONDS", 30.0)
if not 1 <= OCPP_GATEWAY_LEASE_SECONDS <= 45:
    # Past 45 s a killed process's stations could show online for longer than a minute.
    raise ImproperlyConfigured("OCPP_GATEWAY_LEASE_SECONDS must be between 1 and 45")
# Station clocks are trusted inside this window around server time; outside it the server
# time is used and the correction recorded on the session (sessions_app.services).
OCPP_TIMESTAMP_MAX_AGE_DAYS = env_int("OCPP_TIMESTAMP_MAX_AGE_DAYS", 60, minimum=1)
OCPP_TIMESTAMP_MAX_AHEAD_SECONDS = env_int("OCPP_TIMESTAMP_MAX_AHEAD_SECONDS", 3600, minimum=0)
# Sessions whose readings cannot be right are held for review instead of being billed.
SESSION_DEFAULT_MAX_POWER_KW = env_int("SESSION_DEFAULT_MAX_POWER_KW", 350, minimum=1)
SESSION_MAX_DURATION_HOURS = env_int("SESSION_MAX_DURATION_HOURS", 168, minimum=1)
# Pricing (billing/engine.py): which OCPI 2.2.1 text decides whether charging time or parking
# carries a session's one time step rounding, and how far a meter may advance between two
# readings for the time between them still to count as parking (meter resolution).
BILLING_STEP_SIZE_READING = env_choice("BILLING_STEP_SIZE_READING", "2.2.1", ("2.2.1", "2.2.1-d2"))
BILLING_PARKING_TOLERANCE_WH = env_int("BILLING_PARKING_TOLERANCE_WH", 0, minimum=0)
OCPP_MESSAGE_LOG_ENABLED = env_bool("OCPP_MESSAGE_LOG_ENABLED", True)
OCPP_MESSAGE_LOG_RETENTION_DAYS = env_int("OCPP_MESSAGE_LOG_RETENTION_DAYS", 30, minimum=1)
OCPP_MESSAGE_LOG_FLUSH_SECONDS = env_float("OCPP_MESSAGE_LOG_FLUSH_SECONDS", 1.0)
# Station password guessing (ocpp_gateway/throttle.py): failed handshakes one client address
# may make, and one station identity may receive from all addresses, before addresses cool down.
OCPP_AUTH_FAILURES_PER_ADDRESS = env_int("OCPP_AUTH_FAILURES_PER_ADDRESS", 20, minimum=1)
OCPP_AUTH_FAILURES_PER_STATION = env_int("OCPP_AUTH_FAILURES_PER_STATION", 10, minimum=1)
OCPP_AUTH_COOLING_SECONDS = env_int("OCPP_AUTH_COOLING_SECONDS", 300, minimum=1)
# Who signs station and EV certificates (ocpp_gateway/certificates.py); the default has no CA
# and answers every signing request with the rejection the OCPP 2.0.1 schemas allow.
OCPP_CERTIFICATE_PROVIDER = env_str(
    "OCPP_CERTIFICATE_PROVIDER", "ocpp_gateway.certificates.NoCertificateAuthority"
)
# Garbage collection of a gateway process holding thousands of sockets (ocpp_gateway/gcpolicy.py).
GC_FREEZE_SECONDS = env_float("GC_FREEZE_SECONDS", 10.0, allow_zero=True)
GC_FULL_COLLECT_SECONDS = env_float("GC_FULL_COLLECT_SECONDS", 3600.0, allow_zero=True)

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        "login_failure_summary": {
            "()": "portal.login_guard.LoginFailureSummary",
            "period": LOGIN_FAILURE_LOG_SECONDS,
        },
        "hide_locked_out_requests": {"()": "portal.login_guard.HideLockedOutRequests"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["hide_locked_out_requests"],
        },
        # axes writes a line per failed login: under a guessing attack, one line per period.
        "login_failures": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["login_failure_summary"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"handlers": ["login_failures"], "level": LOG_LEVEL, "propagate": False},
    },
}
