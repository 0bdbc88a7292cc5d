"""Scenarios S1–S7: what each runs against each target, and the figures it reports."""

import contextlib
import json
import subprocess
import sys
import time
import timeit
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import frames, frames201, metrics, provision
from bench.loadgen import DIALECTS, LoadGenerator, default_processes, warm_up
from bench.servers import BASE_DIR, HOST, Server

MIB = 1024 * 1024

# Per scenario: defaults, what --quick shrinks them to, the targets and what is measured.
DEFAULTS = {
    "S1": {
        "title": "idle capacity: connect all, hold with heartbeats",
        "stations": 20000,
        "workers": 2,
        "duration": 60.0,
        "targets": ("csms", "b1"),
        "quick": {"stations": 20, "duration": 2.0, "heartbeat_interval": 1.0},
    },
    "S2": {
        "title": "reconnect storm: every station drops, then the server restarts",
        "stations": 20000,
        "workers": 2,
        "duration": 0.0,
        "targets": ("csms", "b1"),
        "quick": {"stations": 20, "reconnect_timeout": 20.0},
    },
    "S3": {
        "title": "per-message cost: closed loop, one CALL in flight per station",
        "stations": 200,
        "workers": 1,
        "duration": 10.0,
        "targets": ("csms", "b3", "b1"),
        "quick": {"stations": 10, "duration": 1.0},
    },
    "S4": {
        "title": "schema validation of a meter-values message with 10 sampled values (in-process)",
        "stations": 0,
        "workers": 0,
        "duration": 0.0,
        "targets": ("product", "ocpp"),
        "quick": {},
    },
    "S5": {
        "title": "durable ingest: MeterValues at 2,000 msg/s (20,000 rows/s), then closed loop",
        "stations": 2000,
        "workers": 1,
        "duration": 20.0,
        "rate": 2000.0,
        "targets": ("csms", "b3"),
        "quick": {"stations": 10, "duration": 1.5, "rate": 20.0},
    },
    "S6": {
        "title": "realistic mix: open-loop Poisson traffic over all connected stations",
        "stations": 20000,
        "workers": 2,
        "duration": 60.0,
        "rate": 600.0,
        "targets": ("csms", "b1"),
        "quick": {"stations": 20, "duration": 2.0, "rate": 40.0, "session_fraction": 0.5},
    },
    "S7": {
        "title": "remote commands through the channel layer to connected stations",
        "stations": 1000,
        "workers": 1,
        "duration": 30.0,
        "rate": 200.0,
        "targets": ("csms",),
        "quick": {"stations": 10, "duration": 1.5, "rate": 20.0},
    },
}
SCENARIOS = tuple(DEFAULTS)

GOALS = {
    "S1": [
        {
            "text": "csms total server memory ≤ 1 GiB",
            "key": "hold.server_rss_mb",
            "op": "<=",
            "limit": 1024,
        },
        {
            "text": "csms RSS per connection ≤ 2.5 × b1",
            "key": "hold.server_rss_kb_per_conn",
            "versus": "b1",
            "op": "<=",
            "limit": 2.5,
        },
        {"text": "no failures", "key": "failures", "op": "==", "limit": 0},
    ],
    "S2": [
        {"text": "drop: all back in ≤ 30 s", "key": "drop.seconds", "op": "<=", "limit": 30},
        {"text": "restart: all back in ≤ 30 s", "key": "restart.seconds", "op": "<=", "limit": 30},
        {"text": "no failures", "key": "failures", "op": "==", "limit": 0},
    ],
    "S3": [
        {
            "text": "Heartbeat ≥ 0.85 × b3",
            "key": "Heartbeat.msgs_per_s",
            "versus": "b3",
            "op": ">=",
            "limit": 0.85,
        },
        {
            "text": "MeterValues ≥ 0.75 × b3",
            "key": "MeterValues.msgs_per_s",
            "versus": "b3",
            "op": ">=",
            "limit": 0.75,
        },
    ],
    "S4": [
        {
            "text": "≤ 20 µs per validation",
            "key": "MeterValues.us_per_call",
            "op": "<=",
            "limit": 20,
        }
    ],
    "S5": [
        {
            "text": "≥ 20,000 persisted rows/s",
            "key": "MeterValues.rows_per_s",
            "op": ">=",
            "limit": 20000,
        },
        {
            "text": "p99 ≤ 250 ms at that load",
            "key": "MeterValues.p99_ms",
            "op": "<=",
            "limit": 250,
        },
        {
            "text": "every acknowledged row persisted",
            "key": "MeterValues.all_persisted",
            "op": "==",
            "limit": True,
        },
    ],
    "S6": [{"text": "p99 ≤ 50 ms", "key": "mix.p99_ms", "op": "<=", "limit": 50}],
    "S7": [{"text": "p99 ≤ 25 ms", "key": "commands.p99_ms", "op": "<=", "limit": 25}],
}

