"""OCPI 2.2.1 Sessions of our CPO role: partners' drivers' sessions, pulled and pushed."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.services import rate_session
from roaming import tasks
from roaming.choices import Direction, Module, TokenType, WhitelistType
from roaming.models import OcpiExchange, OcpiPush, PartnerSession, RoamingToken
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import session_to_ocpi
from sessions_app.choices import AuthMethod, AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession
from sessions_app.services import start_session, stop_session
from stations.choices import ConnectionState
from stations.models import Evse
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    MeterValueFactory,
    RemoteStartFactory,
    SiteFactory,
    TariffFactory,
    energy_elements,
)
from tests.roaming.conftest import connected_partner, make_profile

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
UID = "04A1B2C3"


def ocpi_get(client, partner, **params):
    url = f"/ocpi/{partner.organization.slug}/2.2.1/cpo/sessions/"
    return client.get(url, params, HTTP_AUTHORIZATION=f"Token {tokens.encode(partner.token)}")


def published_token(partner, uid=UID, whitelist=WhitelistType.ALWAYS, **fields):
    """A token the partner published to us."""
    values = {
        "organization": partner.organization,
        "partner": partner,
        "country_code": partner.country_code,
        "party_id": partner.party_id,
        "ocpi_id": uid,
        "last_updated": START,
        "uid": uid,
        "type": TokenType.RFID,
        "contract_id": f"NL-MSP-C{uid}",
        "issuer": "Mobility NL",
        "whitelist": whitelist,
        **fields,
    }
    return RoamingToken.objects.create(**values)


def roaming_station(organization, **fields):
    site = SiteFactory(
        organization=organization,
        roaming_enabled=True,
        latitude=Decimal("52.520008"),
        longitude=Decimal("13.404954"),
        street="Alexanderplatz 1",
    )
    return ChargingStationFactory(
        organization=organization, site=site, connection_state=ConnectionState.ONLINE, **fields
    )


def roaming_session(partner, station=None, **fields):
    """A session of one of the partner's drivers at our roaming station."""
    station = station or roaming_station(partner.organization)
    values = {
        "roaming_partner": partner,
        "id_tag": UID,
        "auth_method": AuthMethod.ROAMING,
        "start": START,
        **fields,
    }
    return ChargingSessionFactory(station=station, **values)


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "CPO")


@pytest.fixture
def tariff(org):
    return TariffFactory(organization=org, elements=energy_elements("0.40"), tax_rate="19.00")


@pytest.fixture
def partner(org, profile, tariff):
    return connected_partner(org, tariff=tariff)


# --- mapping ------------------------------------------------------------------------------------


def test_a_running_session_is_a_valid_active_session_at_our_evse(org, profile, partner):
    published_token(partner)
    session = roaming_session(partner, energy_wh=2500)
    evse = Evse.objects.get(pk=session.connector.evse_id)
    data = schemas.check("Session", session_to_ocpi(session, profile, partner))
    assert (data["country_code"], data["party_id"], data["id"]) == ("DE", "CPO", str(session.pk))
    assert data["start_date_time"] == "2026-01-01T12:00:00Z"
    assert (data["location_id"], data["evse_uid"], data["connector_id"]) == (
        str(session.station.site_id),
        str(evse.pk),
        "1",
    )
    assert data["kwh"] == 2.5
    assert data["status"] == "ACTIVE"
    assert data["currency"] == "EUR"
    assert "end_date_time" not in data


def test_the_cdr_token_is_the_token_the_partner_published(org, profile, partner):
    published_token(partner, whitelist=WhitelistType.ALWAYS)
    data = session_to_ocpi(roaming_session(partner), profile, partner)
    assert data["cdr_token"] == {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": UID,
        "type": "RFID",
        "contract_id": f"NL-MSP-C{UID}",
    }
    assert data["auth_method"] == "WHITELIST"


def test_a_token_asked_about_in_real_time_is_auth_request(org, profile, partner):
    published_token(partner, whitelist=WhitelistType.NEVER)
    session = roaming_session(partner, authorization_reference="REF-1")
    data = session_to_ocpi(session, profile, partner)
    assert data["auth_method"] == "AUTH_REQUEST"
    assert data["authorization_reference"] == "REF-1"


