"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cms.routing import websocket_urlpatterns  # noqa: E402
from ocpp_gateway.gcpolicy import freeze_now  # noqa: E402
from ocpp_gateway.validation import warm_up  # noqa: E402

# Compile every OCPP schema now, not while the first stations of a reconnect storm wait.
warm_up("ocpp1.6")
warm_up("ocpp2.0.1")
# Django, the schemas and the URL maps live as long as the process: keep them out of every
# later garbage collection.
freeze_now()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
