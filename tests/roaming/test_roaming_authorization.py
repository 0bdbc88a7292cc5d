"""Partners' tokens in the authorization chain: roaming sites only, whitelist, real time."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connections
from ocpp.v16 import call
from ocpp.v201 import call as call201

from roaming.choices import CommandType, InterfaceRole, Module, PartnerStatus
from roaming.models import RoamingCommand, RoamingProfile, RoamingToken
from roaming.ocpi import tokens
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.cpo.tokens import save_token
from roaming.ocpi.v221.mapping import evse_uid
from sessions_app.authorization import authorize
from sessions_app.choices import AuthMethod, AuthorizationStatus
from sessions_app.models import ChargingSession
from tests.factories import ChargingStationFactory, SiteFactory
from tests.ocpp_gateway.conftest import connected_station, connected_station201
from tests.roaming.conftest import make_partner, make_profile
from tests.roaming.fake_partner import FakePartner, Reply, ocpi_reply

SENDER = "/ocpi/emsp/2.2.1/tokens/"
UID = "04ABCDEF0001"


def published(uid=UID, **fields) -> dict:
    """A Token of the partner's party NL*MSP."""
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": uid,
        "type": "RFID",
        "contract_id": "NL-MSP-C00000001",
        "issuer": "Mobility NL",
        "group_id": "GROUP-1",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": "2026-01-01T00:00:00Z",
        **fields,
    }


def emsp_partner(organization, emsp_url: str, **fields):
    """An active eMSP partner whose tokens sender is at `emsp_url`."""
    partner = make_partner(
        organization,
        "NL",
        "MSP",
        status=PartnerStatus.ACTIVE,
        credentials_token="theirs",
        endpoints=[
            {
                "identifier": Module.TOKENS,
                "role": InterfaceRole.SENDER,
                "url": emsp_url + SENDER,
            }
        ],
    )
    partner.incoming_token_hash = tokens.token_hash(tokens.new_token())
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.save()
    return partner


def authorize_route(fake, allowed="ALLOWED", uid=UID, **info):
    """The eMSP's real-time authorization answering `allowed`."""
    fake.routes[("POST", f"{SENDER}{uid}/authorize")] = ocpi_reply(
        {"allowed": allowed, "token": published(uid), **info}
    )


@pytest.fixture
def fake_emsp(settings):
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    settings.OCPI_AUTHORIZE_TIMEOUT = 2
    # Real-time answers are reused for minutes through the cache: each test starts without.
    cache.clear()
    server = FakePartner().start()
    yield server
    server.stop()


@pytest.fixture
def unreachable_url(settings):
    """A URL nobody answers at (a server that was stopped: connection refused)."""
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    cache.clear()
    server = FakePartner()
    url = server.url
    server.server.server_close()
    return url


@pytest.fixture
def roaming(org, fake_emsp):
    """`org` as CPO with one station at a roaming site, and its eMSP partner."""
    make_profile(org, "DE", "CPO")
    site = SiteFactory(organization=org, roaming_enabled=True)
    station = ChargingStationFactory(organization=org, site=site, ocpp_id="CS-ROAM-1")
    partner = emsp_partner(org, fake_emsp.url)
    return station, partner


def publish(partner, **fields) -> RoamingToken:
    return save_token(partner, published(**fields), country_code="NL", party_id="MSP")


# --- which tokens count where ---------------------------------------------------------------


def test_a_published_token_is_accepted_at_a_roaming_site_for_its_partner(roaming, fake_emsp):
    station, partner = roaming
    publish(partner)
    result = authorize(station, UID.lower())
    assert (result.status, result.roaming_partner_id) == (AuthorizationStatus.ACCEPTED, partner.pk)
    assert result.parent_id_tag == "GROUP-1"
    assert fake_emsp.received == []  # ALWAYS: never asked in real time


def test_a_token_published_as_invalid_is_refused(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, valid=False)
    assert authorize(station, UID).status == AuthorizationStatus.INVALID
    assert fake_emsp.received == []


def test_a_roaming_token_is_invalid_at_a_site_without_roaming(roaming, org):
    _, partner = roaming
    publish(partner)
    plain = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    result = authorize(plain, UID)
    assert (result.status, result.roaming_partner_id) == (AuthorizationStatus.INVALID, None)


