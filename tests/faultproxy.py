"""A TCP proxy that a test can cut and restore, to take Redis or PostgreSQL away for a while."""

import contextlib
import selectors
import socket
import struct
import threading

# SO_LINGER on with a zero timeout: close() sends RST, not FIN.
_LINGER_RESET = struct.pack("ii", 1, 0)


class FaultProxy:
    """Forwards 127.0.0.1:<port> to a server; `cut()` drops every connection and refuses new ones.

    Runs in a thread of its own, so the application under test may use it from any thread or
    event loop. The real server is never touched: only the path to it is broken.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._cut = False
        self._silent = False
        self._held: list[socket.socket] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="fault-proxy", daemon=True)
        self.accepted = 0

    @property
    def url_netloc(self) -> str:
        """host:port of the proxy, to put into a URL in place of the server's."""
        return f"127.0.0.1:{self.port}"

    def __enter__(self):
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping = True
        self._thread.join(5)
        with self._lock:
            self._close_all()
            self._release_held()
        self._listener.close()
        self._selector.close()

    def cut(self) -> None:
        """Drop every open connection and refuse new ones (they are closed on arrival)."""
        with self._lock:
            self._cut = True
            self._close_all()

    def blackhole(self) -> None:
        """Drop every open connection; new ones are accepted, then never answered (a partition)."""
        # What a partition looks like to a client opening a connection: only its own timeouts
        # (connect_timeout) end the wait.
        with self._lock:
            self._cut = True
            self._silent = True
            self._close_all()

    def restore(self) -> None:
        """Forward new connections again."""
        with self._lock:
            self._cut = False
            self._silent = False
            self._release_held()

    def _release_held(self) -> None:
        for sock in self._held:
            with contextlib.suppress(OSError):
                sock.close()
        self._held.clear()

    def _close_all(self) -> None:
        for sock in list(self._peers):
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(sock)
            with contextlib.suppress(OSError):
                # RST rather than FIN: a client sees the connection fail at once, as on a crash.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                sock.close()
        self._peers.clear()

    def _serve(self) -> None:
        while not self._stopping:
            with self._lock:
                ready = self._selector.select(timeout=0.05) if self._selector.get_map() else []
                for key, _ in ready:
                    if key.fileobj is self._listener:
                        self._accept()
                    else:
                        self._forward(key.fileobj)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._cut:
            if self._silent:
                self._held.append(client)
            else:
                client.close()
            return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        self.accepted += 1
        for sock in (client, upstream):
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ)
        self._peers[client], self._peers[upstream] = upstream, client

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peers.get(sock)
        if peer is None:
            return
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            try:
                peer.setblocking(True)
                peer.sendall(data)
                peer.setblocking(False)
                return
            except OSError:
                pass
        for one in (sock, peer):
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(one)
            self._peers.pop(one, None)
            one.close()