# S6: what the stations send, by share of the messages.
MIX = {
    "MeterValues": 0.60,
    "Heartbeat": 0.25,
    "StatusNotification": 0.10,
    "Authorize": 0.05 / 3,
    "StartTransaction": 0.05 / 3,
    "StopTransaction": 0.05 / 3,
}


@dataclass
class Run:
    """Settings of one scenario run: the scenario's defaults, --quick, then the command line."""

    scenario: str
    stations: int
    duration: float
    workers: int
    server: str
    targets: list[str]
    quick: bool
    clients: int
    rate: float
    env: dict
    database_url: str
    redis_url: str
    results_dir: Path
    fleet: provision.Fleet | None = None
    heartbeat_interval: float = 30.0
    session_fraction: float = 0.1
    reconnect_timeout: float = 120.0
    connect_concurrency: int = 256
    open_timeout: float = 60.0
    call_timeout: float = 30.0
    # The OCPP version the stations speak: "1.6" or "2.0.1" (loadgen.DIALECTS).
    protocol: str = "1.6"

    @property
    def warmup(self) -> float:
        return 0.3 if self.quick else min(2.0, self.duration / 5)

    @property
    def subprotocol(self) -> str:
        return DIALECTS[self.protocol].subprotocol

    @property
    def messages(self) -> dict[str, str]:
        """What the generator's 1.6 action names are on the wire in this run's protocol."""
        return DIALECTS[self.protocol].messages

    @property
    def log_dir(self) -> Path:
        return self.results_dir / "logs"


@dataclass
class Outcome:
    """What one target produced: figures for the table, and everything else for the JSON."""

    figures: dict = field(default_factory=dict)
    failures: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def absorb(self, results: list[dict]) -> None:
        """Add the failures every client process reported for one operation."""
        for result in results:
            self.failures.update(result.get("failures", {}))
            self.examples += result.get("examples", [])

    def as_json(self) -> dict:
        figures = {**self.figures, "failures": sum(self.failures.values())}
        return {
            "figures": figures,
            "failures": dict(self.failures),
            "examples": self.examples[:10],
            "notes": self.notes,
            "details": self.details,
        }


class Meters:
    """CPU over one phase of the server, and of PostgreSQL and Redis when the run uses them."""

    def __init__(self, run: "Run", server: Server):
        self.meters = {"server_cpu_pct": metrics.CpuMeter(server.pids)}
        # Same machine, same two cores: what the database spends is part of the cost.
        if run.database_url.startswith("postgres"):
            self.meters["db_cpu_pct"] = metrics.CpuMeter(lambda: metrics.service_pids("postgres"))
        if run.redis_url:
            self.meters["redis_cpu_pct"] = metrics.CpuMeter(
                lambda: metrics.service_pids("redis-server")
            )

    def start(self) -> "Meters":
        for meter in self.meters.values():
            meter.start()
        return self

    def stop(self) -> "Meters":
        for meter in self.meters.values():
            meter.stop()
        return self

    def report(self, figures: dict, phase: str) -> None:
        for key, meter in self.meters.items():
            figures[f"{phase}.{key}"] = meter.percent


# --- building blocks --------------------------------------------------------------------


