"""The benchmark harness: its frames are valid OCPP, and every scenario runs end to end (quick)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from bench import frames, frames201, report
from bench.baselines.b1_responder import RESULTS
from bench.loadgen import DIALECTS, Station
from bench.metrics import latency_summary, percentile
from bench.provision import check_bench_database
from bench.scenarios import SCENARIOS
from ocpp_gateway.validation import validate

BASE_DIR = Path(__file__).resolve().parents[2]
STATION_CALLS = {
    "BootNotification": frames.boot_notification("1", 7),
    "StatusNotification": frames.status_notification("2", 0, "Available"),
    "Heartbeat": frames.heartbeat("3"),
    "Authorize": frames.authorize("4", 7),
    "StartTransaction": frames.start_transaction("5", 7, 1, 1_000_000),
    "MeterValues": frames.meter_values("6", 1, 42, 1_000_123),
    "StopTransaction": frames.stop_transaction("7", 7, 42, 1_000_456),
}
STATION_CALLS_201 = {
    "BootNotification": frames201.boot_notification("1", 7),
    "StatusNotification": frames201.status_notification("2", 2, "Occupied"),
    "Heartbeat": frames201.heartbeat("3"),
    "Authorize": frames201.authorize("4", 7),
    "TransactionEvent Started": frames201.transaction_started("5", 7, "BENCH-000007-1", 1_000_000),
    "TransactionEvent Updated": frames201.transaction_updated("6", "BENCH-000007-1", 1, 1_000_123),
    "TransactionEvent Ended": frames201.transaction_ended("7", 7, "BENCH-000007-1", 2, 1_000_456),
}


def bench_urls(tmp_path: Path) -> tuple[str, str]:
    """The suite's PostgreSQL and Redis when set, each under another name; else SQLite and none."""
    database_url = os.environ.get("DATABASE_URL")
    if database_url:
        parts = urlsplit(database_url)
        # A database of its own: the test database stays untouched.
        database_url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "_bench"))
    else:
        database_url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        parts = urlsplit(redis_url)
        index = int(parts.path.lstrip("/") or 0)
        redis_url = urlunsplit(parts._replace(path=f"/{(index + 1) % 16}"))
    return database_url, redis_url


def run_quick(database_dir: Path, results_dir: Path, *arguments: str) -> dict:
    """`python -m bench.run <arguments> --quick`; its JSON results by file name, and its output."""
    database_url, redis_url = bench_urls(database_dir)
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            *arguments,
            "--quick",
            "--database-url",
            database_url,
            "--redis-url",
            redis_url,
            "--results-dir",
            str(results_dir),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-4000:] + finished.stderr[-4000:]
    results = {
        path.stem: json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))
    }
    return {"results": results, "stdout": finished.stdout, "redis": bool(redis_url)}


@pytest.fixture(scope="module")
def database_dir(tmp_path_factory):
    """Where the quick runs keep their SQLite database: migrated once, shared by both."""
    return tmp_path_factory.mktemp("bench-database")


@pytest.fixture(scope="module")
def quick_run(database_dir, tmp_path_factory):
    """`python -m bench.run all --quick` (what CI runs), once for the module."""
    return run_quick(database_dir, tmp_path_factory.mktemp("results"), "all")


@pytest.fixture(scope="module")
def quick_run_201(database_dir, tmp_path_factory):
    """S3, S4 and S6 with 2.0.1 stations against the CSMS and the same baselines, quick."""
    results_dir = tmp_path_factory.mktemp("results201")
    return run_quick(database_dir, results_dir, "S3", "S4", "S6", "--ocpp", "2.0.1")


def result(quick_run, name: str, protocol: str = "ocpp1.6") -> dict:
    name = f"{name}-{protocol}"
    assert name in quick_run["results"], sorted(quick_run["results"])
    return quick_run["results"][name]


