"""Run a benchmark scenario against the CSMS and its baselines: `python -m bench.run S3`."""

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from bench import provision, report, scenarios
from bench.loadgen import (
    PROTOCOLS,
    default_processes,
    narrow_port_range_warning,
    raise_open_file_limit,
)

RUNNERS = {
    "S1": scenarios.s1,
    "S2": scenarios.s2,
    "S3": scenarios.s3,
    "S5": scenarios.s5,
    "S6": scenarios.s6,
    "S7": scenarios.s7,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split(":")[0] + "."
    )
    parser.add_argument(
        "scenario", nargs="+", choices=[*scenarios.SCENARIOS, "all"], help="one or more, or all"
    )
    parser.add_argument(
        "--ocpp",
        choices=PROTOCOLS,
        default="1.6",
        help="the OCPP version the stations speak (2.0.1: TransactionEvent for transactions)",
    )
    parser.add_argument("--stations", type=int, help="simulated stations (scenario default)")
    parser.add_argument("--duration", type=float, help="seconds of the measured phase")
    parser.add_argument("--workers", type=int, help="server processes (uvicorn workers)")
    parser.add_argument("--server", choices=("uvicorn", "daphne"), default="uvicorn")
    parser.add_argument("--targets", help="comma-separated, e.g. csms,b1,b3")
    parser.add_argument("--quick", action="store_true", help="tiny fleet, ~1-2 s phases (CI)")
    parser.add_argument("--clients", type=int, help="client processes (default 1 per 8,000)")
    parser.add_argument("--rate", type=float, help="S6 messages/s, S7 commands/s")
    parser.add_argument("--heartbeat-interval", type=float, help="S1 seconds between heartbeats")
    parser.add_argument("--session-fraction", type=float, help="S6 stations charging (0-1)")
    parser.add_argument("--reconnect-timeout", type=float, help="S2 seconds before giving up")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", provision.DEFAULT_DATABASE_URL),
        help="bench database; its name must contain 'bench' (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", provision.DEFAULT_REDIS_URL),
        help="Redis for the channel layer, flushed before each server; '' for in-memory",
    )
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS_DIR)
    return parser.parse_args(argv)


