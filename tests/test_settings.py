"""Settings come from the environment, strictly, and switch between embedded and real services."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import ConnectionHandler

from cms.env import (
    database_config,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    redis_db_index,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "layer_prefix": settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "tz": settings.TIME_ZONE,
}))
"""


def load_settings(**env):
    """Import the settings in a fresh interpreter with exactly these variables set."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "cms.settings", "SECRET_KEY": "probe-secret"}, **env)
    clean = {k: v for k, v in clean.items() if v is not None}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=BASE_DIR, env=clean, capture_output=True, text=True
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


def test_without_database_url_the_platform_uses_a_sqlite_file():
    probe = load_settings()
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["db_name"].endswith("db.sqlite3")


def test_a_postgres_database_url_selects_postgresql():
    probe = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/cms")
    assert probe["engine"] == "django.db.backends.postgresql"
    assert probe["db_name"] == "cms"


def test_a_sqlite_database_url_selects_that_file():
    probe = load_settings(DATABASE_URL="sqlite:////tmp/elsewhere.sqlite3")
    assert probe["engine"] == "django.db.backends.sqlite3"
    assert probe["db_name"] == "/tmp/elsewhere.sqlite3"


def test_without_redis_url_everything_runs_in_memory_and_eagerly():
    probe = load_settings()
    assert probe["layer"] == "channels.layers.InMemoryChannelLayer"
    assert probe["cache"].endswith("LocMemCache")
    assert probe["eager"] is True
    assert probe["broker"] == "memory://"


def test_a_redis_url_selects_redis_for_channels_cache_and_celery():
    probe = load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert probe["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert probe["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert probe["eager"] is False
    assert probe["broker"] == "redis://127.0.0.1:6379/3"


def test_the_channel_layer_prefix_follows_the_redis_database_so_deployments_never_cross_talk():
    # Redis pub/sub channels are global to the server, whatever database index is selected.
    assert load_settings(REDIS_URL="redis://127.0.0.1:6379/3")["layer_prefix"] == "cms3"
    assert load_settings(REDIS_URL="redis://127.0.0.1:6379")["layer_prefix"] == "cms0"
    chosen = load_settings(REDIS_URL="redis://127.0.0.1:6379/3", CHANNEL_LAYER_PREFIX="staging")
    assert chosen["layer_prefix"] == "staging"


def test_env_float_takes_zero_only_where_zero_means_never():
    assert env_float("X", 1.0, environ={"X": "0"}, allow_zero=True) == 0
    with pytest.raises(ImproperlyConfigured, match="must be positive"):
        env_float("X", 1.0, environ={"X": "0"})
    with pytest.raises(ImproperlyConfigured, match="must be positive"):
        env_float("X", 1.0, environ={"X": "-1"}, allow_zero=True)


def test_redis_db_index_reads_the_path_or_the_db_parameter():
    assert redis_db_index("redis://h:6379/7") == 7
    assert redis_db_index("redis://h:6379?db=4") == 4
    assert redis_db_index("unix:///run/redis.sock?db=2") == 2
    assert redis_db_index("redis://h:6379/") == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://root@localhost/cms"}, "scheme 'mysql' is not supported"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' must start with redis://"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE='Mars/Olympus' is not a known time zone"),
        ({"DB_CONN_MAX_AGE": "ten"}, "DB_CONN_MAX_AGE='ten' is not an integer"),
        ({"OCPP_UNKNOWN_STATIONS": "accept"}, "OCPP_UNKNOWN_STATIONS='accept' must be one of"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set unless DEBUG=true"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_clear_error(env, message):
    probe = load_settings(**env)
    assert message in probe.get("error", ""), probe


def test_debug_allows_a_development_secret_and_local_hosts():
    probe = load_settings(SECRET_KEY="", DEBUG="true")
    assert probe["debug"] is True
    assert "localhost" in probe["hosts"]


def test_env_helpers_parse_strictly():
    assert env_bool("X", environ={"X": "Yes"}) is True
    assert env_bool("X", environ={"X": "off"}) is False
    assert env_bool("X", default=True, environ={}) is True
    assert env_int("X", 5, environ={"X": " 42 "}) == 42
    assert env_list("X", [], environ={"X": "a, b,,c "}) == ["a", "b", "c"]
    assert env_choice("X", "a", ("a", "b"), environ={"X": "b"}) == "b"
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("X", 5, environ={"X": "1"}, minimum=10)
    assert redis_url(None) is None


def test_postgres_config_keeps_connections_open_and_health_checked():
    config = database_config("postgres://u:p@db.example:5433/cms", BASE_DIR, conn_max_age=600)
    assert (config["HOST"], config["PORT"], config["USER"]) == ("db.example", 5433, "u")
    assert config["CONN_MAX_AGE"] == 600
    assert config["CONN_HEALTH_CHECKS"] is True


def test_env_example_lists_every_variable_the_settings_read():
    source = "".join((BASE_DIR / "cms" / name).read_text() for name in ("settings.py", "serve.py"))
    example = (BASE_DIR / ".env.example").read_text()
    import re

    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source))
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", example, flags=re.MULTILINE))
    assert read, "the settings read no variables?"
    assert read <= listed, f"missing from .env.example: {sorted(read - listed)}"


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="runs in the PostgreSQL pass")
def test_the_suite_runs_on_postgresql_when_database_url_is_set(db):
    from django.db import connection

    assert connection.vendor == "postgresql"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="runs in the Redis pass")
def test_the_redis_cache_and_channel_layer_answer_when_redis_url_is_set():
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.core.cache import cache

    cache.set("settings-probe", "ok", 5)
    assert cache.get("settings-probe") == "ok"
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisPubSubChannelLayer"

    async def round_trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "probe", "n": 1})
        return await layer.receive(channel)

    assert async_to_sync(round_trip)() == {"type": "probe", "n": 1}
    assert os.environ["REDIS_URL"] == settings.CELERY_BROKER_URL


DATABASE_OPTIONS_PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps(settings.DATABASES["default"].get("OPTIONS", {})))
"""