def test_a_token_of_a_suspended_partner_is_invalid(roaming):
    station, partner = roaming
    publish(partner)
    partner.status = PartnerStatus.SUSPENDED
    partner.save()
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_tokens_are_invalid_while_the_organization_plays_no_cpo_role(roaming, org):
    station, partner = roaming
    publish(partner)
    RoamingProfile.objects.filter(organization=org).update(cpo_enabled=False)
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_a_token_of_another_organizations_partner_is_invalid_here(roaming, other_org, fake_emsp):
    station, _ = roaming
    make_profile(other_org, "FR", "OTH")
    publish(emsp_partner(other_org, fake_emsp.url))
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_an_unknown_card_costs_one_query_after_the_local_cards(roaming, django_assert_num_queries):
    station, partner = roaming
    publish(partner)
    with django_assert_num_queries(2):
        assert authorize(station, "NOT-A-CARD").status == AuthorizationStatus.INVALID


# --- whitelist and real-time authorization --------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "status"),
    [
        ("ALLOWED", AuthorizationStatus.ACCEPTED),
        ("BLOCKED", AuthorizationStatus.BLOCKED),
        ("EXPIRED", AuthorizationStatus.EXPIRED),
        ("NO_CREDIT", AuthorizationStatus.INVALID),
        ("NOT_ALLOWED", AuthorizationStatus.INVALID),
    ],
)
def test_the_emsps_real_time_answer_decides(roaming, fake_emsp, allowed, status):
    station, partner = roaming
    publish(partner, whitelist="ALLOWED")
    authorize_route(fake_emsp, allowed, authorization_reference="REF-1")
    result = authorize(station, UID)
    assert (result.status, result.roaming_partner_id) == (status, partner.pk)
    [asked] = fake_emsp.requests_to(f"{SENDER}{UID}/authorize")
    assert asked.query == {"type": "RFID"}
    schemas.check("LocationReferences", asked.body)
    assert asked.body == {
        "location_id": str(station.site_id),
        "evse_uids": [evse_uid(c) for c in station.connectors.order_by("connector_id")],
    }


@pytest.mark.parametrize("whitelist", ["ALLOWED", "ALLOWED_OFFLINE"])
@pytest.mark.parametrize(("valid", "status"), [(True, "Accepted"), (False, "Invalid")])
def test_without_an_answer_the_published_token_decides(
    org, unreachable_url, whitelist, valid, status
):
    make_profile(org, "DE", "CPO")
    station = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org, roaming_enabled=True)
    )
    publish(emsp_partner(org, unreachable_url), whitelist=whitelist, valid=valid)
    assert authorize(station, UID).status == status


def test_never_refuses_when_the_emsp_cannot_be_reached(org, unreachable_url):
    make_profile(org, "DE", "CPO")
    station = ChargingStationFactory(
        organization=org, site=SiteFactory(organization=org, roaming_enabled=True)
    )
    publish(emsp_partner(org, unreachable_url), whitelist="NEVER")
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_never_refuses_when_the_emsp_answers_an_error(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, whitelist="NEVER")
    fake_emsp.routes[("POST", f"{SENDER}{UID}/authorize")] = Reply(500, {"status_code": 3000})
    assert authorize(station, UID).status == AuthorizationStatus.INVALID
    assert len(fake_emsp.received) == 1


def test_a_token_the_emsp_does_not_know_is_invalid_whatever_it_published(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, whitelist="ALLOWED")
    fake_emsp.routes[("POST", f"{SENDER}{UID}/authorize")] = ocpi_reply(
        None, status_code=2004, http_status=404
    )
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_an_answer_for_other_evses_only_refuses_here(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, whitelist="NEVER")
    location = {"location_id": str(station.site_id), "evse_uids": ["somewhere-else"]}
    authorize_route(fake_emsp, "ALLOWED", location=location)
    assert authorize(station, UID).status == AuthorizationStatus.INVALID


def test_authorize_and_start_ask_the_emsp_once_and_keep_its_reference(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, whitelist="NEVER")
    authorize_route(fake_emsp, "ALLOWED", authorization_reference="AUTH-42")
    first = authorize(station, UID, for_start=True)
    again = authorize(station, UID, for_start=True, connector=station.connectors.first())
    assert first.authorization_reference == again.authorization_reference == "AUTH-42"
    assert len(fake_emsp.received) == 1


def test_the_token_of_the_partners_own_start_session_is_not_asked_about(roaming, fake_emsp):
    station, partner = roaming
    publish(partner, whitelist="NEVER")
    RoamingCommand.objects.create(
        organization=station.organization,
        partner=partner,
        command=CommandType.START_SESSION,
        request={"token": published(), "authorization_reference": "CMD-7"},
        response_url="https://emsp.example/commands/1",
        station=station,
    )
    result = authorize(station, UID, for_start=True)
    assert (result.status, result.authorization_reference) == ("Accepted", "CMD-7")
    assert fake_emsp.received == []