# --- frames ------------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(STATION_CALLS))
def test_station_frames_pass_ocpp16_schema_validation(action):
    message = json.loads(STATION_CALLS[action])
    assert message[:3] == [2, message[1], action]
    validate("ocpp1.6", action, message[3])


@pytest.mark.parametrize("message", sorted(STATION_CALLS_201))
def test_station_frames_pass_ocpp201_schema_validation(message):
    frame = json.loads(STATION_CALLS_201[message])
    action = message.split()[0]
    assert frame[:3] == [2, frame[1], action]
    validate("ocpp2.0.1", action, frame[3])


def test_transaction_event_updated_carries_the_ten_sampled_values_as_numbers():
    payload = json.loads(STATION_CALLS_201["TransactionEvent Updated"])[3]
    assert payload["eventType"] == "Updated"
    assert payload["seqNo"] == 1
    assert payload["transactionInfo"] == {
        "transactionId": "BENCH-000007-1",
        "chargingState": "Charging",
    }
    [meter_value] = payload["meterValue"]
    assert meter_value["timestamp"] == payload["timestamp"]
    sampled = meter_value["sampledValue"]
    assert len(sampled) == frames.SAMPLED_VALUES_PER_METER_VALUE
    assert sampled[0] == {
        "value": 1_000_123,
        "context": "Sample.Periodic",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unitOfMeasure": {"unit": "Wh"},
    }
    assert all(isinstance(value["value"], int | float) for value in sampled)
    one_six = json.loads(STATION_CALLS["MeterValues"])[3]["meterValue"][0]["sampledValue"]
    # The same readings as 1.6's, but 2.0.1 has no Temperature measurand.
    assert [(v["measurand"], v.get("phase")) for v in sampled[:9]] == [
        (v["measurand"], v.get("phase")) for v in one_six[:9]
    ]


def test_transaction_event_started_and_ended_carry_the_register_and_the_card():
    started = json.loads(STATION_CALLS_201["TransactionEvent Started"])[3]
    ended = json.loads(STATION_CALLS_201["TransactionEvent Ended"])[3]
    assert (started["seqNo"], started["triggerReason"]) == (0, "Authorized")
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "StopAuthorized",
        "Local",
    )
    for payload, context, meter in (
        (started, "Transaction.Begin", 1_000_000),
        (ended, "Transaction.End", 1_000_456),
    ):
        assert payload["idToken"] == {"idToken": "BENCH000007", "type": "ISO14443"}
        [[register]] = [value["sampledValue"] for value in payload["meterValue"]]
        assert (register["measurand"], register["context"], register["value"]) == (
            "Energy.Active.Import.Register",
            context,
            meter,
        )


def test_a_201_station_numbers_its_transactions_and_counts_seq_no_per_transaction():
    dialect, station = DIALECTS["2.0.1"], Station(None, 7, "secret")
    events = []
    for _transaction in range(2):
        events.append(json.loads(dialect.start("u", station))[3])
        dialect.started(station, '[3,"u",{"idTokenInfo":{"status":"Accepted"}}]')
        events += [json.loads(dialect.meter_values("u", station))[3] for _ in range(2)]
        events.append(json.loads(dialect.stop("u", station))[3])
    assert [
        (e["eventType"], e["transactionInfo"]["transactionId"], e["seqNo"]) for e in events
    ] == [
        ("Started", "BENCH-000007-1", 0),
        ("Updated", "BENCH-000007-1", 1),
        ("Updated", "BENCH-000007-1", 2),
        ("Ended", "BENCH-000007-1", 3),
        ("Started", "BENCH-000007-2", 0),
        ("Updated", "BENCH-000007-2", 1),
        ("Updated", "BENCH-000007-2", 2),
        ("Ended", "BENCH-000007-2", 3),
    ]
    assert station.transaction_id is None


def test_a_201_start_the_csms_rejects_is_reported():
    dialect, station = DIALECTS["2.0.1"], Station(None, 7, "secret")
    dialect.start("u", station)
    assert dialect.started(station, '[3,"u",{"idTokenInfo":{"status":"Blocked"}}]') == (
        "start_not_accepted"
    )