def database_options(**env) -> dict:
    """settings.DATABASES['default']['OPTIONS'] in a fresh interpreter with these variables."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "cms.settings", "SECRET_KEY": "probe-secret"}, **env)
    result = subprocess.run(
        [sys.executable, "-c", DATABASE_OPTIONS_PROBE],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_postgres_connections_fail_fast_by_default_instead_of_hanging():
    options = database_options(DATABASE_URL="postgres://postgres@127.0.0.1:5432/cms")
    assert options == {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 60_000,
        "options": "-c statement_timeout=60000 -c idle_in_transaction_session_timeout=60000",
    }


def test_postgres_timeouts_follow_the_environment_and_zero_switches_a_server_limit_off():
    options = database_options(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/cms",
        DB_CONNECT_TIMEOUT="3",
        DB_STATEMENT_TIMEOUT="0",
        DB_IDLE_IN_TRANSACTION_TIMEOUT="2.5",
        DB_KEEPALIVES_IDLE="5",
        DB_KEEPALIVES_INTERVAL="2",
        DB_KEEPALIVES_COUNT="4",
    )
    assert options["connect_timeout"] == 3
    assert options["options"] == "-c idle_in_transaction_session_timeout=2500"
    assert (options["keepalives_idle"], options["tcp_user_timeout"]) == (5, 13_000)


def test_an_option_in_the_database_url_wins_over_its_variable():
    config = database_config(
        "postgres://u@db.example/cms?connect_timeout=9",
        BASE_DIR,
        conn_max_age=0,
        postgres={"connect_timeout": 5, "keepalives": 1},
    )
    assert config["OPTIONS"] == {"connect_timeout": 9, "keepalives": 1}


def test_on_sqlite_reads_and_a_write_under_way_do_not_block_each_other(tmp_path, django_db_blocker):
    """The portal reads while the gateway's thread writes, as SQLite is configured (WAL)."""
    config = database_config(f"sqlite:///{tmp_path / 'wal.sqlite3'}", BASE_DIR, conn_max_age=0)
    writer = ConnectionHandler({"default": config})["default"]
    reader = ConnectionHandler({"default": dict(config)})["default"]
    try:
        with django_db_blocker.unblock(), writer.cursor() as w, reader.cursor() as r:
            w.execute("CREATE TABLE station (status TEXT)")
            w.execute("INSERT INTO station VALUES ('Available')")
            w.execute("BEGIN IMMEDIATE")
            w.execute("UPDATE station SET status = 'Charging'")
            # A write under way: the read answers at once with what was committed.
            r.execute("BEGIN")
            r.execute("SELECT status FROM station")
            assert r.fetchone() == ("Available",)
            # A read under way: the write commits without waiting for it to end.
            w.execute("COMMIT")
            r.execute("COMMIT")
            r.execute("SELECT status FROM station")
            assert r.fetchone() == ("Charging",)
    finally:
        writer.close()
        reader.close()


def test_sqlite_takes_no_postgres_options():
    assert database_options() == {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_STATEMENT_TIMEOUT": "soon"}, "DB_STATEMENT_TIMEOUT='soon' is not a number"),
        ({"DB_CONNECT_TIMEOUT": "0"}, "DB_CONNECT_TIMEOUT=0 is below the minimum of 1"),
        ({"REDIS_SOCKET_TIMEOUT": "0", "REDIS_URL": "redis://h/1"}, "must be positive"),
    ],
)
def test_a_bad_outage_timeout_stops_start_up_with_a_clear_error(env, message):
    probe = load_settings(**env)
    assert message in probe.get("error", ""), probe