def test_an_unpublished_token_is_told_as_the_partners_rfid_uid(org, profile, partner):
    data = session_to_ocpi(roaming_session(partner), profile, partner)
    assert data["cdr_token"] == {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": UID,
        "type": "RFID",
        "contract_id": UID,
    }
    assert data["auth_method"] == "AUTH_REQUEST"


def test_a_session_the_partner_started_by_command_is_command(org, profile, partner):
    published_token(partner)
    session = roaming_session(partner)
    RemoteStartFactory(station=session.station, session=session, roaming_partner=partner)
    session = ChargingSession.objects.select_related("remote_start").get(pk=session.pk)
    assert session_to_ocpi(session, profile, partner)["auth_method"] == "COMMAND"


def test_charging_periods_follow_the_meter_charging_then_parked(org, profile, partner):
    session = roaming_session(partner, meter_start=1000, energy_wh=10000)
    for minutes, register in ((10, 6000), (20, 11000), (30, 11000), (40, 11000)):
        MeterValueFactory(
            session=session, timestamp=START + timedelta(minutes=minutes), value=register
        )
    periods = session_to_ocpi(session, profile, partner)["charging_periods"]
    assert periods == [
        {
            "start_date_time": "2026-01-01T12:00:00Z",
            "dimensions": [
                {"type": "ENERGY", "volume": 10.0},
                {"type": "TIME", "volume": 0.333333},
            ],
            "tariff_id": str(partner.tariff_id),
        },
        {
            "start_date_time": "2026-01-01T12:20:00Z",
            "dimensions": [{"type": "PARKING_TIME", "volume": 0.333333}],
            "tariff_id": str(partner.tariff_id),
        },
    ]


def test_a_running_session_shows_its_cost_so_far_at_the_partners_tariff(org, profile, partner):
    session = roaming_session(partner, energy_wh=10000)
    # 10 kWh at 0.40 excl. VAT, 19 % VAT.
    assert session_to_ocpi(session, profile, partner)["total_cost"] == {
        "excl_vat": 4.0,
        "incl_vat": 4.76,
    }


def test_a_rated_session_is_completed_with_its_cdrs_totals(org, profile, partner):
    session = roaming_session(
        partner,
        meter_start=0,
        meter_stop=5000,
        energy_wh=5000,
        stop=START + timedelta(minutes=30),
        state=SessionState.COMPLETED,
    )
    record = rate_session(session.pk)
    data = schemas.check("Session", session_to_ocpi(session, profile, partner))
    assert data["status"] == "COMPLETED"
    assert data["end_date_time"] == "2026-01-01T12:30:00Z"
    assert data["total_cost"] == {
        "excl_vat": float(record.total_excl_tax),
        "incl_vat": float(record.total_incl_tax),
    }
    assert data["total_cost"]["incl_vat"] == 2.38
    assert data["charging_periods"][0]["dimensions"][0] == {"type": "ENERGY", "volume": 5.0}


def test_a_refused_session_is_invalid(org, profile, partner):
    session = roaming_session(partner, auth_status=AuthorizationStatus.INVALID)
    assert session_to_ocpi(session, profile, partner)["status"] == "INVALID"


# --- GET ----------------------------------------------------------------------------------------


def test_a_partner_sees_only_its_own_drivers_sessions(org, profile, partner, client):
    station = roaming_station(org, connectors=3)
    first, second, third = station.connectors.order_by("connector_id")
    ours = roaming_session(partner, station=station, connector=first)
    other_partner = connected_partner(org, "BE", "XYZ")
    theirs = roaming_session(other_partner, station=station, connector=second)
    ChargingSessionFactory(station=station, connector=third)
    assert [s["id"] for s in ocpi_get(client, partner).json()["data"]] == [str(ours.pk)]
    assert [s["id"] for s in ocpi_get(client, other_partner).json()["data"]] == [str(theirs.pk)]


def test_another_organizations_sessions_are_never_listed(partner, other_org, client):
    theirs = connected_partner(other_org)
    roaming_session(theirs)
    assert ocpi_get(client, partner).json()["data"] == []