@pytest.mark.parametrize(
    ("subprotocol", "action"),
    [(subprotocol, action) for subprotocol in RESULTS for action in sorted(RESULTS[subprotocol])],
)
def test_b1_answers_every_action_with_a_valid_callresult(subprotocol, action):
    validate(
        subprotocol, action.split("+")[0], json.loads(RESULTS[subprotocol][action]), response=True
    )


def test_meter_values_carry_one_meter_value_with_ten_sampled_values():
    payload = json.loads(STATION_CALLS["MeterValues"])[3]
    assert payload["transactionId"] == 42
    [meter_value] = payload["meterValue"]
    assert len(meter_value["sampledValue"]) == 10
    assert meter_value["sampledValue"][0] == {
        "value": "1000123",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }


def test_table_rows_name_the_messages_2_0_1_stations_send():
    aliases = DIALECTS["2.0.1"].messages
    assert report.label("MeterValues.max.rows_per_s", aliases) == (
        "TransactionEvent Updated.max: rows/s"
    )
    assert report.label("Heartbeat.p99_ms", aliases) == "Heartbeat: p99 latency (ms)"
    assert report.label("MeterValues.p99_ms") == "MeterValues: p99 latency (ms)"


def test_template_quotes_strings_and_writes_numbers_bare():
    template = frames.Template("X", {"a": "@s@", "b": "@n@", "c": ["@s@"]})
    assert json.loads(template.render(id="u1", s="text", n=12)) == [
        2,
        "u1",
        "X",
        {"a": "text", "b": 12, "c": ["text"]},
    ]


def test_id_tags_fit_the_ocpp16_limit_of_twenty_characters():
    assert len(frames.id_tag(999_999)) <= 20


# --- figures -----------------------------------------------------------------------------


def test_percentile_is_the_nearest_rank():
    samples = list(range(1, 101))
    assert percentile(samples, 0.5) == 50
    assert percentile(samples, 0.99) == 99
    assert percentile([], 0.99) is None


def test_latency_summary_is_in_milliseconds():
    assert latency_summary([0.001, 0.002, 0.010]) == {
        "count": 3,
        "p50_ms": 2.0,
        "p99_ms": 10.0,
        "max_ms": 10.0,
    }


def test_ratios_divide_each_figure_by_the_baselines_figure():
    results = {
        "csms": {"figures": {"x.msgs_per_s": 50.0, "x.p99_ms": 4.0, "only_here": 1}},
        "b3": {"figures": {"x.msgs_per_s": 100.0, "x.p99_ms": 0}},
    }
    assert report.ratios(results, "csms") == {"b3": {"x.msgs_per_s": 0.5}}


def test_a_goal_above_its_limit_is_not_met():
    goals = [{"text": "p99", "key": "p99_ms", "op": "<=", "limit": 25}]
    [goal] = report.evaluate_goals(goals, {"p99_ms": 30.0}, {})
    assert goal["met"] is False


def test_the_bench_refuses_a_database_not_named_for_benchmarks():
    with pytest.raises(SystemExit):
        check_bench_database("postgres://postgres@127.0.0.1:5432/cms")
    check_bench_database("postgres://postgres@127.0.0.1:5432/cms_bench")


# --- every scenario, quick -----------------------------------------------------------------


def test_every_scenario_writes_its_results(quick_run):
    written = {name.split("-")[0] for name in quick_run["results"]}
    assert written == set(SCENARIOS)
    assert "| figure |" in quick_run["stdout"]