@contextlib.contextmanager
def serving(run: Run, target: str):
    """A fresh server for one target on a reset database, warmed up; stopped afterwards."""
    provision.reset_dynamic_state()
    provision.close_connections()
    provision.flush_redis(run.redis_url)
    workers = run.workers
    run.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = run.log_dir / f"{run.scenario}-{target}-{run.subprotocol}.log"
    server = Server(target, workers, run.env, log_path, run.server)
    server.start()
    try:
        server.wait_for_workers()
        # One warm connection per worker at least; the measured fleet reconnects them.
        warm_up(
            HOST,
            server.port,
            min(run.stations, 2 * workers),
            run.fleet.shared_password,
            run.protocol,
        )
        server.settle()
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def generating(run: Run, server: Server):
    """Client processes for the run's stations, closed afterwards."""
    clients = run.clients or default_processes(run.stations)
    generator = LoadGenerator(
        HOST,
        server.port,
        list(range(1, run.stations + 1)),
        clients,
        shared_password=run.fleet.shared_password,
        call_timeout=run.call_timeout,
        open_timeout=run.open_timeout,
        protocol=run.protocol,
    )
    try:
        yield generator
    finally:
        generator.close()


def _sum(results: list[dict], key: str) -> float:
    return sum(r.get(key, 0) for r in results)


def _latency(figures: dict, phase: str, results: list[dict]) -> None:
    summary = metrics.latency_summary(metrics.merge_samples(r["samples"] for r in results))
    for name in ("p50_ms", "p99_ms", "max_ms"):
        figures[f"{phase}.{name}"] = summary[name]


def connect_all(run: Run, generator: LoadGenerator, server: Server, out: Outcome) -> None:
    """Every station: handshake, BootNotification, StatusNotification on both connectors."""
    cpu = Meters(run, server).start()
    began = time.monotonic()
    results = generator.run("connect", concurrency=run.connect_concurrency)
    cpu.stop()
    out.absorb(results)
    _wave_figures(out.figures, "connect", results, run.stations, time.monotonic() - began, cpu)


def _wave_figures(figures, phase, results, expected: int, wall: float, cpu: Meters) -> None:
    """Figures of a connect or reconnect wave: first attempt to last answer, all processes."""
    first = min(r["first_attempt"] for r in results)
    last = max(r["last_answer"] for r in results)
    up = int(_sum(results, "up"))
    seconds = max(last - first, 0.0) if up else None
    figures[f"{phase}.connections"] = int(_sum(results, "connected"))
    figures[f"{phase}.seconds"] = round(seconds, 3) if seconds is not None else None
    figures[f"{phase}.handshakes_per_s"] = metrics.rate(up, seconds) if seconds else None
    summary = metrics.latency_summary(
        metrics.merge_samples(r["handshake_samples"] for r in results)
    )
    figures[f"{phase}.handshake_p99_ms"] = summary["p99_ms"]
    _latency(figures, phase, results)
    if up < expected:
        figures[f"{phase}.not_up"] = expected - up
    cpu.report(figures, phase)
    figures[f"{phase}.client_cpu_pct"] = round(100 * _sum(results, "cpu_seconds") / wall, 1)


def steady(run, generator, server, out, phase, op, **args) -> list[dict]:
    """A measured phase: warm-up, then `duration` seconds whose answers and CPU count."""
    start_at = time.monotonic() + run.warmup
    generator.begin(op, start_at=start_at, duration=run.duration, **args)
    cpu = Meters(run, server)
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu.start()
    database_before = provision.database_counters()
    rss = []
    end = start_at + run.duration
    while time.monotonic() < end:
        rss.append(server.rss())
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
    cpu.stop()
    database_after = provision.database_counters()
    results = generator.collect()
    out.absorb(results)
    figures = out.figures
    acked = int(_sum(results, "acked"))
    figures[f"{phase}.connections"] = int(_sum(results, "connected"))
    figures[f"{phase}.msgs_per_s"] = metrics.rate(acked, run.duration)
    _latency(figures, phase, results)
    cpu.report(figures, phase)
    # CLOCK_MONOTONIC is shared by every process: server-side probes can be lined up with it.
    out.details[f"{phase}.window_start_monotonic"] = start_at
    out.details[f"{phase}.timeline"] = metrics.timeline(
        metrics.merge_samples(r["samples"] for r in results),
        metrics.merge_samples(r["answered_at"] for r in results),
        start_at,
        run.duration,
    )
    if database_before and database_after and acked:
        # What one answered message cost the database, over the measured window.
        per_message = {
            key: round((database_after[key] - database_before[key]) / acked, 3)
            for key in database_before
        }
        out.details[f"{phase}.database_per_message"] = per_message
        figures[f"{phase}.db_commits_per_msg"] = per_message["commits"]
        figures[f"{phase}.db_rows_written_per_msg"] = (
            per_message["inserted"] + per_message["updated"]
        )
    figures[f"{phase}.client_cpu_pct"] = round(100 * _sum(results, "cpu_seconds") / run.duration, 1)
    out.details[f"{phase}.rss_samples_mb"] = [round(r / MIB, 1) for r in rss]
    return results


