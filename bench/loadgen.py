"""The load generator: client processes that each hold thousands of simulated stations.

The parent (LoadGenerator) sends each client process one operation at a time over a pipe
(connect, closed loop, open loop, reconnect, ...) and merges what they send back: latency
samples, failure counters, first/last timestamps and CPU used. Timestamps are CLOCK_MONOTONIC
(time.monotonic), which every process on the machine shares, so windows line up across them.
"""

import asyncio
import base64
import contextlib
import itertools
import json
import math
import multiprocessing
import random
import resource
import socket
import time
import traceback
from array import array
from collections import Counter
from time import perf_counter

import uvloop
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bench import frames, frames201

# Linux: bind() fixes the source address now and leaves the port to connect(), which may then
# reuse a port per destination; without it every bound socket holds a port of its own.
IP_BIND_ADDRESS_NO_PORT = 24
# 127.0.0.0/8 is all loopback: 253 source addresses give 253 x the ephemeral port range.
SOURCE_ADDRESSES = tuple(f"127.0.0.{n}" for n in range(2, 255))
STATIONS_PER_PROCESS = 8000
CONNECTORS = (1, 2)
PROTOCOLS = ("1.6", "2.0.1")


def raise_open_file_limit() -> int:
    """Lift the soft limit on open files to the hard one: every station is a socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def narrow_port_range_warning() -> str | None:
    """A warning when the ephemeral port range could run short for tens of thousands of sockets."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
    except (OSError, ValueError):
        return None
    if high - low < 20000:
        return (
            f"net.ipv4.ip_local_port_range is {low}-{high} ({high - low} ports): one source "
            "address could run out of ports; the generator spreads over 253 of them"
        )
    return None


def message_type(text: str) -> str:
    """The OCPP-J message type of a frame ("2", "3" or "4"), read without parsing JSON."""
    end = text.find('"')
    return text[1:end].strip(" ,\t\r\n")


class CallFailed(Exception):
    """A CALL that got no usable answer; `kind` is the failure counter it goes to."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


def _time_out(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(CallFailed("timeout"))


class Window:
    """The measured part of an operation: answers received in [start, end) count."""

    __slots__ = ("acked", "acked_total", "answered_at", "end", "samples", "start")

    def __init__(self, start: float = 0.0, end: float = math.inf):
        self.start, self.end = start, end
        self.samples = array("d")
        # When each sample's answer came (monotonic): a timeline shows periodic stalls.
        self.answered_at = array("d")
        self.acked = 0
        # Every answer of the operation, warm-up and drain included (S5 checks rows against it).
        self.acked_total = 0

    def record(self, latency: float) -> None:
        self.acked_total += 1
        now = time.monotonic()
        if self.start <= now < self.end:
            self.acked += 1
            self.samples.append(latency)
            self.answered_at.append(now)


class ConnectWindow(Window):
    """A connect or reconnect wave: also its handshakes and its first and last moments."""

    __slots__ = ("first_attempt", "handshake_samples", "last_answer", "up")

    def __init__(self):
        super().__init__()
        self.first_attempt = math.inf
        self.last_answer = 0.0
        self.up = 0
        self.handshake_samples = array("d")


class Ocpp16:
    """What a 1.6 station sends for each action of the generator's vocabulary."""

    subprotocol = "ocpp1.6"
    # The generator's action names are 1.6's: each is sent as itself.
    messages: dict[str, str] = {}
    charging_status = "Charging"

    def boot(self, uid: str, index: int) -> str:
        return frames.boot_notification(uid, index)

    def status(self, uid: str, connector: int, status: str) -> str:
        return frames.status_notification(uid, connector, status)

    def heartbeat(self, uid: str) -> str:
        return frames.heartbeat(uid)

    def authorize(self, uid: str, station: "Station") -> str:
        return frames.authorize(uid, station.index)

    def start(self, uid: str, station: "Station") -> str:
        return frames.start_transaction(uid, station.index, 1, station.meter)

    def started(self, station: "Station", reply: str) -> str | None:
        """Take the transaction the answer gives; a failure kind if it was not accepted."""
        failure = None
        if message_type(reply) == "3":
            payload = json.loads(reply)[2]
            if payload.get("idTagInfo", {}).get("status") != "Accepted":
                failure = "start_not_accepted"
            station.transaction_id = payload.get("transactionId")
        if station.transaction_id is None:
            # An echo server answers with our own CALL: any id will do.
            station.transaction_id = station.index
        return failure

    def meter_values(self, uid: str, station: "Station") -> str:
        station.meter += 37
        return frames.meter_values(uid, 1, station.transaction_id or 0, station.meter)

    def stop(self, uid: str, station: "Station") -> str:
        text = frames.stop_transaction(uid, station.index, station.transaction_id, station.meter)
        station.transaction_id = None
        return text