def make_run(scenario: str, args, env: dict) -> scenarios.Run:
    """The scenario's defaults, shrunk by --quick, overridden by the command line."""
    defaults = scenarios.DEFAULTS[scenario]
    settings = {key: defaults[key] for key in ("stations", "workers", "duration")}
    settings["rate"] = defaults.get("rate", 0.0)
    extra = {}
    if args.quick:
        quick = dict(defaults["quick"])
        settings.update({k: quick.pop(k) for k in list(quick) if k in settings})
        extra.update(quick)
        extra.update(open_timeout=15.0, call_timeout=15.0, connect_concurrency=64)
    for key in ("stations", "workers", "duration", "rate"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    for key in ("heartbeat_interval", "session_fraction", "reconnect_timeout"):
        if getattr(args, key) is not None:
            extra[key] = getattr(args, key)
    targets = args.targets.split(",") if args.targets else list(defaults["targets"])
    return scenarios.Run(
        scenario=scenario,
        targets=targets,
        server=args.server,
        quick=args.quick,
        clients=args.clients or 0,
        env=env,
        database_url=args.database_url,
        redis_url=args.redis_url,
        results_dir=args.results_dir,
        protocol=args.ocpp,
        **settings,
        **extra,
    )


def execute(run: scenarios.Run) -> dict:
    """Run one scenario against its targets and baselines; print and write the results."""
    title = scenarios.DEFAULTS[run.scenario]["title"]
    outcomes: dict[str, scenarios.Outcome] = {}
    skipped = None
    if run.scenario == "S4":
        log("S4: validation micro benchmark")
        outcomes = scenarios.s4(run)
    elif run.scenario == "S7" and not run.redis_url:
        skipped = "S7 needs REDIS_URL: the in-memory channel layer does not cross processes"
    else:
        for target in run.targets:
            name = _target_name(run, target)
            log(
                f"{run.scenario} {name}: {run.stations} {run.subprotocol} stations, "
                f"{run.workers} server worker(s)"
            )
            # Another busy process on the machine skews every figure: keep the evidence.
            load = os.getloadavg()[0]
            outcomes[name] = RUNNERS[run.scenario](run, target)
            outcomes[name].details["load_average_at_start"] = round(load, 2)
        if run.scenario == "S5":
            csms = outcomes.get(_target_name(run, "csms"))
            rows = (csms.figures.get("MeterValues.expected_rows") if csms else None) or (
                run.stations * 100
            )
            log(f"S5 pg_copy: {rows} rows through COPY")
            outcomes["pg_copy"] = scenarios.s5_copy_baseline(run, rows)
        if run.scenario == "S7":
            log("S7 layer: channel-layer round trips without the gateway")
            outcomes["layer"] = scenarios.s7_layer_baseline(run)

    documents = {name: outcome.as_json() for name, outcome in outcomes.items()}
    primary = next((n for n in documents if n.startswith("csms")), next(iter(documents), None))
    ratio_table = report.ratios(documents, primary) if primary else {}
    goals = []
    if primary in ("csms", "csms-daphne", "product"):
        figures = documents[primary]["figures"]
        goals = report.evaluate_goals(scenarios.GOALS[run.scenario], figures, ratio_table)

    # The protocol is in the heading and in every file name: 1.6 and 2.0.1 results sit side by side.
    heading = f"{run.scenario} (OCPP {run.protocol})"
    print()
    if skipped:
        print(f"### {heading}: {title}\n\nskipped: {skipped}")
    else:
        print(report.table(heading, title, documents, primary, ratio_table, run.messages))
        settings = _settings(run)
        shown = {k: v for k, v in settings.items() if v is not None and k != "messages"}
        print(f"\n{', '.join(f'{k}={v}' for k, v in shown.items())}")
        if run.messages:
            sent = "; ".join(f"{name} = {wire}" for name, wire in run.messages.items())
            print(f"\n{run.subprotocol} stations: {sent}")
        for text in (report.goal_lines(goals), report.failure_lines(documents)):
            if text:
                print(text)
    sys.stdout.flush()

    written = {}
    for name, document in documents.items():
        path = report.write_json(
            run.results_dir,
            run.scenario,
            f"{name}-{run.subprotocol}",
            {
                "scenario": run.scenario,
                "title": title,
                "target": name,
                "settings": _settings(run),
                **document,
                "ratios": ratio_table if name == primary else {},
                "goals": goals if name == primary else [],
            },
        )
        written[name] = str(path)
    if skipped:
        path = report.write_json(
            run.results_dir,
            run.scenario,
            f"skipped-{run.subprotocol}",
            {"scenario": run.scenario, "skipped": skipped},
        )
        written["skipped"] = str(path)
    return written


def _target_name(run: scenarios.Run, target: str) -> str:
    return "csms-daphne" if target == "csms" and run.server == "daphne" else target


def _settings(run: scenarios.Run) -> dict:
    return {
        "ocpp": run.protocol,
        # What the figures named after 1.6 messages were on the wire (2.0.1).
        "messages": run.messages or None,
        "stations": run.stations or None,
        "server_workers": run.workers or None,
        "server": run.server if run.scenario != "S4" else None,
        "client_processes": (run.clients or default_processes(run.stations))
        if run.stations
        else None,
        "duration_s": run.duration or None,
        "rate": run.rate or None,
        "quick": run.quick,
        "database": "postgresql" if run.database_url.startswith("postgres") else "sqlite",
        "channel_layer": "redis" if run.redis_url else "in-memory",
        "password_hash": "shared" if run.fleet and run.fleet.shared_password else "per station",
        "load_average": round(os.getloadavg()[0], 2),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    raise_open_file_limit()
    warning = narrow_port_range_warning()
    if warning:
        log(f"warning: {warning}")
    provision.check_bench_database(args.database_url)
    env = provision.server_env(args.database_url, args.redis_url)
    names = scenarios.SCENARIOS if "all" in args.scenario else tuple(dict.fromkeys(args.scenario))
    runs = [make_run(name, args, env) for name in names]

    fleet_size = max(run.stations for run in runs)
    if fleet_size:
        log(f"database {args.database_url}, channel layer {args.redis_url or 'in-memory'}")
        provision.ensure_database(args.database_url)
        provision.migrate(env)
    provision.setup_django(env)
    if fleet_size:
        fleet = provision.provision(fleet_size)
        log(f"provisioned {fleet.stations} stations in {fleet.seconds} s")
        if fleet.shared_password:
            log("warning: password hashing is slow: every station shares one password hash")
        provision.close_connections()
    else:
        # S4 alone measures in this process: no database, no stations.
        fleet = provision.Fleet(0, None, 0.0)

    status = 0
    for run in runs:
        run.fleet = fleet
        try:
            execute(run)
        except Exception:
            status = 1
            log(f"{run.scenario} failed:\n{traceback.format_exc()}")
            if len(runs) == 1:
                break
    return status


if __name__ == "__main__":
    sys.exit(main())