def start_sessions(run, generator, out, fraction: float) -> int:
    """StartTransaction on connector 1 of a fraction of the stations (answered with an id)."""
    results = generator.run(
        "start_transactions", fraction=fraction, concurrency=run.connect_concurrency
    )
    out.absorb(results)
    started = int(_sum(results, "started"))
    out.figures["setup.sessions"] = started
    return started


# --- S1 ---------------------------------------------------------------------------------


def s1(run: Run, target: str) -> Outcome:
    out = Outcome()
    with serving(run, target) as server, generating(run, server) as generator:
        before = server.rss()
        connect_all(run, generator, server, out)
        steady(
            run,
            generator,
            server,
            out,
            "hold",
            "open_loop",
            mix={"Heartbeat": 1.0},
            rate_per_station=1 / run.heartbeat_interval,
            poisson=False,
        )
        samples = out.details["hold.rss_samples_mb"]
        held = out.figures["hold.connections"]
        total = max(samples) if samples else server.rss() / MIB
        out.figures["hold.server_rss_before_mb"] = round(before / MIB, 1)
        out.figures["hold.server_rss_mb"] = round(total, 1)
        out.figures["hold.server_rss_kb_per_conn"] = (
            round((total - before / MIB) * 1024 / held, 2) if held else None
        )
        out.details["server_processes"] = server.worker_count()
    return out


# --- S2 ---------------------------------------------------------------------------------


def s2(run: Run, target: str) -> Outcome:
    out = Outcome()
    with serving(run, target) as server, generating(run, server) as generator:
        connect_all(run, generator, server, out)

        # Drop: every client closes, then all reconnect at once; the server stays up.
        out.absorb(generator.run("close_all"))
        start_at = time.monotonic() + 0.2
        cpu = Meters(run, server).start()
        began = time.monotonic()
        results = generator.run(
            "reconnect_all", start_at=start_at, deadline=start_at + run.reconnect_timeout
        )
        cpu.stop()
        out.absorb(results)
        _wave_figures(out.figures, "drop", results, run.stations, time.monotonic() - began, cpu)
        out.figures["drop.failures"] = sum(sum(r["failures"].values()) for r in results)
        if target == "csms":
            out.figures["drop.online_in_db"] = _settled_online(run.stations)

        # Restart: the server is killed; stations reconnect as soon as it listens again.
        prepared = time.monotonic()
        generator.run("prepare_restart", deadline=prepared + run.reconnect_timeout)
        server.kill()
        if target == "csms":
            provision.mark_all_offline()
            provision.close_connections()
        killed_at = time.monotonic()
        server.start()
        listening_at = time.monotonic()
        generator.begin("await_restart")
        cpu = Meters(run, server).start()
        results = generator.collect()
        cpu.stop()
        out.absorb(results)
        _wave_figures(
            out.figures, "restart", results, run.stations, time.monotonic() - prepared, cpu
        )
        last = max(r["last_answer"] for r in results)
        out.figures["restart.server_start_s"] = round(listening_at - killed_at, 3)
        out.figures["restart.from_listening_s"] = round(max(0.0, last - listening_at), 3)
        out.figures["restart.retries"] = int(_sum(results, "retries"))
        out.figures["restart.failures"] = sum(sum(r["failures"].values()) for r in results)
        if target == "csms":
            out.figures["restart.online_in_db"] = _settled_online(run.stations)
    return out


def _settled_online(stations: int, wait: float = 10.0) -> int:
    """Stations online in the database, once the server's last writes have landed."""
    deadline = time.monotonic() + wait
    while True:
        online = provision.count_online(stations)
        if online == stations or time.monotonic() > deadline:
            return online
        time.sleep(0.2)


# --- S3 ---------------------------------------------------------------------------------


def s3(run: Run, target: str) -> Outcome:
    out = Outcome()
    with serving(run, target) as server, generating(run, server) as generator:
        connect_all(run, generator, server, out)
        start_sessions(run, generator, out, 1.0)
        for action in ("Heartbeat", "MeterValues"):
            steady(run, generator, server, out, action, "closed_loop", action=action)
    return out