class Ocpp201(Ocpp16):
    """What a 2.0.1 station sends: a transaction is TransactionEvent Started/Updated/Ended."""

    subprotocol = frames201.SUBPROTOCOL
    messages = {
        "MeterValues": "TransactionEvent Updated",
        "StartTransaction": "TransactionEvent Started",
        "StopTransaction": "TransactionEvent Ended",
    }
    charging_status = "Occupied"

    def boot(self, uid: str, index: int) -> str:
        return frames201.boot_notification(uid, index)

    def status(self, uid: str, connector: int, status: str) -> str:
        # The bench stations' connector n is the one connector of EVSE n.
        return frames201.status_notification(uid, connector, status)

    def heartbeat(self, uid: str) -> str:
        return frames201.heartbeat(uid)

    def authorize(self, uid: str, station: "Station") -> str:
        return frames201.authorize(uid, station.index)

    def start(self, uid: str, station: "Station") -> str:
        # The station numbers its own transactions; a failed start's number is not reused.
        station.transactions += 1
        transaction = frames201.transaction_id(station.identity, station.transactions)
        return frames201.transaction_started(uid, station.index, transaction, station.meter)

    def started(self, station: "Station", reply: str) -> str | None:
        failure = None
        if message_type(reply) == "3":
            info = json.loads(reply)[2].get("idTokenInfo")
            if info is not None and info.get("status") != "Accepted":
                failure = "start_not_accepted"
        station.transaction_id = frames201.transaction_id(station.identity, station.transactions)
        station.seq_no = 0
        return failure

    def meter_values(self, uid: str, station: "Station") -> str:
        station.meter += 37
        station.seq_no += 1
        return frames201.transaction_updated(
            uid, station.transaction_id or "", station.seq_no, station.meter
        )

    def stop(self, uid: str, station: "Station") -> str:
        station.seq_no += 1
        text = frames201.transaction_ended(
            uid, station.index, station.transaction_id, station.seq_no, station.meter
        )
        station.transaction_id = None
        return text


DIALECTS = {"1.6": Ocpp16(), "2.0.1": Ocpp201()}


