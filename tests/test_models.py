"""Database constraints that keep the domain consistent whatever writes to it."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from billing.models import TariffAssignment
from cards.models import IdToken
from sessions_app.choices import SessionState
from stations.models import ChargingStation, Connector, StationPasswordHasher
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db


def violates(create):
    """Whether running `create` breaks a database constraint (rolled back either way)."""
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_ocpp_identity_is_unique_platform_wide(org, other_org):
    ChargingStationFactory(organization=org, ocpp_id="CS-1")
    assert violates(lambda: ChargingStationFactory(organization=other_org, ocpp_id="CS-1"))


def test_card_uid_is_unique_within_an_organization(org):
    IdTokenFactory(organization=org, uid="04AABBCC")
    assert violates(lambda: IdTokenFactory(organization=org, uid="04AABBCC"))


def test_card_uid_is_unique_regardless_of_case(org):
    IdTokenFactory(organization=org, uid="04aabbcc")
    assert IdToken.objects.get().uid == "04AABBCC"
    assert violates(lambda: IdTokenFactory(organization=org, uid="04AAbbCC"))


def test_two_organizations_may_use_the_same_card_uid(org, other_org):
    IdTokenFactory(organization=org, uid="04AABBCC")
    assert not violates(lambda: IdTokenFactory(organization=other_org, uid="04AABBCC"))


def test_a_connector_has_at_most_one_active_session(station):
    ChargingSessionFactory(station=station)
    assert violates(lambda: ChargingSessionFactory(station=station))


def test_a_connector_keeps_any_number_of_finished_sessions(station):
    stop = datetime(2026, 1, 1, 13, tzinfo=UTC)
    ChargingSessionFactory(station=station, state=SessionState.COMPLETED, stop=stop)
    ChargingSessionFactory(station=station, state=SessionState.COMPLETED, stop=stop)
    assert not violates(lambda: ChargingSessionFactory(station=station))


def test_transaction_ids_are_unique_per_station(station):
    ChargingSessionFactory(station=station, transaction_id="7", state=SessionState.COMPLETED)
    connector = station.connectors.get(connector_id=2)
    assert violates(
        lambda: ChargingSessionFactory(station=station, connector=connector, transaction_id="7")
    )


def test_connector_numbers_are_unique_per_station(station):
    assert violates(lambda: Connector.objects.create(station=station, connector_id=1))


def test_a_tariff_assignment_must_name_the_target_of_its_scope(org):
    tariff = TariffFactory(organization=org)
    site = SiteFactory(organization=org)
    assert violates(
        lambda: TariffAssignment.objects.create(organization=org, tariff=tariff, scope="station")
    )
    assert not violates(
        lambda: TariffAssignment.objects.create(
            organization=org, tariff=tariff, scope="site", site=site
        )
    )


def test_an_organization_has_one_default_tariff(org):
    tariff = TariffFactory(organization=org)
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    assert violates(
        lambda: TariffAssignment.objects.create(
            organization=org, tariff=tariff, scope="organization"
        )
    )


def test_station_passwords_are_stored_hashed(org):
    station = ChargingStationFactory(organization=org, password="s3cret-pass")
    stored = ChargingStation.objects.get(pk=station.pk)
    assert "s3cret-pass" not in stored.password_hash
    assert stored.check_password("s3cret-pass")
    assert not stored.check_password("wrong")


def test_station_passwords_use_the_cheap_station_hasher(org):
    station = ChargingStationFactory(organization=org, password="a-long-station-key-01")
    algorithm, iterations, *_ = station.password_hash.split("$")
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", StationPasswordHasher.iterations)


def test_a_station_password_hashed_the_old_way_is_rehashed_when_it_matches(org):
    station = ChargingStationFactory(organization=org)
    station.password_hash = make_password("a-long-station-key-01")  # the site's user hasher
    station.save(update_fields=["password_hash"])
    old_hash = station.password_hash
    assert not station.check_password("not-the-key")
    assert ChargingStation.objects.get(pk=station.pk).password_hash == old_hash

    assert station.check_password("a-long-station-key-01")
    stored = ChargingStation.objects.get(pk=station.pk)
    assert stored.password_hash.startswith(f"pbkdf2_sha256${StationPasswordHasher.iterations}$")
    assert stored.check_password("a-long-station-key-01")


def test_a_station_without_password_accepts_no_password(org):
    station = ChargingStationFactory(organization=org)
    station.password_hash = ""
    assert not station.check_password("")


def test_full_clean_reports_a_case_only_duplicate_uid_as_a_validation_error(org):
    from django.core.exceptions import ValidationError

    IdTokenFactory(organization=org, uid="04AABBCC")
    duplicate = IdToken(organization=org, uid="04aabbcc")
    with pytest.raises(ValidationError) as raised:
        duplicate.full_clean()
    assert duplicate.uid == "04AABBCC"
    assert raised.value.message_dict
