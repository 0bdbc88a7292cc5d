"""Strict helpers that read settings from the environment and fail loudly on bad values."""

import os
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    return (os.environ if environ is None else environ).get(name)


def env_str(name: str, default: str | None = None, environ: Mapping[str, str] | None = None):
    """Return a string variable, or the default when unset."""
    value = _raw(name, environ)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    """Return a boolean variable; anything but a known spelling is an error."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0, yes/no)")


def env_int(
    name: str,
    default: int,
    environ: Mapping[str, str] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return an integer variable within optional bounds."""
    value = _raw(name, environ)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}")
    return number


def env_float(
    name: str, default: float, environ: Mapping[str, str] | None = None, allow_zero: bool = False
) -> float:
    """Return a positive float variable (or zero, where zero means "never")."""
    value = _raw(name, environ)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if number < 0 or (number == 0 and not allow_zero):
        raise ImproperlyConfigured(f"{name}={number} must be positive")
    return number


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    """Return a comma-separated list variable without empty items."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(
    name: str, default: str, choices: tuple[str, ...], environ: Mapping[str, str] | None = None
) -> str:
    """Return a variable that must be one of the given choices."""
    value = env_str(name, default, environ)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def env_rate(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """Return a request rate such as `10/min`, in the form DRF's throttles read."""
    value = env_str(name, default, environ)
    number, _, period = value.partition("/")
    if not (number.isdigit() and period in {"s", "sec", "m", "min", "h", "hour", "d", "day"}):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate such as 10/min or 1000/hour")
    return value


def firmware_storage(
    kind: str,
    *,
    bucket: str = "",
    endpoint_url: str = "",
    region: str = "",
    access_key_id: str = "",
    secret_access_key: str = "",
    prefix: str = "",
    addressing_style: str = "auto",
) -> dict:
    """STORAGES["firmware"]: files under MEDIA_ROOT/firmware, or an S3-compatible bucket."""
    if kind == "local":
        # Its own class so the folder follows MEDIA_ROOT (tests move it) rather than a path
        # fixed when the settings were read.
        return {"BACKEND": "firmware.storage.LocalFirmwareStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"FIRMWARE_STORAGE={kind!r} must be one of local, s3")
    if not bucket:
        raise ImproperlyConfigured("FIRMWARE_STORAGE=s3 needs FIRMWARE_S3_BUCKET")
    if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"FIRMWARE_S3_ENDPOINT_URL={endpoint_url!r} must start with http(s)://"
        )
    if bool(access_key_id) != bool(secret_access_key):
        # One without the other would fall back to boto3's own credential chain in silence.
        raise ImproperlyConfigured(
            "Set both FIRMWARE_S3_ACCESS_KEY_ID and FIRMWARE_S3_SECRET_ACCESS_KEY, or neither "
            "(then boto3's usual credentials apply: AWS_* variables, instance role)"
        )
    options = {
        "bucket_name": bucket,
        "location": prefix.strip("/"),
        # Stations never reach the bucket: the platform streams every download itself.
        "querystring_auth": False,
        "default_acl": None,
        "file_overwrite": False,
        # A download is spooled to a temporary file past this size, not held in memory whole.
        "max_memory_size": 8 * 1024 * 1024,
    }
    if addressing_style != "auto":
        options["addressing_style"] = addressing_style
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if region:
        options["region_name"] = region
    if access_key_id:
        options["access_key"] = access_key_id
        options["secret_key"] = secret_access_key
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def postgres_options(
    *,
    connect_timeout: int,
    statement_timeout: float,
    idle_in_transaction_timeout: float,
    keepalives_idle: int,
    keepalives_interval: int,
    keepalives_count: int,
) -> dict:
    """libpq connection options that make an unreachable or stuck PostgreSQL fail, not hang."""
    # Without them a partitioned network stalls the gateway's single database thread, and
    # with it every station of the process, for as long as the kernel's TCP timeouts (hours).
    # Keepalives find a dead peer of an idle connection; tcp_user_timeout (ms) one that stopped
    # acknowledging a query in flight, in about the same time.
    dead_peer_seconds = keepalives_idle + keepalives_interval * keepalives_count
    server = []
    if statement_timeout:
        server.append(f"-c statement_timeout={round(statement_timeout * 1000)}")
    if idle_in_transaction_timeout:
        server.append(
            f"-c idle_in_transaction_session_timeout={round(idle_in_transaction_timeout * 1000)}"
        )
    options = {
        "connect_timeout": connect_timeout,
        "keepalives": 1,
        "keepalives_idle": keepalives_idle,
        "keepalives_interval": keepalives_interval,
        "keepalives_count": keepalives_count,
        "tcp_user_timeout": dead_peer_seconds * 1000,
    }
    if server:
        options["options"] = " ".join(server)
    return options


# SQLite as `make run` uses it: writers queue (busy timeout, write lock taken at BEGIN) instead of
# failing, and in WAL mode the portal's reads never wait for, or refuse, the gateway's writes.
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_config(
    url: str | None, base_dir, conn_max_age: int, postgres: dict | None = None
) -> dict:
    """Turn DATABASE_URL into Django's DATABASES['default'] (unset: SQLite beside manage.py)."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(base_dir / "db.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
        }
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in {"postgres", "postgresql", "sqlite"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme!r} is not supported (use postgres:// or sqlite:///)"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL: {exc}") from None
    if scheme == "sqlite":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = SQLITE_OPTIONS
    elif postgres:
        # An option given in the URL's query string wins over the one from its variable.
        config["OPTIONS"] = {**postgres, **config.get("OPTIONS", {})}
    return config


def redis_url(url: str | None) -> str | None:
    """Validate REDIS_URL (unset: no Redis, everything in memory)."""
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r} must start with redis://, rediss:// or unix://"
        )
    return url


def redis_db_index(url: str) -> int:
    """The database index a Redis URL selects (path /N or ?db=N; 0 when neither)."""
    parsed = urlsplit(url)
    index = parse_qs(parsed.query).get("db", [""])[0] or parsed.path.strip("/") or "0"
    if not index.isdigit():
        raise ImproperlyConfigured(f"REDIS_URL={url!r} selects no numeric database")
    return int(index)
