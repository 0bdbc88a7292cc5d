"""Two instances of our roaming module, CPO and eMSP, over real HTTP, with a real OCPP station.

The `ocpi_pair` organizations (DE*CPO and NL*MSP, registered with each other through the
credentials module on pytest-django's live server) exchange every object here through their
own outboxes, receivers and clients; the CPO's station is the `ocpp` library's 1.6
ChargePoint on a real WebSocket to the ASGI application (`ocpp_server`). Nothing is posted by
hand: the station's frames, the card the eMSP flags for roaming and the eMSP admin's command
are the only inputs.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connections
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, Reason, RemoteStartStopStatus
from rest_framework.test import APIClient

from billing.models import ChargeDetailRecord, TariffAssignment
from organizations.choices import Role
from roaming.choices import CommandResultType, Direction, WhitelistType
from roaming.models import (
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    RoamingCommand,
    RoamingToken,
)
from roaming.ocpi.v221.receiving import pull_partner_data
from sessions_app.models import ChargingSession
from stations.models import Connector
from tests.factories import (
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    SiteFactory,
    TariffFactory,
    UserFactory,
    energy_elements,
)
from tests.ocpp_gateway.conftest import Station, connected_station

IDENTITY = "CS-PAIR-1"
CARD_UID = "04E2E0CAFE0001"
# Published by the CPO to the eMSP: 0.40/kWh and 0.50 per session, 19 % VAT. The CPO's own
# drivers pay 0.99/kWh (the organization's tariff), so a wrong tariff shows in the total.
PARTNER_TARIFF = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.40", "step_size": 1},
            {"type": "FLAT", "price": "0.50", "step_size": 1},
        ]
    }
]
# How long what one side sends after its commit may take to be stored by the other.
DELIVERY_SECONDS = 15


@pytest.fixture
def pair(ocpi_pair, eager_celery):
    """The registered pair with pushes and commands run in-process after each commit."""
    # Rate-limit counters, cached authorizations and pull watermarks of earlier tests go.
    cache.clear()
    yield ocpi_pair
    cache.clear()


@pytest.fixture
def cpo_site(pair):
    """The CPO's roaming site with one 22 kW station, and the tariff published to the eMSP."""
    site = SiteFactory(
        organization=pair.cpo,
        name="Hafen",
        street="Hafenstraße 1",
        postal_code="20457",
        city="Hamburg",
        country="DE",
        latitude=Decimal("53.541000"),
        longitude=Decimal("9.984000"),
        roaming_enabled=True,
    )
    station = ChargingStationFactory(
        organization=pair.cpo, site=site, ocpp_id=IDENTITY, connectors=1
    )
    Connector.objects.filter(station=station).update(max_power_kw=Decimal("22"))
    own = TariffFactory(organization=pair.cpo, elements=energy_elements("0.99"))
    TariffAssignment.objects.create(organization=pair.cpo, tariff=own, scope="organization")
    pair.emsp_at_cpo.tariff = TariffFactory(
        organization=pair.cpo, name="Roaming NL*MSP", elements=PARTNER_TARIFF, tax_rate="19.00"
    )
    pair.emsp_at_cpo.save()
    return site


@pytest.fixture
def card(pair, cpo_site):
    """A card of the eMSP flagged for roaming: pushed to the CPO as a Token when saved."""
    return IdTokenFactory(organization=pair.emsp, uid=CARD_UID, roaming=True)


