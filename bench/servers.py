"""The servers under test, each a subprocess on a free loopback port: csms, b1, b3."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench import metrics

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DESCRIPTIONS = {
    "csms": "the product (cms.serve: uvicorn, or daphne)",
    "b1": "raw websockets responder, constant answers",
    "b3": "Channels echo consumer under the production uvicorn options",
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
        return True
    return False


class Server:
    """One target's server process tree; the same port across a restart."""

    def __init__(self, target: str, workers: int, env: dict, log_path: Path, kind: str = "uvicorn"):
        if target not in DESCRIPTIONS:
            raise ValueError(f"unknown target {target!r} (csms, b1, b3)")
        self.target = target
        self.workers = workers
        self.kind = kind if target == "csms" else ("websockets" if target == "b1" else "uvicorn")
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.started_in: float | None = None

    @property
    def name(self) -> str:
        return "csms-daphne" if self.target == "csms" and self.kind == "daphne" else self.target

    def command(self) -> list[str]:
        python, port, workers = sys.executable, str(self.port), str(self.workers)
        if self.target == "csms" and self.kind == "daphne":
            daphne = str(Path(sys.executable).with_name("daphne"))
            return [daphne, "-b", HOST, "-p", port, "--verbosity", "0", "cms.asgi:application"]
        if self.target == "csms":
            return [python, "-m", "cms.serve", "--host", HOST, "--port", port, "--workers", workers]
        module = {"b1": "bench.baselines.b1_responder", "b3": "bench.baselines.b3_echo"}
        return [
            python,
            "-m",
            module[self.target],
            "--host",
            HOST,
            "--port",
            port,
            "--workers",
            workers,
        ]

    def start(self, timeout: float = 60.0) -> float:
        """Start the server and wait until it accepts TCP connections; returns seconds taken."""
        began = time.monotonic()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(),
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session, so a kill reaches every worker and nothing reaches the harness.
            start_new_session=True,
        )
        log.close()
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            if listening(self.port):
                self.started_in = time.monotonic() - began
                return self.started_in
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen within {timeout} s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        return [p.pid for p in metrics.tree(self.process.pid)] if self.process else []

    def rss(self) -> int:
        """Resident memory of the whole server (supervisor and workers) in bytes."""
        return metrics.tree_rss(self.process.pid) if self.process else 0

    def worker_count(self) -> int:
        """Server processes: the supervisor and its workers (not multiprocessing's helpers)."""
        count = 0
        for process in metrics.tree(self.process.pid) if self.process else []:
            with contextlib.suppress(psutil.Error):
                if "resource_tracker" not in " ".join(process.cmdline()):
                    count += 1
        return count

    def wait_for_workers(self, timeout: float = 30.0) -> None:
        """A multi-process server listens before its workers are up: wait for all of them."""
        expected = 1 if self.workers == 1 or self.kind == "daphne" else self.workers + 1
        deadline = time.monotonic() + timeout
        while self.worker_count() < expected and time.monotonic() < deadline:
            time.sleep(0.05)

    def settle(self, timeout: float = 10.0) -> int:
        """Wait until resident memory stops growing (workers done importing); returns it."""
        deadline = time.monotonic() + timeout
        previous = self.rss()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            current = self.rss()
            if abs(current - previous) <= previous * 0.005:
                return current
            previous = current
        return previous

    def kill(self) -> None:
        """SIGKILL the whole tree at once, as a crash or an OOM kill would."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        # The workers die a moment after the supervisor; until then they hold the listening
        # socket and the new server could not bind the port.
        deadline = time.monotonic() + 5
        while listening(self.port) and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL what is left."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
