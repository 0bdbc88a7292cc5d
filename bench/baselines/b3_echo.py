"""Baseline b3: a Channels consumer that echoes every frame, served exactly like the product."""

import argparse
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
django.setup()

import uvicorn  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from cms.routing import websocket_urlpatterns  # noqa: E402
from cms.serve import raise_open_file_limit, uvicorn_options  # noqa: E402

# The product's own route pattern, so the URL resolution costs the same.
OCPP_PATH = websocket_urlpatterns[0].pattern.regex.pattern


# Newest first, as the product negotiates.
SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")


class EchoConsumer(AsyncWebsocketConsumer):
    """Accepts the OCPP version offered and sends every text frame back; joins the layer."""

    async def connect(self):
        offered = self.scope.get("subprotocols") or []
        chosen = next((p for p in SUBPROTOCOLS if p in offered), None)
        if chosen is None:
            await self.close()
            return
        await self.accept(subprotocol=chosen)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.send(text_data=text_data)


application = ProtocolTypeRouter(
    {"websocket": URLRouter([re_path(OCPP_PATH, EchoConsumer.as_asgi())])}
)


def main(argv=None) -> None:
    """Serve the echo application with the production uvicorn options."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    raise_open_file_limit()
    uvicorn.run(
        "bench.baselines.b3_echo:application",
        **uvicorn_options(args.host, args.port, args.workers),
    )


if __name__ == "__main__":
    main()