def ts(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def status(value: str, moment: datetime):
    return call.StatusNotification(
        connector_id=1, error_code="NoError", status=value, timestamp=ts(moment)
    )


async def boot(cp, moment: datetime) -> None:
    await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
    await cp.call(status("Available", moment))


async def eventually(db_call, found, what: str):
    """`found()` (run in the ORM thread) once it is truthy: the other side stores after commit."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        value = await db_call(found)
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} never arrived."
        await asyncio.sleep(0.1)


def partner_location(pair, site):
    return PartnerLocation.objects.filter(
        partner=pair.cpo_at_emsp, country_code="DE", party_id="CPO", ocpi_id=str(site.pk)
    ).first()


def evse_status(location) -> str | None:
    if location is None or not location.data.get("evses"):
        return None
    return location.data["evses"][0]["status"]


# --- locations: pushed by the CPO, pulled by the eMSP ----------------------------------------


async def test_the_cpos_roaming_site_is_pushed_with_its_station_status_and_pulled_by_the_emsp(
    pair, cpo_site, ocpp_server, db_call
):
    # Switched on before the station ever connected: pushed at once, the EVSE's state unknown.
    pushed = await db_call(partner_location, pair, cpo_site)
    assert (pushed.name, pushed.city, pushed.country) == ("Hafen", "Hamburg", "DEU")
    assert evse_status(pushed) == "UNKNOWN"
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await boot(cp, datetime.now(UTC))
        available = await eventually(
            db_call,
            lambda: evse_status(partner_location(pair, cpo_site)) == "AVAILABLE",
            "The EVSE's AVAILABLE status",
        )
        # What the eMSP pulls is the same location, as the CPO serves it now (read while
        # the station is online: its disconnection is pushed as UNKNOWN).
        await db_call(PartnerLocation.objects.filter(partner=pair.cpo_at_emsp).delete)
        results = {r.module: r for r in await db_call(pull_partner_data, pair.cpo_at_emsp)}
        pulled = await db_call(partner_location, pair, cpo_site)
    assert available
    assert (results["locations"].stored, results["locations"].error) == (1, "")
    assert (pulled.name, evse_status(pulled)) == ("Hafen", "AVAILABLE")
    [connector] = pulled.data["evses"][0]["connectors"]
    assert (connector["standard"], connector["max_electric_power"], connector["tariff_ids"]) == (
        "IEC_62196_T2",
        22000,
        [str(pair.emsp_at_cpo.tariff_id)],
    )
    # Both directions crossed the wire only for this party: no other location exists.
    assert await db_call(PartnerLocation.objects.count) == 1


# --- a driver of the eMSP charges at the CPO's station ----------------------------------------


def meter(transaction_id: int, moment: datetime, wh: int):
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": ts(moment),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                ],
            }
        ],
    )


def stored_session(pair):
    return PartnerSession.objects.filter(partner=pair.cpo_at_emsp).first()


def stored_cdr(pair):
    return PartnerCdr.objects.filter(partner=pair.cpo_at_emsp).select_related("id_token").first()


async def test_an_emsp_driver_charges_at_the_cpo_and_gets_a_cdr_priced_by_the_published_tariff(
    pair, cpo_site, card, ocpp_server, db_call
):
    # The card reached the CPO as a Token of NL*MSP, to be checked in real time (ALLOWED).
    token = await db_call(RoamingToken.objects.get, organization=pair.cpo, uid=CARD_UID)
    assert (token.partner_id, token.whitelist, token.valid) == (
        pair.emsp_at_cpo.pk,
        WhitelistType.ALLOWED,
        True,
    )
    started = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await boot(cp, started)
        auth = await cp.call(call.Authorize(id_tag=CARD_UID))
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=CARD_UID, meter_start=10_000, timestamp=ts(started)
            )
        )
        tx = start.transaction_id
        await cp.call(status("Charging", started))
        active = await eventually(
            db_call,
            lambda: (s := stored_session(pair)) is not None and s.status == "ACTIVE" and s,
            "The ACTIVE session",
        )
        await cp.call(meter(tx, started + timedelta(minutes=20), 13_000))
        await cp.call(
            call.StopTransaction(
                transaction_id=tx,
                meter_stop=16_250,
                timestamp=ts(started + timedelta(minutes=40)),
                reason=Reason.local,
            )
        )
        cdr = await eventually(db_call, lambda: stored_cdr(pair), "The CDR")
        completed = await eventually(
            db_call,
            lambda: (s := stored_session(pair)).status == "COMPLETED" and s,
            "The COMPLETED session",
        )
    assert (auth.id_tag_info["status"], start.id_tag_info["status"]) == (
        AuthorizationStatus.accepted,
        AuthorizationStatus.accepted,
    )
    # The CPO's session is the partner's driver's, billed to it.
    session = await db_call(ChargingSession.objects.get, transaction_id=str(tx))
    assert (session.roaming_partner_id, session.billable) == (pair.emsp_at_cpo.pk, True)
    # The eMSP was asked in real time (the card's whitelist is ALLOWED): the reference it
    # answered is the session's, and comes back to it in the pushed Session.
    assert session.authorization_reference
    assert active.data["authorization_reference"] == session.authorization_reference
    assert (active.id_token_id, active.location_id) == (card.pk, str(cpo_site.pk))
    assert (completed.kwh, completed.id_token_id) == (Decimal("6.25"), card.pk)
    # By hand, from the tariff published to NL*MSP: 6.25 kWh × 0.40 = 2.50, plus the session
    # fee 0.50 → 3.00 excl. VAT; 19 % VAT 0.57 → 3.57. (The CPO's own drivers' 0.99/kWh would
    # make 6.19 excl. VAT.)
    record = await db_call(ChargeDetailRecord.objects.get, session=session)
    assert (record.roaming_partner_id, record.tariff_id) == (
        pair.emsp_at_cpo.pk,
        pair.emsp_at_cpo.tariff_id,
    )
    assert (record.total_excl_tax, record.total_incl_tax) == (Decimal("3.00"), Decimal("3.57"))
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (
        Decimal("3.00"),
        Decimal("3.57"),
    )
    assert (cdr.kwh, cdr.currency, cdr.location_id) == (Decimal("6.25"), "EUR", str(cpo_site.pk))
    assert (cdr.ocpi_id, cdr.session_id) == (str(record.pk), str(session.pk))
    assert cdr.id_token == card
    assert cdr.data["tariffs"][0]["id"] == str(pair.emsp_at_cpo.tariff_id)


# --- a START_SESSION of the eMSP reaches the CPO's station; the result comes back -----------


class RemoteStartable(Station):
    """A 1.6 station that accepts a remote start, then starts the transaction it was asked for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remote_starts = []
        self.started = asyncio.Event()
        self.start_answer = None

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **_):
        self.remote_starts.append((id_tag, connector_id))
        return call_result.RemoteStartTransaction(status=RemoteStartStopStatus.accepted)

    @after(Action.remote_start_transaction)
    async def start_it(self, id_tag, connector_id=None, **_):
        self.start_answer = await self.call(
            call.StartTransaction(
                connector_id=connector_id or 1,
                id_tag=id_tag,
                meter_start=0,
                timestamp=ts(datetime.now(UTC)),
            )
        )
        self.started.set()


