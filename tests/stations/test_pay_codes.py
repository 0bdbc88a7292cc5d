"""Every connector has a pay code for its Scan2Pay sticker: random, unique, easy to type."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from stations.models import Connector
from tests.factories import ChargingStationFactory

# Lowercase letters and digits a sticker cannot get wrong: no 0/o, no 1/l.
TYPABLE = set("abcdefghijkmnpqrstuvwxyz23456789")


@pytest.mark.django_db
def test_a_new_connector_gets_a_ten_character_code_of_unambiguous_characters():
    station = ChargingStationFactory(connectors=3)
    codes = list(station.connectors.values_list("pay_code", flat=True))

    assert len(set(codes)) == 3
    for code in codes:
        assert len(code) == 10
        assert set(code) <= TYPABLE


@pytest.mark.django_db
def test_codes_do_not_repeat_across_many_connectors():
    ChargingStationFactory.create_batch(20, connectors=5)
    codes = list(Connector.objects.values_list("pay_code", flat=True))
    assert len(codes) == len(set(codes)) == 100


@pytest.mark.django_db
def test_the_admin_shows_the_pay_code_read_only(superuser_client):
    station = ChargingStationFactory(connectors=1)
    code = station.connectors.get().pay_code

    html = superuser_client.get(f"/admin/stations/chargingstation/{station.pk}/change/").content

    assert code.encode() in html
    assert b'name="connectors-0-pay_code"' not in html


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    applied = [
        node
        for node in executor.recorder.applied_migrations()
        if node in executor.loader.graph.nodes
    ]
    return executor.loader.project_state(applied).apps


@pytest.fixture
def apps_before_pay_codes(transactional_db):
    apps = migrate([("stations", "0012_site_time_zone")])
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_migration_gives_every_existing_connector_its_own_code(apps_before_pay_codes):
    Organization = apps_before_pay_codes.get_model("organizations", "Organization")
    Station = apps_before_pay_codes.get_model("stations", "ChargingStation")
    Connector_ = apps_before_pay_codes.get_model("stations", "Connector")
    org = Organization.objects.create(name="Old", slug="old")
    station = Station.objects.create(organization=org, ocpp_id="CS-OLD")
    for number in (1, 2, 3):
        Connector_.objects.create(station=station, connector_id=number)

    apps = migrate([("stations", "0015_connector_pay_code_unique")])

    codes = list(apps.get_model("stations", "Connector").objects.values_list("pay_code", flat=True))
    assert len(codes) == len(set(codes)) == 3
    assert all(len(code) == 10 and set(code) <= TYPABLE for code in codes)
