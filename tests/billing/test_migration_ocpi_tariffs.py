"""Migration 0002 turns flat prices into one OCPI element and fills CDRs' new columns."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing.engine import parse_elements

BEFORE = [
    ("billing", "0001_initial"),
    ("organizations", "0002_api_keys"),
    ("sessions_app", "0001_initial"),
    ("roaming", "0001_initial"),
]
AFTER = [("billing", "0002_ocpi_tariffs_invoicing")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The models as the database has them now: every migration applied at this point (going
    # back also unapplies the other apps' migrations that depend on the targets).
    applied = [
        node
        for node in executor.recorder.applied_migrations()
        if node in executor.loader.graph.nodes
    ]
    return executor.loader.project_state(applied).apps


@pytest.fixture
def old_apps(transactional_db):
    apps = migrate(BEFORE)
    yield apps
    # Leave the database at the newest state for the tests after this one.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_migration_0002_turns_flat_prices_into_elements_and_keeps_cdrs_as_they_were(old_apps):
    # One migration run for both (going back and forth costs half a minute): the tariffs'
    # prices, then the CDRs' reason, card and accounting time.
    Organization = old_apps.get_model("organizations", "Organization")
    Tariff = old_apps.get_model("billing", "Tariff")
    org = Organization.objects.create(name="Old", slug="old")
    Tariff.objects.create(
        organization=org,
        name="Flat",
        price_per_kwh=Decimal("0.39"),
        price_per_minute_charging=Decimal("0.05"),
        price_per_minute_idle=Decimal("0.10"),
        session_fee=Decimal("1.00"),
    )
    Tariff.objects.create(organization=org, name="Energy only", price_per_kwh=Decimal("0.30"))

    Station = old_apps.get_model("stations", "ChargingStation")
    Connector = old_apps.get_model("stations", "Connector")
    Evse = old_apps.get_model("stations", "Evse")
    IdToken = old_apps.get_model("organizations", "IdToken")
    Session = old_apps.get_model("sessions_app", "ChargingSession")
    Cdr = old_apps.get_model("billing", "ChargeDetailRecord")
    org = Organization.objects.create(name="Older", slug="older")
    station = Station.objects.create(organization=org, ocpp_id="OLD-1")
    evse = Evse.objects.create(station=station, evse_number=1)
    connector = Connector.objects.create(station=station, evse=evse, connector_id=1)
    card = IdToken.objects.create(organization=org, uid="04AA")
    stop = datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
    session = Session.objects.create(
        organization=org,
        station=station,
        connector=connector,
        id_token=card,
        start=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        stop=stop,
        state="completed",
    )
    Cdr.objects.create(
        organization=org, session=session, currency="EUR", zero_reason="No tariff applies"
    )

    new_apps = migrate(AFTER)

    tariffs = {t.name: t for t in new_apps.get_model("billing", "Tariff").objects.all()}
    flat = parse_elements(tariffs["Flat"].elements)
    assert len(flat) == 1
    prices = {c.type: c.price for c in flat[0].price_components}
    # Per-minute prices become per-hour prices (× 60), as OCPI quotes TIME and PARKING_TIME.
    assert prices == {
        "ENERGY": Decimal("0.39"),
        "TIME": Decimal("3.00"),
        "PARKING_TIME": Decimal("6.00"),
        "FLAT": Decimal("1.00"),
    }
    energy_only = parse_elements(tariffs["Energy only"].elements)
    assert "FLAT" not in {c.type for c in energy_only[0].price_components}

    cdr = new_apps.get_model("billing", "ChargeDetailRecord").objects.get()
    assert (cdr.reason, cdr.id_token_id, cdr.accounted_at) == ("No tariff applies", card.pk, stop)