class Station:
    """One simulated charging station: a socket, at most one CALL in flight, its transaction."""

    __slots__ = (
        "auth",
        "busy",
        "identity",
        "index",
        "last_ws",
        "meter",
        "reader",
        "seq_no",
        "source",
        "transaction_id",
        "transactions",
        "waiting",
        "worker",
        "ws",
    )

    def __init__(self, worker: "Worker", index: int, password: str):
        self.worker = worker
        self.index = index
        self.identity = frames.identity(index)
        token = base64.b64encode(f"{self.identity}:{password}".encode()).decode()
        self.auth = f"Basic {token}"
        self.source = SOURCE_ADDRESSES[index % len(SOURCE_ADDRESSES)]
        self.ws = None
        self.last_ws = None
        self.reader = None
        self.waiting = None  # (unique id, future) of the CALL in flight
        # Set when an open-loop CALL is scheduled, before its task runs: one CALL at a time.
        self.busy = False
        self.transaction_id = None
        # 2.0.1: how many transactions this station began, and the last event's seqNo.
        self.transactions = 0
        self.seq_no = 0
        self.meter = 1_000_000 + index * 1000

    async def open(self) -> None:
        """TCP connect from this station's source address, then the WebSocket handshake."""
        worker = self.worker
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((self.source, 0))
            sock.setblocking(False)
            await worker.loop.sock_connect(sock, (worker.host, worker.port))
        except BaseException:
            sock.close()
            raise
        self.ws = await connect(
            worker.url + self.identity,
            sock=sock,
            subprotocols=[worker.dialect.subprotocol],
            additional_headers={"Authorization": self.auth},
            compression=None,
            proxy=None,
            user_agent_header=None,
            open_timeout=None,  # the caller's deadline covers TCP connect and handshake
            ping_interval=None,
            close_timeout=2,
            max_queue=4,
        )
        if self.ws.subprotocol != worker.dialect.subprotocol:
            # A server that spoke another version (or none) would measure something else.
            ws, self.ws = self.ws, None
            await ws.close()
            raise CallFailed("wrong_subprotocol", f"{self.identity}: {ws.subprotocol!r}")
        self.reader = worker.loop.create_task(self._read(self.ws))

    async def _read(self, ws) -> None:
        try:
            async for text in ws:
                start = text.find('"')
                unique_id = text[start + 1 : text.find('"', start + 1)]
                waiting = self.waiting
                # Matched by unique id whatever the type: an echo server answers with our CALL.
                if waiting is not None and waiting[0] == unique_id:
                    if not waiting[1].done():
                        waiting[1].set_result(text)
                elif message_type(text) == "2":
                    # A CALL from the CSMS (S7): stations accept at once.
                    self.worker.server_calls += 1
                    await ws.send(f'[3,"{unique_id}",{{"status":"Accepted"}}]')
                else:
                    self.worker.failures["late_or_unknown_answer"] += 1
        except ConnectionClosed:
            pass
        finally:
            if self.ws is ws:
                self.ws = None
                self.last_ws = ws
                if self.waiting is not None and not self.waiting[1].done():
                    self.waiting[1].set_exception(CallFailed("closed"))
                self.worker.on_closed(self)

    async def call(self, unique_id: str, text: str) -> str:
        """Send one CALL and return the answer frame; raise CallFailed without a usable one."""
        ws = self.ws
        if ws is None:
            raise CallFailed("not_connected")
        loop = self.worker.loop
        future = loop.create_future()
        self.waiting = (unique_id, future)
        timer = loop.call_later(self.worker.call_timeout, _time_out, future)
        try:
            await ws.send(text)
            reply = await future
        except ConnectionClosed:
            raise CallFailed("closed") from None
        finally:
            timer.cancel()
            self.waiting = None
        if message_type(reply) == "4":
            code = json.loads(reply)[2]
            raise CallFailed(f"CallError {code}", reply[:300])
        return reply

    async def close(self) -> None:
        ws = self.ws
        self.ws = None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
            if self.reader is not None:
                with contextlib.suppress(BaseException):
                    await self.reader


class Pool:
    """A set with O(1) add, discard and random choice."""

    def __init__(self, items=()):
        self.items = []
        self.position = {}
        for item in items:
            self.add(item)

    def __len__(self):
        return len(self.items)

    def add(self, item) -> None:
        if item not in self.position:
            self.position[item] = len(self.items)
            self.items.append(item)

    def discard(self, item) -> None:
        index = self.position.pop(item, None)
        if index is None:
            return
        last = self.items.pop()
        if index < len(self.items):
            self.items[index] = last
            self.position[last] = index

    def choice(self, rng: random.Random):
        return self.items[rng.randrange(len(self.items))] if self.items else None


