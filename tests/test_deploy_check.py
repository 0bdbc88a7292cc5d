"""Production settings pass Django's deployment check; `make run` stays local and on plain http."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cms import serve

BASE_DIR = Path(__file__).resolve().parent.parent
PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "redirect": settings.SECURE_SSL_REDIRECT,
    "proxy_header": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
}))
"""


def environment(**variables):
    """This process's environment without the suite's settings, plus the given variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
        and not key.startswith(("SECURE_", "AXES_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="cms.settings", **variables)
    return env


def production(**variables):
    return environment(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="cms.example.com",
        **variables,
    )


def probe(env):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_deployment_check_is_clean_with_debug_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_with_debug_off_cookies_are_https_only_and_hsts_is_a_year():
    assert probe(production()) == {
        "session_secure": True,
        "csrf_secure": True,
        "hsts": 31536000,
        "redirect": False,
        "proxy_header": None,
    }


def test_make_run_over_plain_http_sends_cookies_without_the_secure_flag():
    # DEBUG=true is what `make run` exports: a secure cookie would never come back over http.
    settings = probe(environment(DEBUG="true"))

    assert (settings["session_secure"], settings["csrf_secure"], settings["hsts"]) == (
        False,
        False,
        0,
    )


def test_the_environment_decides_cookies_hsts_redirect_and_the_proxy_header():
    settings = probe(
        production(
            SECURE_COOKIES="false",
            SECURE_HSTS_SECONDS="600",
            SECURE_SSL_REDIRECT="true",
            SECURE_PROXY_SSL_HEADER="true",
        )
    )

    assert settings == {
        "session_secure": False,
        "csrf_secure": False,
        "hsts": 600,
        "redirect": True,
        "proxy_header": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def make_run_commands(**variables):
    """The commands `make run` would execute (make -n), with these variables in its environment."""
    env = {**os.environ, **variables}
    env = {key: value for key, value in env.items() if value is not None}
    result = subprocess.run(
        ["make", "-n", "run"], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_make_run_listens_on_this_machine_only_by_default():
    commands = make_run_commands(HOST=None, PORT=None)

    assert "daphne -b 127.0.0.1 -p 8000 cms.asgi:application" in commands


def test_make_run_listens_where_host_and_port_say():
    commands = make_run_commands(HOST="0.0.0.0", PORT="9000")

    assert "daphne -b 0.0.0.0 -p 9000 cms.asgi:application" in commands


def test_the_production_server_listens_on_loopback_unless_host_says(monkeypatch):
    calls = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(serve, "raise_open_file_limit", lambda: 0)
    monkeypatch.delenv("HOST", raising=False)
    serve.main([])
    monkeypatch.setenv("HOST", "0.0.0.0")
    serve.main([])

    assert [options["host"] for options in calls] == ["127.0.0.1", "0.0.0.0"]
