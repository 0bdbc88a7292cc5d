"""A real HTTP server in a thread for webhook tests: scripted answers, recorded requests."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request the server got: its path, headers (lower-cased names) and exact body."""

    path: str
    headers: dict[str, str]
    body: bytes


class WebhookServer:
    """Answers POSTs with the scripted status codes in order, then `default_status`."""

    def __init__(self, default_status: int = 200):
        self.default_status = default_status
        self.received: list[Received] = []
        # Each entry: a status code, or (status code, seconds to wait before answering).
        self._script: list[int | tuple[int, float]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/hooks/cms"

    def answer(self, *steps: int | tuple[int, float]) -> None:
        """Queue the answers of the next requests (status, or (status, delay in seconds))."""
        with self._lock:
            self._script.extend(steps)

    def start(self) -> "WebhookServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> tuple[int, float]:
        with self._lock:
            step = self._script.pop(0) if self._script else self.default_status
        return step if isinstance(step, tuple) else (step, 0.0)

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with server._lock:
                    server.received.append(Received(self.path, headers, body))
                status, delay = server._next()
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, format, *args):
                pass

        return Handler