class Worker:
    """One client process: its stations on one uvloop, driven by operations from the parent."""

    def __init__(self, config: dict, pipe):
        self.pipe = pipe
        self.index = config["index"]
        self.host, self.port = config["host"], config["port"]
        self.url = f"ws://{self.host}:{self.port}/ocpp/"
        self.call_timeout = config["call_timeout"]
        self.dialect = DIALECTS[config["protocol"]]
        self.open_timeout = config["open_timeout"]
        shared = config["shared_password"]
        self.station_list = [
            Station(self, i, shared or frames.password(i)) for i in config["stations"]
        ]
        self.rng = random.Random(config["seed"])
        self._ids = itertools.count(1)
        self._prefix = f"{self.index:x}-"
        self.failures = Counter()
        self.examples: list[str] = []
        self.server_calls = 0
        self.retries = 0
        # What a closing socket means: an error, an expected close, or a restart to ride out.
        self.expect_close = False
        self.restarting = False
        self.reconnects: set[asyncio.Task] = set()
        self.reconnect_window: ConnectWindow | None = None
        self.deadline = math.inf
        self.restart_cpu = 0.0
        self.loop = None

    def uid(self) -> str:
        return f"{self._prefix}{next(self._ids):x}"

    # --- plumbing --------------------------------------------------------------------------

    async def main(self) -> None:
        raise_open_file_limit()
        self.loop = asyncio.get_running_loop()
        while True:
            command = await self.loop.run_in_executor(None, self.pipe.recv)
            op = command.pop("op")
            if op == "exit":
                break
            cpu = time.process_time()
            try:
                result = await getattr(self, f"op_{op}")(**command)
            except Exception:
                result = {"error": traceback.format_exc()}
            result.setdefault("cpu_seconds", time.process_time() - cpu)
            # Everything since the last report, including what happened between operations
            # (a socket closing while the parent was busy, refused connects during a restart).
            result["failures"] = dict(self.failures)
            result["examples"] = self.examples[:5]
            result["retries"] = self.retries
            self.failures, self.examples, self.retries = Counter(), [], 0
            self.pipe.send(result)

    def fail(self, kind: str, detail: str = "") -> None:
        self.failures[kind] += 1
        if detail and len(self.examples) < 5:
            self.examples.append(detail)

    def on_closed(self, station: Station) -> None:
        if self.restarting:
            self._spawn_reconnect(station)
        elif not self.expect_close:
            ws = station.last_ws
            self.fail(
                "unexpected_close",
                f"{station.identity}: code {ws.close_code} {ws.close_reason!r}" if ws else "",
            )

    def _spawn_reconnect(self, station: Station) -> None:
        task = self.loop.create_task(
            self.bring_up(station, self.reconnect_window, retry=True, deadline=self.deadline)
        )
        self.reconnects.add(task)

    async def timed_call(self, station: Station, text: str, uid: str, window: Window):
        """One CALL with its latency recorded in the window; None (and a failure) if it failed."""
        started = perf_counter()
        try:
            reply = await station.call(uid, text)
        except CallFailed as failure:
            self.fail(failure.kind, failure.detail or f"{station.identity}: {text[:120]}")
            return None
        window.record(perf_counter() - started)
        return reply

    async def _sleep_until(self, when: float) -> None:
        delay = when - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _cpu_window(self, start: float, end: float) -> dict:
        """CPU seconds of this process between two monotonic instants, read when they pass."""
        marks = {}

        def mark(name):
            marks[name] = time.process_time()

        now = time.monotonic()
        self.loop.call_later(max(0.0, start - now), mark, "start")
        self.loop.call_later(max(0.0, end - now), mark, "end")
        return marks

    # --- connecting ------------------------------------------------------------------------

    async def bring_up(self, station, window, *, retry=False, deadline=math.inf) -> bool:
        """Handshake, BootNotification and StatusNotification per connector, all answered."""
        backoff = 0.05
        while True:
            attempt = time.monotonic()
            window.first_attempt = min(window.first_attempt, attempt)
            try:
                async with asyncio.timeout(self.open_timeout):
                    await station.open()
                break
            except InvalidStatus as refusal:
                self.fail("handshake_refused", f"{station.identity}: {refusal}")
                return False
            except CallFailed as failure:
                self.fail(failure.kind, failure.detail)
                return False
            except TimeoutError:
                self.fail("handshake_timeout", station.identity)
            except (ConnectionRefusedError, InvalidHandshake, ConnectionClosed, OSError) as error:
                # While the server restarts, nobody listens (refused), or the dying server's
                # accept queue is reset (no HTTP answer): stations retry with short backoff.
                restart_noise = self.restarting or isinstance(error, ConnectionRefusedError)
                if retry and restart_noise and time.monotonic() < deadline:
                    self.retries += 1
                    await asyncio.sleep(backoff * (0.5 + self.rng.random()))
                    backoff = min(backoff * 2, 0.5)
                    continue
                self.fail("handshake_error", f"{station.identity}: {error!r}")
            if not retry or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(backoff * (0.5 + self.rng.random()))
        window.handshake_samples.append(time.monotonic() - attempt)
        reply = await self.timed_call(
            station, self.dialect.boot(uid := self.uid(), station.index), uid, window
        )
        if reply is None:
            return False
        if message_type(reply) == "3" and json.loads(reply)[2].get("status") != "Accepted":
            self.fail("boot_not_accepted", reply[:300])
            return False
        for connector in CONNECTORS:
            text = self.dialect.status(uid := self.uid(), connector, "Available")
            if await self.timed_call(station, text, uid, window) is None:
                return False
        window.last_answer = max(window.last_answer, time.monotonic())
        window.up += 1
        return True

    def _connect_result(self, window: Window) -> dict:
        return {
            "samples": window.samples,
            "handshake_samples": window.handshake_samples,
            "acked": window.acked_total,
            "up": window.up,
            "first_attempt": window.first_attempt,
            "last_answer": window.last_answer,
            "connected": self.connected(),
        }

    def connected(self) -> int:
        return sum(1 for s in self.station_list if s.ws is not None)

    async def op_connect(self, concurrency: int) -> dict:
        """Bring every station up, at most `concurrency` handshakes at a time."""
        self.expect_close = False
        window = ConnectWindow()
        gate = asyncio.Semaphore(concurrency)

        async def one(station):
            async with gate:
                await self.bring_up(station, window)

        await asyncio.gather(*(one(s) for s in self.station_list if s.ws is None))
        return self._connect_result(window)

    async def op_close_all(self) -> dict:
        """Close every socket cleanly (the server stays up)."""
        self.expect_close = True
        await asyncio.gather(*(s.close() for s in self.station_list))
        return {"connected": self.connected()}

    async def op_reconnect_all(self, start_at: float, deadline: float) -> dict:
        """All stations reconnect at once, retrying until the deadline."""
        await self._sleep_until(start_at)
        self.expect_close = False
        self.deadline = deadline
        window = ConnectWindow()
        await asyncio.gather(
            *(
                self.bring_up(s, window, retry=True, deadline=deadline)
                for s in self.station_list
                if s.ws is None
            )
        )
        return self._connect_result(window)

    async def op_prepare_restart(self, deadline: float) -> dict:
        """From now on a closed socket reconnects at once: the server is about to be killed."""
        self.restarting = True
        self.deadline = deadline
        self.reconnect_window = ConnectWindow()
        self.restart_cpu = time.process_time()
        return {}

    async def op_await_restart(self) -> dict:
        """Wait until every station is back (or the deadline passed)."""
        while time.monotonic() < self.deadline:
            pending = [t for t in self.reconnects if not t.done()]
            if not pending and self.connected() == len(self.station_list):
                break
            if pending:
                await asyncio.wait(pending, timeout=0.2)
            else:
                await asyncio.sleep(0.05)
        self.restarting = False
        for task in self.reconnects:
            task.cancel()
        await asyncio.gather(*self.reconnects, return_exceptions=True)
        self.reconnects.clear()
        # The reconnects began before this operation did: CPU counts from prepare_restart.
        return {
            **self._connect_result(self.reconnect_window),
            "cpu_seconds": time.process_time() - self.restart_cpu,
        }

    # --- transactions ----------------------------------------------------------------------

    async def op_start_transactions(self, fraction: float, concurrency: int) -> dict:
        """StartTransaction on connector 1 of the first `fraction` of the stations."""
        chosen = self.station_list[: round(len(self.station_list) * fraction)]
        window = Window()
        gate = asyncio.Semaphore(concurrency)

        async def one(station):
            async with gate:
                await self._start(station, window)

        await asyncio.gather(*(one(s) for s in chosen))
        started = sum(1 for s in chosen if s.transaction_id is not None)
        return {"samples": window.samples, "acked": window.acked_total, "started": started}

    async def _start(self, station: Station, window: Window) -> bool:
        uid = self.uid()
        text = self.dialect.start(uid, station)
        reply = await self.timed_call(station, text, uid, window)
        if reply is None:
            return False
        failure = self.dialect.started(station, reply)
        if failure:
            self.fail(failure, reply[:300])
        return True

    def _meter_values(self, station: Station, uid: str) -> str:
        return self.dialect.meter_values(uid, station)

    # --- steady traffic --------------------------------------------------------------------

    async def op_closed_loop(self, action: str, start_at: float, duration: float) -> dict:
        """Each station sends `action` again as soon as the last one is answered."""
        end = start_at + duration
        window = Window(start_at, end)
        cpu = self._cpu_window(start_at, end)
        build = {
            "Heartbeat": lambda s, uid: self.dialect.heartbeat(uid),
            "MeterValues": self._meter_values,
        }[action]

        async def loop(station):
            while time.monotonic() < end and station.ws is not None:
                uid = self.uid()
                if await self.timed_call(station, build(station, uid), uid, window) is None:
                    await asyncio.sleep(0.1)

        await asyncio.gather(*(loop(s) for s in self.station_list))
        return {
            "samples": window.samples,
            "answered_at": window.answered_at,
            "acked": window.acked,
            "acked_total": window.acked_total,
            "cpu_seconds": cpu.get("end", time.process_time()) - cpu.get("start", 0.0),
            "connected": self.connected(),
        }

    async def op_open_loop(
        self, mix: dict, rate_per_station: float, start_at: float, duration: float, poisson: bool
    ) -> dict:
        """CALLs at a rate per station (evenly spaced, or Poisson), actions drawn from `mix`."""
        rate = rate_per_station * len(self.station_list)
        end = start_at + duration
        window = Window(start_at, end)
        cpu = self._cpu_window(start_at, end)
        actions, weights = list(mix), list(mix.values())
        everyone = [s for s in self.station_list if s.ws is not None]
        charging = Pool(s for s in everyone if s.transaction_id is not None)
        idle = Pool(s for s in everyone if s.transaction_id is None)
        tasks: set[asyncio.Task] = set()
        sent = Counter()
        skipped = 0
        lag = 0.0
        when = time.monotonic()
        turn = 0
        while rate > 0:
            when += self.rng.expovariate(rate) if poisson else 1 / rate
            if when >= end:
                break
            await self._sleep_until(when)
            lag = max(lag, time.monotonic() - when)
            action = self.rng.choices(actions, weights)[0] if len(actions) > 1 else actions[0]
            if poisson:
                pool = {
                    "MeterValues": charging,
                    "StopTransaction": charging,
                    "Authorize": idle,
                    "StartTransaction": idle,
                }.get(action)
                station = self._pick(pool.items if pool is not None else everyone)
            else:
                # Evenly spread: every station in turn, one after the other.
                station = everyone[turn % len(everyone)] if everyone else None
                turn += 1
            if station is None or station.busy or station.ws is None:
                skipped += 1
                continue
            station.busy = True
            sent[action] += 1
            task = self.loop.create_task(self._one(station, action, window, charging, idle))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        return {
            "samples": window.samples,
            "answered_at": window.answered_at,
            "acked": window.acked,
            "acked_total": window.acked_total,
            "sent": dict(sent),
            "skipped": skipped,
            "max_schedule_lag_ms": round(lag * 1000, 3),
            "cpu_seconds": cpu.get("end", time.process_time()) - cpu.get("start", 0.0),
            "connected": self.connected(),
        }

    def _pick(self, candidates):
        """A random station of the candidates with no CALL in flight (a few tries)."""
        if not candidates:
            return None
        for _ in range(8):
            station = candidates[self.rng.randrange(len(candidates))]
            if not station.busy and station.ws is not None:
                return station
        return None

    async def _one(self, station, action, window, charging: Pool, idle: Pool) -> None:
        try:
            await self._send_one(station, action, window, charging, idle)
        finally:
            station.busy = False

    async def _send_one(self, station, action, window, charging: Pool, idle: Pool) -> None:
        uid = self.uid()
        if action == "Heartbeat":
            text = self.dialect.heartbeat(uid)
        elif action == "StatusNotification":
            busy = station.transaction_id is not None
            text = self.dialect.status(
                uid, 1, self.dialect.charging_status if busy else "Available"
            )
        elif action == "MeterValues":
            text = self._meter_values(station, uid)
        elif action == "Authorize":
            text = self.dialect.authorize(uid, station)
        elif action == "StartTransaction":
            idle.discard(station)
            if await self._start(station, window):
                charging.add(station)
            else:
                idle.add(station)
            return
        elif action == "StopTransaction":
            charging.discard(station)
            text = self.dialect.stop(uid, station)
            idle.add(station)
        else:
            raise ValueError(action)
        await self.timed_call(station, text, uid, window)

    async def op_stats(self) -> dict:
        """Counters since the last call: CALLs from the server answered, sockets still open."""
        answered, self.server_calls = self.server_calls, 0
        return {"server_calls": answered, "connected": self.connected()}


