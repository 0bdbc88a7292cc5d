"""Ratios to the baselines, goals, the markdown table and the JSON files of a run."""

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Metric suffixes and how the table names them; figures are keyed "<phase>.<metric>".
LABELS = {
    "connections": "connections held",
    "handshakes_per_s": "handshakes/s",
    "msgs_per_s": "messages/s",
    "rows_per_s": "rows/s",
    "commands_per_s": "commands/s",
    "handshake_p99_ms": "handshake p99 (ms)",
    "sessions": "stations with a session",
    "p50_ms": "p50 latency (ms)",
    "p99_ms": "p99 latency (ms)",
    "max_ms": "max latency (ms)",
    "server_rss_mb": "server RSS total (MiB)",
    "server_rss_before_mb": "server RSS before connecting (MiB)",
    "server_rss_kb_per_conn": "server RSS per connection (KiB)",
    "server_cpu_pct": "server CPU (% of one core)",
    "db_cpu_pct": "PostgreSQL CPU (% of one core)",
    "redis_cpu_pct": "Redis CPU (% of one core)",
    "client_cpu_pct": "client CPU (% of one core)",
    "db_commits_per_msg": "PostgreSQL commits per message",
    "db_rows_written_per_msg": "PostgreSQL rows written per message",
    "driver_cpu_pct": "driver CPU (% of one core)",
    "failures": "failures",
    "not_up": "stations not back up",
    "seconds": "seconds",
    "server_start_s": "server start (s)",
    "from_listening_s": "from listening to last answer (s)",
    "online_in_db": "stations online in the database",
    "retries": "refused connects retried",
    "us_per_call": "µs per call",
    "persisted_rows": "meter rows in the database",
    "expected_rows": "acknowledged rows (acked × 10)",
    "all_persisted": "every acknowledged row persisted",
    "acked": "answered CALLs",
    "reply_channels_left": "reply channels still subscribed in the driver",
}


def label(key: str, aliases: dict | None = None) -> str:
    """The row name of a figure; `aliases` renames a phase's message (2.0.1's TransactionEvent)."""
    phase, _, metric = key.rpartition(".")
    name = LABELS.get(metric, metric)
    if phase and aliases:
        message, dot, rest = phase.partition(".")
        phase = aliases.get(message, message) + dot + rest
    return f"{phase}: {name}" if phase else name


def ratios(results: dict, primary: str) -> dict:
    """Every numeric figure of `primary` divided by the same figure of each other target."""
    own = results.get(primary, {}).get("figures", {})
    out = {}
    for target, result in results.items():
        if target == primary:
            continue
        theirs = result.get("figures", {})
        out[target] = {
            key: round(value / theirs[key], 3)
            for key, value in own.items()
            if _number(value) and _number(theirs.get(key)) and theirs[key] != 0
        }
    return out


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def evaluate_goals(goals: list[dict], figures: dict, ratio_table: dict) -> list[dict]:
    """Each goal with the value it applies to and whether it is met (None when not measured)."""
    evaluated = []
    for goal in goals:
        if "versus" in goal:
            value = ratio_table.get(goal["versus"], {}).get(goal["key"])
        else:
            value = figures.get(goal["key"])
        if value is None:
            met = None
        elif goal["op"] == "<=":
            met = value <= goal["limit"]
        elif goal["op"] == ">=":
            met = value >= goal["limit"]
        else:
            met = value == goal["limit"]
        evaluated.append({**goal, "value": value, "met": met})
    return evaluated


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(
    scenario: str,
    title: str,
    results: dict,
    primary: str,
    ratio_table: dict,
    aliases: dict | None = None,
) -> str:
    """Markdown: one row per figure, one column per target, then the primary's ratios."""
    targets = list(results)
    keys = []
    for target in targets:
        for key in results[target].get("figures", {}):
            if key not in keys:
                keys.append(key)
    others = [t for t in ratio_table if ratio_table[t]]
    header = ["figure", *targets, *(f"{primary} / {t}" for t in others)]
    lines = [
        f"### {scenario}: {title}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for key in keys:
        row = [label(key, aliases)]
        row += [_cell(results[t].get("figures", {}).get(key)) for t in targets]
        row += [_cell(ratio_table[t].get(key)) for t in others]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def goal_lines(goals: list[dict]) -> str:
    lines = []
    for goal in goals:
        mark = {True: "met", False: "NOT MET", None: "not measured"}[goal["met"]]
        lines.append(f"- goal: {goal['text']}: {_cell(goal['value'])} ({mark})")
    return "\n".join(lines)


def failure_lines(results: dict) -> str:
    lines = []
    for target, result in results.items():
        failures = result.get("failures") or {}
        if failures:
            kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(failures.items()))
            lines.append(f"- failures of {target}: {kinds}")
            lines += [f"  - e.g. {example}" for example in result.get("examples", [])[:3]]
        for note in result.get("notes", []):
            lines.append(f"- {target}: {note}")
    return "\n".join(lines)


def write_json(directory: Path, scenario: str, target: str, document: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{scenario}-{target}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path