@pytest.mark.parametrize(
    ("name", "phase"),
    [
        ("S1-csms", "hold"),
        ("S1-b1", "hold"),
        ("S3-csms", "Heartbeat"),
        ("S3-csms", "MeterValues"),
        ("S3-b3", "MeterValues"),
        ("S3-b1", "MeterValues"),
        ("S5-csms", "MeterValues"),
        ("S6-csms", "mix"),
        ("S6-b1", "mix"),
    ],
)
def test_a_measured_phase_reports_rate_latency_and_cpu(quick_run, name, phase):
    figures = result(quick_run, name)["figures"]
    assert figures[f"{phase}.connections"] > 0
    assert figures[f"{phase}.msgs_per_s"] > 0
    for metric in ("p50_ms", "p99_ms", "max_ms", "server_cpu_pct", "client_cpu_pct"):
        assert figures[f"{phase}.{metric}"] is not None, metric
    assert figures[f"{phase}.p50_ms"] <= figures[f"{phase}.p99_ms"] <= figures[f"{phase}.max_ms"]


@pytest.mark.parametrize("name", ["S1-csms", "S2-csms", "S3-csms", "S5-csms", "S6-csms"])
def test_every_station_connects_with_handshake_rate(quick_run, name):
    document = result(quick_run, name)
    figures = document["figures"]
    assert figures["connect.connections"] == document["settings"]["stations"]
    assert figures["connect.handshakes_per_s"] > 0


@pytest.mark.parametrize("scenario", ["S1", "S2", "S3", "S5", "S6", "S7"])
def test_no_scenario_has_failures(quick_run, scenario):
    documents = {n: d for n, d in quick_run["results"].items() if n.startswith(f"{scenario}-")}
    skipped = f"{scenario}-skipped-ocpp1.6"
    if skipped in documents:
        # Only S7 may be skipped, and only without Redis; any other skip is a broken harness.
        assert scenario == "S7" and not quick_run["redis"], documents[skipped]
        pytest.skip(documents[skipped]["skipped"])
    for name, document in documents.items():
        assert document["figures"]["failures"] == 0, (name, document["failures"])


def test_s1_measures_server_memory_per_connection_against_b1(quick_run):
    csms = result(quick_run, "S1-csms")
    figures = csms["figures"]
    assert figures["hold.server_rss_mb"] > 0
    assert figures["hold.server_rss_before_mb"] > 0
    assert figures["hold.server_rss_kb_per_conn"] is not None
    assert "hold.server_rss_kb_per_conn" in csms["ratios"]["b1"]
    assert {goal["key"] for goal in csms["goals"]} >= {"hold.server_rss_mb", "failures"}


def test_s2_brings_every_station_back_after_a_drop_and_a_restart(quick_run):
    document = result(quick_run, "S2-csms")
    figures, stations = document["figures"], document["settings"]["stations"]
    for wave in ("drop", "restart"):
        assert figures[f"{wave}.connections"] == stations
        assert figures[f"{wave}.online_in_db"] == stations
        assert figures[f"{wave}.failures"] == 0
        assert figures[f"{wave}.seconds"] > 0
    assert figures["restart.server_start_s"] > 0


def test_s2_measures_b1_through_the_same_waves(quick_run):
    figures = result(quick_run, "S2-b1")["figures"]
    assert figures["drop.connections"] == figures["restart.connections"] > 0


def test_s3_compares_message_rates_with_both_baselines(quick_run):
    ratios = result(quick_run, "S3-csms")["ratios"]
    for baseline in ("b3", "b1"):
        assert ratios[baseline]["Heartbeat.msgs_per_s"] > 0
        assert ratios[baseline]["MeterValues.msgs_per_s"] > 0


def test_s4_times_both_validators_of_the_same_payload(quick_run):
    product = result(quick_run, "S4-product")
    assert product["figures"]["MeterValues.us_per_call"] > 0
    assert result(quick_run, "S4-ocpp")["figures"]["MeterValues.us_per_call"] > 0
    assert product["ratios"]["ocpp"]["MeterValues.us_per_call"] > 0


