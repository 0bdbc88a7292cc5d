"""Server processes for tests that need real ones: a free port, and a wait until it listens."""

import socket
import subprocess
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_listening(command: list[str], port: int, env: dict, **popen) -> subprocess.Popen:
    """Start `command` (which serves `port`) and return once it accepts connections."""
    popen.setdefault("stderr", subprocess.PIPE)
    server = subprocess.Popen(command, cwd=BASE_DIR, env=env, **popen)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"{command[:3]} did not start listening on port {port}")
