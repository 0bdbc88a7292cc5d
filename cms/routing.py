"""WebSocket routes."""

from django.urls import re_path

from ocpp_gateway.consumers import OcppConsumer

websocket_urlpatterns = [
    # The station's identity is the last path segment; anything before it is free-form.
    re_path(r"^ocpp/(?:.+/)?(?P<identity>[^/]+)/?$", OcppConsumer.as_asgi()),
]
