"""`manage.py print_urls` tells a person who ran `make run` where everything is served."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME


def print_urls(*args):
    out = StringIO()
    call_command("print_urls", *args, stdout=out)
    return out.getvalue()


def test_print_urls_shows_localhost_for_a_server_bound_to_every_interface():
    out = print_urls("--host", "0.0.0.0", "--port", "8000")
    assert "http://localhost:8000/admin/" in out
    assert "ws://localhost:8000/ocpp/<identity>" in out
    assert "0.0.0.0" not in out


def test_print_urls_uses_the_given_host_and_port():
    out = print_urls("--host", "cms.example.net", "--port", "9000")
    assert "http://cms.example.net:9000/admin/" in out
    assert "ws://cms.example.net:9000/ocpp/<identity>" in out


def test_print_urls_brackets_an_ipv6_host():
    assert "http://[::1]:8000/admin/" in print_urls("--host", "::1")


def test_print_urls_names_the_ocpp_subprotocol():
    assert "subprotocol ocpp1.6" in print_urls()


def test_print_urls_prints_the_demo_login_and_how_to_change_it():
    out = print_urls()
    assert f"{DEMO_USERNAME} / {DEMO_PASSWORD}" in out
    assert "seed_demo --password" in out


def test_print_urls_rejects_a_port_out_of_range():
    with pytest.raises(CommandError, match="not a TCP port"):
        print_urls("--port", "70000")


def test_print_urls_lists_only_endpoints_that_are_routed(settings):
    settings.ROOT_URLCONF = "tests.demo.urls_without_admin"
    out = print_urls()
    assert "/admin/" not in out
    assert "ws://localhost:8000/ocpp/<identity>" in out