def test_the_list_is_paged_and_every_session_is_valid(org, partner, client):
    station = roaming_station(org, connectors=3)
    sessions = [
        roaming_session(partner, station=station, connector=connector)
        for connector in station.connectors.order_by("connector_id")
    ]
    first = ocpi_get(client, partner, limit=2)
    assert first["X-Total-Count"] == "3"
    assert 'rel="next"' in first["Link"]
    assert [s["id"] for s in first.json()["data"]] == [str(s.pk) for s in sessions[:2]]
    for session in first.json()["data"]:
        schemas.check("Session", session)


def test_the_list_filters_on_last_updated(org, partner, client):
    station = roaming_station(org, connectors=2)
    old, new = (
        roaming_session(partner, station=station, connector=c)
        for c in station.connectors.order_by("connector_id")
    )
    ChargingSession.objects.filter(pk=old.pk).update(updated=datetime(2026, 1, 1, tzinfo=UTC))
    ChargingSession.objects.filter(pk=new.pk).update(updated=datetime(2026, 3, 1, tzinfo=UTC))
    since = ocpi_get(client, partner, date_from="2026-02-01T00:00:00Z").json()["data"]
    assert [s["id"] for s in since] == [str(new.pk)]


def test_a_bad_date_to_is_refused_with_2001(partner, client):
    answer = ocpi_get(client, partner, date_to="2026-13-45")
    assert (answer.status_code, answer.json()["status_code"]) == (400, 2001)


def test_listing_rated_sessions_costs_the_same_queries_for_many(
    org, partner, client, django_assert_max_num_queries
):
    published_token(partner)
    station = roaming_station(org, connectors=4)
    for connector in station.connectors.all():
        session = roaming_session(
            partner,
            station=station,
            connector=connector,
            meter_stop=1000,
            energy_wh=1000,
            stop=START + timedelta(minutes=10),
            state=SessionState.COMPLETED,
        )
        rate_session(session.pk)
    # Organization, partner, profile; count, sessions, CDRs, tokens; the exchange log.
    with django_assert_max_num_queries(13):
        answer = ocpi_get(client, partner)
    assert len(answer.json()["data"]) == 4


# --- pushes over HTTP -----------------------------------------------------------------------------


def sent(ocpi_pair, **filters):
    return list(
        OcpiExchange.objects.filter(
            partner=ocpi_pair.emsp_at_cpo,
            direction=Direction.OUTGOING,
            module=Module.SESSIONS,
            **filters,
        ).order_by("pk")
    )


def test_a_partners_driver_charging_is_pushed_from_start_to_stop(ocpi_pair):
    cpo_partner = ocpi_pair.emsp_at_cpo
    published_token(cpo_partner)
    station = roaming_station(ocpi_pair.cpo, connectors=1)
    started = (timezone.now() - timedelta(minutes=30)).replace(microsecond=0)
    session = start_session(
        station, connector_number=1, id_tag=UID, started_at=started, meter_start=0
    ).session
    assert session.roaming_partner == cpo_partner
    (put,) = sent(ocpi_pair, method="PUT")
    assert put.url.endswith(f"/emsp/sessions/DE/CPO/{session.pk}")
    assert json.loads(put.request_body)["status"] == "ACTIVE"
    stored = PartnerSession.objects.get(partner=ocpi_pair.cpo_at_emsp, ocpi_id=str(session.pk))
    assert stored.status == "ACTIVE"

    ChargingSession.objects.filter(pk=session.pk).update(energy_wh=4000)
    assert tasks.push_active_sessions() == 1
    (patch,) = sent(ocpi_pair, method="PATCH")
    assert json.loads(patch.request_body)["kwh"] == 4.0
    stored.refresh_from_db()
    assert stored.kwh == Decimal("4")

    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=started + timedelta(minutes=20),
        meter_stop=5000,
        reason="Local",
    )
    final = json.loads(sent(ocpi_pair, method="PUT")[-1].request_body)
    assert (final["status"], final["kwh"]) == ("COMPLETED", 5.0)
    stored.refresh_from_db()
    assert (stored.status, stored.end) == ("COMPLETED", started + timedelta(minutes=20))


def test_a_session_of_a_local_card_is_never_pushed(ocpi_pair):
    station = roaming_station(ocpi_pair.cpo, connectors=1)
    start_session(
        station, connector_number=1, id_tag="LOCAL", started_at=timezone.now(), meter_start=0
    )
    assert not OcpiPush.objects.filter(module=Module.SESSIONS).exists()
    assert tasks.push_active_sessions() == 0
