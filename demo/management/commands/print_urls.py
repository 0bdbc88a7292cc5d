"""`manage.py print_urls`: where the portal, API, admin and OCPP endpoint are served."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import Resolver404, resolve

from demo.seed import (
    DEMO_PASSWORD,
    DEMO_SUPPORT_PASSWORD,
    DEMO_SUPPORT_USERNAME,
    DEMO_USERNAME,
    OCPP_PATH,
    OCPP_SUBPROTOCOL,
    STATIONS,
)

# Listed only once the route exists, so the printout never points at a 404.
HTTP_ENDPOINTS = (("Portal", "/"), ("REST API", "/api/v1/"), ("Django admin", "/admin/"))

# A server bound to every interface is reached from this machine through localhost.
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}


class Command(BaseCommand):
    help = "Print the URLs of the portal, REST API, Django admin and OCPP endpoint."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="localhost", help="Host the server binds to.")
        parser.add_argument("--port", type=int, default=8000, help="Port the server binds to.")

    def handle(self, *args, **options):
        port = options["port"]
        if not 0 < port < 65536:
            raise CommandError(f"--port {port} is not a TCP port (1-65535).")
        authority = f"{_display_host(options['host'])}:{port}"
        first, last = STATIONS[0], STATIONS[-1]
        served = [(label, path) for label, path in HTTP_ENDPOINTS if _routed(path)]
        lines = [f"{label + ':':<15}http://{authority}{path}" for label, path in served]
        lines += [
            f"{'OCPP:':<15}ws://{authority}{OCPP_PATH}<identity>  (subprotocol {OCPP_SUBPROTOCOL})",
            "",
            f"Demo login:    {DEMO_USERNAME} / {DEMO_PASSWORD}",
            "               change it with `manage.py seed_demo --password <new>`;"
            " `make run` re-seeds and restores the default.",
            f"Admin login:   {DEMO_SUPPORT_USERNAME} / {DEMO_SUPPORT_PASSWORD}"
            " (support staff, Django admin)",
            f"Demo stations: {first.ocpp_id} .. {last.ocpp_id}, Basic-auth passwords"
            f" {first.password} .. {last.password}",
        ]
        self.stdout.write("\n".join(lines))


def _routed(path: str) -> bool:
    """Whether the URL configuration serves `path`."""
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _display_host(host: str) -> str:
    """The host as it goes into a URL a person can open on this machine."""
    if host in WILDCARD_HOSTS:
        return "localhost"
    # IPv6 literals need brackets inside a URL.
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host