# --- S4 ---------------------------------------------------------------------------------


def s4(run: Run) -> dict[str, Outcome]:
    """µs per meter-values validation: the gateway's jsonschema-rs against the ocpp package."""
    from ocpp.messages import Call, _validate_payload

    from ocpp_gateway.validation import validate

    if run.protocol == "2.0.1":
        frame = frames201.transaction_updated("1", "BENCH-000001-1", 1, 1_234_567)
    else:
        frame = frames.meter_values("1", 1, 42, 1_234_567)
    _, _, action, payload = json.loads(frame)
    subprotocol, version = run.subprotocol, run.protocol
    validate(subprotocol, action, payload)
    call = Call("1", action, payload)
    # validate_payload runs exactly this in an executor thread; the thread hop is left out.
    _validate_payload(call, version)
    candidates = {
        "product": lambda: validate(subprotocol, action, payload),
        "ocpp": lambda: _validate_payload(call, version),
    }
    repeats = 3 if run.quick else 7
    outcomes = {}
    for name in run.targets:
        timer = timeit.Timer(candidates[name])
        number, _ = timer.autorange()
        if run.quick:
            number = max(1, number // 10)
        best = min(timer.repeat(repeat=repeats, number=number)) / number
        out = Outcome()
        out.figures["MeterValues.us_per_call"] = round(best * 1e6, 3)
        out.details = {"calls_per_repeat": number, "repeats": repeats}
        outcomes[name] = out
    return outcomes


# --- S5 ---------------------------------------------------------------------------------


def s5(run: Run, target: str) -> Outcome:
    out = Outcome()
    per_message = frames.SAMPLED_VALUES_PER_METER_VALUE
    with serving(run, target) as server, generating(run, server) as generator:
        connect_all(run, generator, server, out)
        start_sessions(run, generator, out, 1.0)
        # The goals are judged at the offered load they name (rate x 10 rows, open loop): in a
        # closed loop latency is just stations / throughput, whatever the server does.
        results = steady(
            run,
            generator,
            server,
            out,
            "MeterValues",
            "open_loop",
            mix={"MeterValues": 1.0},
            rate_per_station=run.rate / run.stations,
            poisson=False,
        )
        acked = int(_sum(results, "acked"))
        out.figures["MeterValues.rows_per_s"] = metrics.rate(acked * per_message, run.duration)
        out.figures["MeterValues.offered_rows_per_s"] = round(run.rate * per_message)
        out.figures["MeterValues.skipped_busy"] = int(_sum(results, "skipped"))
        acked_total = int(_sum(results, "acked_total"))
        # Then the most it takes: every station sends its next message as soon as answered.
        results = steady(
            run, generator, server, out, "MeterValues.max", "closed_loop", action="MeterValues"
        )
        acked = int(_sum(results, "acked"))
        out.figures["MeterValues.max.rows_per_s"] = metrics.rate(acked * per_message, run.duration)
        acked_total += int(_sum(results, "acked_total"))
        if target == "csms":
            # Every answered message, warm-up and drain included, must be in the database.
            expected = acked_total * per_message
            persisted = provision.count_meter_values()
            out.figures["MeterValues.expected_rows"] = expected
            out.figures["MeterValues.persisted_rows"] = persisted
            out.figures["MeterValues.all_persisted"] = persisted >= expected
    return out


def s5_copy_baseline(run: Run, rows: int) -> Outcome:
    """The database alone: the same rows through COPY on one connection."""
    from bench.baselines.pg_copy import copy_rate, meter_rows

    provision.close_connections()
    result = copy_rate(run.database_url, meter_rows(rows, run.stations))
    out = Outcome()
    out.figures["MeterValues.rows_per_s"] = result["rows_per_s"]
    out.details = result
    out.notes.append(result["method"])
    return out


# --- S6 ---------------------------------------------------------------------------------


def s6(run: Run, target: str) -> Outcome:
    out = Outcome()
    with serving(run, target) as server, generating(run, server) as generator:
        connect_all(run, generator, server, out)
        start_sessions(run, generator, out, run.session_fraction)
        results = steady(
            run,
            generator,
            server,
            out,
            "mix",
            "open_loop",
            mix=MIX,
            rate_per_station=run.rate / run.stations,
            poisson=True,
        )
        sent = Counter()
        for result in results:
            sent.update(result["sent"])
        out.details["mix.sent"] = dict(sent)
        out.details["mix.skipped_busy"] = int(_sum(results, "skipped"))
        out.details["mix.max_schedule_lag_ms"] = max(r["max_schedule_lag_ms"] for r in results)
    return out


# --- S7 ---------------------------------------------------------------------------------


def _driver(run: Run, mode: str, out_path: Path, channel: str = "") -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "bench.command_driver",
        "--mode",
        mode,
        "--rate",
        str(run.rate),
        "--duration",
        str(run.duration),
        "--stations",
        str(run.stations),
        "--out",
        str(out_path),
    ]
    if channel:
        command += ["--channel", channel]
    driver = subprocess.Popen(
        command, cwd=BASE_DIR, env=run.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    if driver.stdout.readline().strip() != "ready":
        driver.kill()
        raise RuntimeError(f"the S7 {mode} driver did not start")
    return driver


def _drive(run, driver, out_path, cpu_meters) -> dict:
    for meter in cpu_meters:
        meter.start()
    driver.stdin.write("go\n")
    driver.stdin.flush()
    if driver.wait(timeout=run.duration + 120) != 0:
        raise RuntimeError("the S7 driver failed")
    for meter in cpu_meters:
        meter.stop()
    return json.loads(out_path.read_text())


def _command_figures(out: Outcome, result: dict, run: Run) -> None:
    figures = out.figures
    samples = result.pop("samples")
    figures["commands.commands_per_s"] = metrics.rate(len(samples), run.duration)
    summary = metrics.latency_summary(samples)
    for name in ("p50_ms", "p99_ms", "max_ms"):
        figures[f"commands.{name}"] = summary[name]
    # request_call opens a reply channel per call; what stays subscribed afterwards leaks.
    figures["commands.reply_channels_left"] = result.get("subscriptions_left")
    out.failures.update(result.get("failures", {}))
    out.examples += result.get("examples", [])
    out.details["driver"] = result


def s7(run: Run, target: str) -> Outcome:
    out = Outcome()
    out_path = run.log_dir / f"S7-{target}-driver.json"
    with serving(run, target) as server, generating(run, server) as generator:
        connect_all(run, generator, server, out)
        driver = _driver(run, "gateway", out_path)
        cpu = Meters(run, server)
        client_cpu = metrics.CpuMeter(lambda: generator.pids)
        result = _drive(run, driver, out_path, (*cpu.meters.values(), client_cpu))
        stats = generator.run("stats")
        _command_figures(out, result, run)
        out.figures["commands.connections"] = int(_sum(stats, "connected"))
        for key, meter in cpu.meters.items():
            out.figures[f"commands.{key}"] = meter.percent
        out.figures["commands.client_cpu_pct"] = client_cpu.percent
        out.figures["commands.driver_cpu_pct"] = round(
            100 * result["cpu_seconds"] / run.duration, 1
        )
        out.details["answered_by_stations"] = int(_sum(stats, "server_calls"))
    return out


def s7_layer_baseline(run: Run) -> Outcome:
    """The same channel layer alone: driver → responder process → driver, no gateway."""
    out = Outcome()
    provision.flush_redis(run.redis_url)
    run.log_dir.mkdir(parents=True, exist_ok=True)
    out_path = run.log_dir / "S7-layer-driver.json"
    responder = subprocess.Popen(
        [sys.executable, "-m", "bench.baselines.layer_responder"],
        cwd=BASE_DIR,
        env=run.env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        channel = responder.stdout.readline().strip()
        if not channel:
            raise RuntimeError("the S7 layer responder did not start")
        driver = _driver(run, "layer", out_path, channel)
        responder_cpu = metrics.CpuMeter(lambda: [responder.pid])
        redis_cpu = metrics.CpuMeter(lambda: metrics.service_pids("redis-server"))
        result = _drive(run, driver, out_path, (responder_cpu, redis_cpu))
        _command_figures(out, result, run)
        out.figures["commands.server_cpu_pct"] = responder_cpu.percent
        out.figures["commands.redis_cpu_pct"] = redis_cpu.percent
        out.figures["commands.driver_cpu_pct"] = round(
            100 * result["cpu_seconds"] / run.duration, 1
        )
    finally:
        responder.kill()
        responder.wait()
    return out
