"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
django_asgi_app = get_asgi_application()

import asyncio  # noqa: E402

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from cms.routing import websocket_urlpatterns  # noqa: E402
from demo.periodic import run_on_serving_loop  # noqa: E402
from ocpp_gateway.gcpolicy import freeze_now  # noqa: E402
from ocpp_gateway.validation import warm_up  # noqa: E402

# Compile every OCPP schema now, not while the first stations of a reconnect storm wait.
warm_up("ocpp1.6")
warm_up("ocpp2.0.1")
# Django, the schemas and the URL maps live as long as the process: keep them out of every
# later garbage collection.
freeze_now()


class WithPeriodicTasks:
    """Starts the beat schedule on the serving loop with the first connection or request."""

    # Embedded defaults (`make run`) have neither Celery beat nor Redis: the schedule must run in
    # the process that holds the stations' sockets for its commands to reach them.

    def __init__(self, app):
        self.app = app
        self.task: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(
                run_on_serving_loop(settings.PERIODIC_TICK_SECONDS)
            )
        return await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
if settings.PERIODIC_IN_SERVER:
    application = WithPeriodicTasks(application)