def emsp_admin_client(pair) -> APIClient:
    """The API as an admin of the eMSP organization."""
    user = UserFactory()
    MembershipFactory(user=user, organization=pair.emsp, role=Role.ADMIN)
    client = APIClient()
    client.force_authenticate(user)
    return client


def post_in_own_thread(client, url, body):
    """An API request from a worker thread, whose database connection is closed after it."""
    try:
        return client.post(url, body, format="json")
    finally:
        connections.close_all()


def sent_command(pair):
    return RoamingCommand.objects.filter(organization=pair.emsp).get()


async def test_a_start_session_of_the_emsp_starts_the_cpos_station_and_its_result_comes_back(
    pair, cpo_site, card, ocpp_server, db_call
):
    client = await db_call(emsp_admin_client, pair)
    connector = await db_call(Connector.objects.get, station__ocpp_id=IDENTITY)
    body = {
        "command": "START_SESSION",
        "id_token": card.pk,
        "location_id": str(cpo_site.pk),
        "evse_uid": str(connector.evse_id),
        "connector_id": "1",
    }
    url = f"/api/v1/roaming-partners/{pair.cpo_at_emsp.pk}/commands/"
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStartable) as cp:
        await boot(cp, datetime.now(UTC))
        answer = await asyncio.to_thread(post_in_own_thread, client, url, body)
        assert answer.status_code == 200, answer.content
        await asyncio.wait_for(cp.started.wait(), DELIVERY_SECONDS)
        sent = await eventually(
            db_call,
            lambda: (c := sent_command(pair)).result != CommandResultType.PENDING and c,
            "The START_SESSION result",
        )
    # The eMSP's command: sent, accepted by the CPO, and its CommandResult received.
    assert (answer.json()["id"], answer.json()["command"]) == (sent.pk, "START_SESSION")
    assert (sent.direction, sent.result, sent.response["result"]) == (
        Direction.OUTGOING,
        CommandResultType.ACCEPTED,
        "ACCEPTED",
    )
    assert sent.timeout == sent.response["timeout"] > 0
    assert (sent.request["token"]["uid"], sent.request["token"]["party_id"]) == (CARD_UID, "MSP")
    # The CPO's side: the same command received from NL*MSP, carried out and answered.
    received = await db_call(RoamingCommand.objects.get, organization=pair.cpo)
    assert (received.direction, received.partner_id, received.result, received.result_sent) == (
        Direction.INCOMING,
        pair.emsp_at_cpo.pk,
        CommandResultType.ACCEPTED,
        True,
    )
    assert received.response_url == sent.response_url
    # The station was told the card's uid, started with it, and the start was accepted as the
    # partner's driver's: a roaming session of NL*MSP at the CPO.
    assert cp.remote_starts == [(CARD_UID, 1)]
    assert cp.start_answer.id_tag_info["status"] == AuthorizationStatus.accepted
    session = await db_call(
        ChargingSession.objects.get, transaction_id=str(cp.start_answer.transaction_id)
    )
    assert (session.roaming_partner_id, session.id_tag) == (pair.emsp_at_cpo.pk, CARD_UID)
