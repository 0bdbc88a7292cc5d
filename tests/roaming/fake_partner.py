"""A partner's OCPI server played by the test: a real HTTP socket, answers the test sets."""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from roaming.ocpi.status import envelope


@dataclass
class Received:
    """One request the fake partner got."""

    method: str
    path: str
    query: dict
    headers: dict
    body: object


@dataclass
class Reply:
    """What the fake partner answers: HTTP status, JSON body, headers."""

    http_status: int = 200
    body: object = None
    headers: dict = field(default_factory=dict)


def ocpi_reply(data=None, status_code: int = 1000, http_status: int = 200, headers=None):
    """An OCPI envelope reply."""
    return Reply(http_status, envelope(data, status_code, "ok"), headers or {})


class FakePartner:
    """Routes (method, path) to a reply or a function of the request; keeps every request."""

    def __init__(self):
        self.routes: dict[tuple[str, str], Reply | Callable[[Received], Reply]] = {}
        self.received: list[Received] = []
        self.lock = threading.Lock()
        partner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = Received(
                    self.command,
                    split.path,
                    {k: v[0] for k, v in parse_qs(split.query).items()},
                    dict(self.headers),
                    json.loads(raw) if raw else None,
                )
                with partner.lock:
                    partner.received.append(request)
                route = partner.routes.get((self.command, split.path))
                reply = route(request) if callable(route) else route
                if reply is None:
                    reply = Reply(404, envelope(None, 2000, "no such route"))
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.http_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakePartner":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def requests_to(self, path: str) -> list[Received]:
        """The requests received on one path, oldest first."""
        with self.lock:
            return [r for r in self.received if r.path == path]