# --- through a real OCPP station --------------------------------------------------------------


def reading(db_call, **lookup):
    return db_call(lambda: ChargingSession.objects.select_related("roaming_partner").get(**lookup))


async def roaming_setup(db_call, org, emsp_url, *, roaming_site=True, **token):
    def build():
        make_profile(org, "DE", "CPO")
        site = SiteFactory(organization=org, roaming_enabled=roaming_site)
        ChargingStationFactory(organization=org, site=site, ocpp_id="CS-ROAM-E2E")
        partner = emsp_partner(org, emsp_url)
        publish(partner, **token)
        connections.close_all()
        return partner

    return await db_call(build)


async def charge_16(server):
    """Boot, Authorize and StartTransaction with the partner's token; the two answers."""
    async with connected_station(server, "CS-ROAM-E2E") as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        auth = await cp.call(call.Authorize(id_tag=UID))
        start = await cp.call(
            call.StartTransaction(
                connector_id=1,
                id_tag=UID,
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            )
        )
    return auth.id_tag_info["status"], start.id_tag_info["status"]


async def test_a_16_station_charges_a_partners_customer_at_a_roaming_site(
    ocpp_server, db_call, org, fake_emsp
):
    partner = await roaming_setup(db_call, org, fake_emsp.url)
    assert await charge_16(ocpp_server) == ("Accepted", "Accepted")
    session = await reading(db_call, station__ocpp_id="CS-ROAM-E2E")
    assert session.roaming_partner == partner
    assert (session.auth_method, session.billable) == (AuthMethod.ROAMING, True)


async def test_a_16_station_refuses_a_partners_token_at_a_site_without_roaming(
    ocpp_server, db_call, org, fake_emsp
):
    await roaming_setup(db_call, org, fake_emsp.url, roaming_site=False)
    assert await charge_16(ocpp_server) == ("Invalid", "Invalid")
    session = await reading(db_call, station__ocpp_id="CS-ROAM-E2E")
    assert (session.roaming_partner, session.billable) == (None, False)


async def test_a_16_station_refuses_a_never_token_while_the_emsp_is_unreachable(
    ocpp_server, db_call, org, unreachable_url
):
    await roaming_setup(db_call, org, unreachable_url, whitelist="NEVER")
    assert await charge_16(ocpp_server) == ("Invalid", "Invalid")
    session = await reading(db_call, station__ocpp_id="CS-ROAM-E2E")
    assert session.billable is False


async def test_a_16_station_is_told_blocked_when_the_emsp_blocks_the_token(
    ocpp_server, db_call, org, fake_emsp
):
    await roaming_setup(db_call, org, fake_emsp.url, whitelist="ALLOWED")
    authorize_route(fake_emsp, "BLOCKED")
    assert await charge_16(ocpp_server) == ("Blocked", "Blocked")
    # Asked once: the StartTransaction reused the answer to the Authorize.
    assert len(fake_emsp.requests_to(f"{SENDER}{UID}/authorize")) == 1


async def test_a_201_transaction_with_a_partners_token_is_the_partners_customers(
    ocpp_server, db_call, org, fake_emsp
):
    partner = await roaming_setup(db_call, org, fake_emsp.url, whitelist="NEVER")
    authorize_route(fake_emsp, "ALLOWED", authorization_reference="AUTH-201")

    def build():
        station = ChargingStationFactory(
            organization=org,
            site=partner.organization.sites.get(),
            ocpp_id="CS-ROAM-201",
        )
        connections.close_all()
        return station

    await db_call(build)
    async with connected_station201(ocpp_server, "CS-ROAM-201") as cs:
        await cs.call(
            call201.BootNotification(
                charging_station={"model": "W", "vendor_name": "ACME"}, reason="PowerUp"
            )
        )
        answer = await cs.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                trigger_reason="Authorized",
                seq_no=0,
                transaction_info={"transaction_id": "TX-ROAM-1"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": UID, "type": "ISO14443"},
            )
        )
    assert answer.id_token_info["status"] == "Accepted"
    session = await reading(db_call, transaction_id="TX-ROAM-1")
    assert session.roaming_partner == partner
    assert (session.auth_method, session.billable) == (AuthMethod.ROAMING, True)
    assert session.authorization_reference == "AUTH-201"