def worker_main(config: dict, pipe) -> None:
    """Entry point of a client process."""
    uvloop.run(Worker(config, pipe).main())


class LoadGenerator:
    """The client processes of one run, and the merge of what they report."""

    def __init__(
        self,
        host: str,
        port: int,
        indices: list[int],
        processes: int,
        *,
        shared_password: str | None = None,
        call_timeout: float = 30.0,
        open_timeout: float = 30.0,
        seed: int = 1,
        protocol: str = "1.6",
    ):
        context = multiprocessing.get_context("spawn")
        processes = max(1, min(processes, len(indices)))
        self.stations = len(indices)
        self.pipes = []
        self.processes = []
        for k in range(processes):
            parent, child = context.Pipe()
            config = {
                "index": k,
                "host": host,
                "port": port,
                "stations": indices[k::processes],
                "shared_password": shared_password,
                "call_timeout": call_timeout,
                "open_timeout": open_timeout,
                "seed": seed * 1000 + k,
                "protocol": protocol,
            }
            process = context.Process(
                target=worker_main, args=(config, child), name=f"bench-client-{k}", daemon=True
            )
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def begin(self, op: str, **args) -> None:
        """Send an operation to every client process (they run it concurrently)."""
        for pipe in self.pipes:
            pipe.send({"op": op, **args})

    def collect(self) -> list[dict]:
        """Wait for every client process to finish its operation; a crash in one is raised."""
        results = []
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            try:
                results.append(pipe.recv())
            except EOFError:
                raise RuntimeError(f"{process.name} died (exit code {process.exitcode})") from None
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            raise RuntimeError("a client process failed:\n" + errors[0])
        return results

    def run(self, op: str, **args) -> list[dict]:
        self.begin(op, **args)
        return self.collect()

    def close(self) -> None:
        """Close every station's socket and end the client processes."""
        with contextlib.suppress(Exception):
            self.run("close_all")
        for pipe in self.pipes:
            with contextlib.suppress(Exception):
                pipe.send({"op": "exit"})
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


def default_processes(stations: int) -> int:
    """One client process per ~8,000 stations (each holds one socket per station)."""
    return max(1, math.ceil(stations / STATIONS_PER_PROCESS))


async def _warm_one(host: str, port: int, index: int, password: str, dialect: Ocpp16) -> None:
    identity = frames.identity(index)
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    async with connect(
        f"ws://{host}:{port}/ocpp/{identity}",
        subprotocols=[dialect.subprotocol],
        additional_headers={"Authorization": f"Basic {token}"},
        compression=None,
        proxy=None,
        ping_interval=None,
        open_timeout=30,
    ) as ws:
        for text in (dialect.boot("w1", index), dialect.heartbeat("w2")):
            await ws.send(text)
            await asyncio.wait_for(ws.recv(), 30)


def warm_up(
    host: str, port: int, stations: int, shared_password: str | None, protocol: str = "1.6"
) -> None:
    """A few connections (one BootNotification and Heartbeat each) before anything is measured."""
    dialect = DIALECTS[protocol]

    async def all_of_them():
        await asyncio.gather(
            *(
                _warm_one(host, port, i, shared_password or frames.password(i), dialect)
                for i in range(1, stations + 1)
            )
        )

    uvloop.run(all_of_them())
