"""WebSocket routes."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import re_path

from ocpp_gateway.consumers import OcppConsumer
from ocpp_gateway.handshake import refuse_unrouted
from portal.consumers import PortalConsumer


class AllowedHostsOriginValidator(OriginValidator):
    """Channels' validator of the same name, reading ALLOWED_HOSTS on each connection."""

    # Channels' own copies the list when the routes are imported; tests (and a settings
    # override) change it later, and the page's origin must be checked against the current one.

    def __init__(self, application):
        super().__init__(application, allowed_origins=())

    @property
    def allowed_origins(self):
        if settings.DEBUG and not settings.ALLOWED_HOSTS:
            return ["localhost", "127.0.0.1", "[::1]"]
        return settings.ALLOWED_HOSTS

    @allowed_origins.setter
    def allowed_origins(self, value):
        # Set by the base class's constructor; the property above is the source of truth.
        pass


websocket_urlpatterns = [
    # First: stations are most connections (and bench/baselines/b3_echo.py reuses this one).
    # The station's identity is the last path segment; anything before it is free-form.
    re_path(r"^ocpp/(?:.+/)?(?P<identity>[^/]+)/?$", OcppConsumer.as_asgi()),
    # A portal page's live updates: the session cookie says who it is, the origin must be ours.
    re_path(
        r"^ws/portal/(?P<org>[-\w]+)/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(PortalConsumer.as_asgi())),
    ),
    # Last: any other path (/ocpp/ without an identity, a typo) is a 404 and one log line;
    # Channels' own answer is a 500 with a traceback per request.
    re_path(r"", refuse_unrouted),
]