def test_s5_persists_every_acknowledged_meter_value(quick_run):
    figures = result(quick_run, "S5-csms")["figures"]
    assert figures["MeterValues.expected_rows"] > 0
    assert figures["MeterValues.persisted_rows"] == figures["MeterValues.expected_rows"]
    assert figures["MeterValues.all_persisted"] is True


def test_s5_compares_ingest_with_the_database_alone(quick_run):
    csms = result(quick_run, "S5-csms")
    copy = result(quick_run, "S5-pg_copy")
    assert copy["figures"]["MeterValues.rows_per_s"] > 0
    assert copy["details"]["rows"] == csms["figures"]["MeterValues.expected_rows"]
    assert csms["ratios"]["pg_copy"]["MeterValues.rows_per_s"] > 0


def test_s6_sends_the_whole_mix(quick_run):
    sent = result(quick_run, "S6-csms")["details"]["mix.sent"]
    assert {"MeterValues", "Heartbeat", "StatusNotification"} <= set(sent)


def test_s7_measures_commands_against_the_layer_alone(quick_run):
    if not quick_run["redis"]:
        assert "S7-skipped-ocpp1.6" in quick_run["results"]
        pytest.skip("S7 needs REDIS_URL: the in-memory channel layer does not cross processes")
    csms = result(quick_run, "S7-csms")
    assert csms["figures"]["commands.commands_per_s"] > 0
    assert csms["details"]["answered_by_stations"] >= csms["details"]["driver"]["sent"]
    assert result(quick_run, "S7-layer")["figures"]["commands.commands_per_s"] > 0
    assert csms["ratios"]["layer"]["commands.p99_ms"] > 0


# --- 2.0.1 stations, quick -----------------------------------------------------------------


def test_201_results_are_named_after_the_protocol(quick_run_201):
    assert set(quick_run_201["results"]) == {
        "S3-csms-ocpp2.0.1",
        "S3-b3-ocpp2.0.1",
        "S3-b1-ocpp2.0.1",
        "S4-product-ocpp2.0.1",
        "S4-ocpp-ocpp2.0.1",
        "S6-csms-ocpp2.0.1",
        "S6-b1-ocpp2.0.1",
    }
    assert "### S3 (OCPP 2.0.1)" in quick_run_201["stdout"]
    assert "| TransactionEvent Updated: messages/s |" in quick_run_201["stdout"]


def test_201_stations_meet_no_failure(quick_run_201):
    for name, document in quick_run_201["results"].items():
        assert document["figures"]["failures"] == 0, (name, document["failures"])
        assert document["settings"]["ocpp"] == "2.0.1"


def test_201_s3_compares_transaction_events_with_both_baselines(quick_run_201):
    csms = result(quick_run_201, "S3-csms", "ocpp2.0.1")
    assert csms["figures"]["setup.sessions"] == csms["settings"]["stations"]
    assert csms["settings"]["messages"]["MeterValues"] == "TransactionEvent Updated"
    for baseline in ("b3", "b1"):
        assert csms["ratios"][baseline]["Heartbeat.msgs_per_s"] > 0
        assert csms["ratios"][baseline]["MeterValues.msgs_per_s"] > 0
    assert {goal["key"] for goal in csms["goals"]} == {
        "Heartbeat.msgs_per_s",
        "MeterValues.msgs_per_s",
    }


def test_201_s4_times_both_validators_of_transaction_event_updated(quick_run_201):
    product = result(quick_run_201, "S4-product", "ocpp2.0.1")
    assert product["ratios"]["ocpp"]["MeterValues.us_per_call"] > 0


def test_201_s6_sends_the_mix_to_stations_in_a_transaction(quick_run_201):
    csms = result(quick_run_201, "S6-csms", "ocpp2.0.1")
    assert csms["figures"]["setup.sessions"] == round(csms["settings"]["stations"] * 0.5)
    assert {"MeterValues", "Heartbeat", "StatusNotification"} <= set(csms["details"]["mix.sent"])
    assert csms["figures"]["mix.msgs_per_s"] > 0
