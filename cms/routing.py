"""WebSocket routes."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import re_path

from cms.portal.consumers import PortalConsumer
from ocpp_gateway.consumers import OcppConsumer

websocket_urlpatterns = [
    # A portal page's live updates: the session cookie says who it is, the origin must be ours.
    re_path(
        r"^ws/portal/(?P<org>[-\w]+)/$",
        AllowedHostsOriginValidator(AuthMiddlewareStack(PortalConsumer.as_asgi())),
    ),
    # The station's identity is the last path segment; anything before it is free-form.
    re_path(r"^ocpp/(?:.+/)?(?P<identity>[^/]+)/?$", OcppConsumer.as_asgi()),
]
