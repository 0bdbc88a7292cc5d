"""Our CPO role against an independent OCPI 2.2.1 implementation run as the partner eMSP.

The partner is the extrawest-ocpi library (`py_ocpi` 2025.7.16, from PyPI), served by uvicorn
in a virtual environment of its own (`make partner-venv`, tests/roaming/partner/): the library
answers every OCPI request and checks each body with its own pydantic models, so what it
accepts and what its models parse is a check of our JSON by code we did not write. One partner
process serves the whole test session; each test starts it afresh (/partner/reset) and reads
what it received from /partner/store.

Our platform is served by pytest-django's live server (OCPI) and, where a station takes part,
by the ASGI application on a real socket with the `ocpp` library's 1.6 ChargePoint.
"""

import asyncio
import contextlib
import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, Reason, RemoteStartStopStatus

from billing.models import TariffAssignment
from roaming import tasks
from roaming.choices import PartnerRole, PartnerStatus
from roaming.models import RoamingPartner, RoamingProfile, RoamingToken
from roaming.ocpi import registration, tokens
from stations.models import Connector
from tests.factories import (
    ChargingStationFactory,
    IdTokenFactory,
    OrganizationFactory,
    SiteFactory,
    TariffFactory,
    energy_elements,
)
from tests.ocpp_gateway.conftest import Station, connected_station
from tests.roaming.conftest import make_partner, make_profile
from tests.serverprocess import BASE_DIR, free_port

PARTNER_DIR = Path(__file__).resolve().parent / "partner"
PARTNER_PYTHON = BASE_DIR / ".venv-partner" / "bin" / "python"
PARTNER_PARTY = ("NL", "EXW")
# Long enough for a cold start of the partner's interpreter on a loaded CI machine.
STARTUP_SECONDS = 60
# How long a push that our side sends after commit may take to land at the partner.
DELIVERY_SECONDS = 15

IDENTITY = "CS-ROAM-1"
# The partner's driver: an RFID card it pushes to us (whitelisted: no real-time authorization).
DRIVER_UID = "04AB12CD34EF56"
# Published to the partner: 0.40/kWh, 1.20/h while charging (per minute), 0.50 per session.
PARTNER_TARIFF = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.40", "step_size": 1},
            {"type": "TIME", "price": "1.20", "step_size": 60},
            {"type": "FLAT", "price": "0.50", "step_size": 1},
        ]
    }
]
START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@dataclass
class PartnerProcess:
    """The running partner: where it listens and the token of the test's calls to it."""

    url: str
    admin_token: str
    process: subprocess.Popen
    log: Path

    def call(self, method: str, path: str, json=None) -> requests.Response:
        """One call to the partner's test endpoints (/partner/…, and the library's /push/)."""
        return requests.request(
            method,
            self.url + path,
            json=json,
            headers={
                "X-Partner-Admin": self.admin_token,
                # The library's push endpoint takes a token of its own list, encoded.
                "Authorization": f"Token {tokens.encode(self.admin_token)}",
            },
            timeout=30,
        )

    def store(self) -> dict:
        """Everything the partner holds and received."""
        answer = self.call("GET", "/partner/store")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def output(self) -> str:
        """The end of the partner's log, for a failure message."""
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(scope="session")
def partner_process(tmp_path_factory):
    """The independent eMSP, served by uvicorn from its own virtual environment."""
    if not PARTNER_PYTHON.exists():
        pytest.fail(
            f"The independent OCPI partner is not installed ({PARTNER_PYTHON} is missing): "
            "run `make partner-venv`."
        )
    port = free_port()
    admin_token = secrets.token_urlsafe(16)
    env = {
        "PATH": os.environ.get("PATH", ""),
        # Read by the library's settings at import: the URLs it publishes and its party.
        "OCPI_HOST": f"127.0.0.1:{port}",
        "PROTOCOL": "http",
        "COUNTRY_CODE": PARTNER_PARTY[0],
        "PARTY_ID": PARTNER_PARTY[1],
        "ENVIRONMENT": "production",
        "PARTNER_ADMIN_TOKEN": admin_token,
    }
    log = tmp_path_factory.mktemp("partner") / "partner.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(PARTNER_PYTHON),
                "-m",
                "uvicorn",
                "partner_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=PARTNER_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    partner = PartnerProcess(f"http://127.0.0.1:{port}", admin_token, process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        assert process.poll() is None, f"The partner exited:\n{partner.output()}"
        with contextlib.suppress(requests.RequestException):
            if requests.get(partner.url + "/partner/health", timeout=1).status_code == 200:
                break
        assert time.monotonic() < deadline, f"The partner did not start:\n{partner.output()}"
        time.sleep(0.1)
    yield partner
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Partner:
    """The partner emptied for one test, with the token A it gives its next CPO."""

    process: PartnerProcess
    token_a: str
    versions_url: str

    @property
    def url(self) -> str:
        return self.process.url

    def call(self, method: str, path: str, json=None) -> requests.Response:
        return self.process.call(method, path, json)

    def store(self) -> dict:
        return self.process.store()

    def client(self) -> dict:
        """The CPO registered with the partner: which is us."""
        [client] = self.store()["clients"]
        return client


def reset(process: PartnerProcess, *, lower_case: bool) -> Partner:
    """The partner emptied; `lower_case`: it writes CiStrings (party ids, uids) in lower case."""
    answer = process.call("POST", "/partner/reset", {"lower_case": lower_case})
    assert answer.status_code == 200, answer.text
    return Partner(process, answer.json()["token_a"], answer.json()["versions_url"])


@pytest.fixture
def partner(partner_process) -> Partner:
    """The partner, writing CiStrings in upper case as our party ids are written."""
    return reset(partner_process, lower_case=False)


@dataclass
class Cpo:
    """Our organization as a CPO, with the independent eMSP as its partner row."""

    organization: object
    partner: RoamingPartner
    site: object
    station: object
    hidden_site: object
    tariff: object

    def refresh(self) -> RoamingPartner:
        self.partner.refresh_from_db()
        return self.partner


@pytest.fixture
def cpo(ocpi_settings, transactional_db, eager_celery) -> Cpo:
    """A CPO with one roaming site (a 22 kW Type 2 station), one site not roaming, and the
    partner's own tariff, which differs from what the organization's own drivers pay.

    Pushes and commands run in-process right after the commit (eager Celery), on Redis too."""
    organization = OrganizationFactory(name="Stadtwerke CPO", slug="stadtwerke-cpo")
    make_profile(organization, "DE", "CPO", emsp_enabled=False)
    site = SiteFactory(
        organization=organization,
        name="Marktplatz",
        street="Marktplatz 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        latitude=Decimal("52.520008"),
        longitude=Decimal("13.404954"),
        roaming_enabled=True,
    )
    station = ChargingStationFactory(
        organization=organization, site=site, ocpp_id=IDENTITY, connectors=1
    )
    Connector.objects.filter(station=station).update(max_power_kw=Decimal("22"))
    hidden_site = SiteFactory(
        organization=organization,
        latitude=Decimal("52.5"),
        longitude=Decimal("13.4"),
        roaming_enabled=False,
    )
    ChargingStationFactory(organization=organization, site=hidden_site, connectors=1)
    own = TariffFactory(organization=organization, elements=energy_elements("0.99"))
    TariffAssignment.objects.create(organization=organization, tariff=own, scope="organization")
    tariff = TariffFactory(
        organization=organization, name="Roaming", elements=PARTNER_TARIFF, tax_rate="19.00"
    )
    row = make_partner(
        organization, *PARTNER_PARTY, PartnerRole.EMSP, name="Independent eMSP", tariff=tariff
    )
    return Cpo(organization, row, site, station, hidden_site, tariff)


@pytest.fixture
def registered(cpo, partner) -> Cpo:
    """We registered with the partner, with the token A it gave us."""
    registration.connect(cpo.partner, url=partner.versions_url, token_a=partner.token_a)
    assert cpo.refresh().status == PartnerStatus.ACTIVE, cpo.partner.last_error
    return cpo


def call_us(url: str, token: str) -> requests.Response:
    """A call to our OCPI endpoints with a partner's token, base64-encoded as 2.2.1 sends it."""
    return requests.get(url, headers={"Authorization": f"Token {tokens.encode(token)}"}, timeout=10)


def partner_endpoints(partner: Partner) -> set[tuple[str, str, str]]:
    base = f"{partner.url}/ocpi/emsp/2.2.1"
    return {
        ("credentials", "RECEIVER", f"{base}/credentials/"),
        ("locations", "RECEIVER", f"{base}/locations/"),
        ("sessions", "RECEIVER", f"{base}/sessions/"),
        ("cdrs", "RECEIVER", f"{base}/cdrs/"),
        ("tariffs", "RECEIVER", f"{base}/tariffs/"),
        ("tokens", "SENDER", f"{base}/tokens/"),
        ("commands", "SENDER", f"{base}/commands/"),
    }


# --- credentials ---------------------------------------------------------------------------


def test_we_register_with_the_independent_emsp_and_each_side_holds_the_others_token(
    registered, partner
):
    ours = registered.partner
    theirs = partner.client()
    # Each side calls the other with the token the other issued (ours kept only as a hash).
    assert ours.credentials_token == theirs["token_in"]
    assert tokens.token_hash(theirs["token_out"]) == ours.incoming_token_hash
    assert ours.version == "2.2.1"
    assert {(e["identifier"], e["role"], e["url"]) for e in ours.endpoints} == partner_endpoints(
        partner
    )
    assert [(r["role"], r["country_code"], r["party_id"]) for r in ours.roles] == [
        ("EMSP", *PARTNER_PARTY)
    ]
    # The partner read our versions and our CPO endpoints, and knows us as DE*CPO.
    assert theirs["url"] == registration.versions_url(registered.organization)
    assert [(r["role"], r["country_code"], r["party_id"]) for r in theirs["roles"]] == [
        ("CPO", "DE", "CPO")
    ]
    listed = {(e["identifier"], e["role"]) for e in theirs["endpoints"]}
    assert {
        ("locations", "SENDER"),
        ("sessions", "SENDER"),
        ("cdrs", "SENDER"),
        ("tariffs", "SENDER"),
        ("tokens", "RECEIVER"),
        ("commands", "RECEIVER"),
    } <= listed
    # The token it holds opens our credentials, which name it.
    answer = call_us(
        registration.version_url(registered.organization, "2.2.1") + "credentials/",
        theirs["token_out"],
    )
    assert (answer.status_code, answer.json()["data"]["token"]) == (200, theirs["token_out"])


def test_the_independent_emsp_registers_with_us_using_our_token_a(cpo, partner):
    token_a = registration.issue_token_a(cpo.partner)
    answer = partner.call(
        "POST",
        "/partner/register",
        {"url": registration.versions_url(cpo.organization), "token": token_a},
    )
    assert answer.status_code == 200, answer.text
    theirs = answer.json()
    ours = cpo.refresh()
    assert ours.status == PartnerStatus.ACTIVE, ours.last_error
    assert ours.credentials_token == theirs["token_in"]
    assert tokens.token_hash(theirs["token_out"]) == ours.incoming_token_hash
    assert theirs["token_out"] != token_a
    assert ours.versions_url == partner.versions_url
    assert {(e["identifier"], e["role"], e["url"]) for e in ours.endpoints} == partner_endpoints(
        partner
    )
    assert [(r["role"], r["country_code"], r["party_id"]) for r in theirs["roles"]] == [
        ("CPO", "DE", "CPO")
    ]
    # Our token A is spent: the partner calls us with the token C we answered.
    url = registration.versions_url(cpo.organization)
    assert call_us(url, token_a).status_code == 401
    assert call_us(url, theirs["token_out"]).status_code == 200


def test_a_partner_writing_its_party_in_lower_case_is_registered_and_its_tokens_accepted(
    cpo, partner_process
):
    # OCPI's party ids and uids are CiStrings (case-insensitive); the library writes them in
    # lower case unless told otherwise, as a partner running it with its defaults does.
    partner = reset(partner_process, lower_case=True)
    registration.connect(cpo.partner, url=partner.versions_url, token_a=partner.token_a)
    assert cpo.refresh().status == PartnerStatus.ACTIVE, cpo.partner.last_error
    # The mode is on: the partner keeps even our party id in lower case.
    assert partner.client()["roles"][0]["party_id"] == "cpo"
    receipt = push_driver_token(partner, cpo)
    assert (receipt["status_code"], receipt["response"]["status_code"]) == (200, 1000), receipt
    token = RoamingToken.objects.get(partner=cpo.partner)
    assert (token.uid, token.country_code, token.party_id) == (DRIVER_UID, *PARTNER_PARTY)


# --- locations and tariffs: pulled and checked with the library's models ----------------------


def test_our_locations_parse_with_the_independent_library_and_only_roaming_sites_are_listed(
    registered, partner
):
    answer = partner.call("POST", "/partner/pull/locations")
    assert answer.status_code == 200, answer.text
    pulled = answer.json()
    assert pulled["errors"] == []
    assert [(page["ocpi_status"], page["total"]) for page in pulled["pages"]] == [(1000, "1")]
    [location] = pulled["objects"]
    site, station = registered.site, registered.station
    assert (location["country_code"], location["party_id"], location["id"]) == (
        "DE",
        "CPO",
        str(site.pk),
    )
    assert (location["name"], location["city"], location["country"]) == (
        "Marktplatz",
        "Berlin",
        "DEU",
    )
    [evse] = location["evses"]
    assert evse["evse_id"] == f"DE*ABC*E{station.pk}*1"
    [connector] = evse["connectors"]
    assert (
        connector["standard"],
        connector["format"],
        connector["power_type"],
        connector["max_electric_power"],
        connector["tariff_ids"],
    ) == ("IEC_62196_T2", "SOCKET", "AC_3_PHASE", 22000, [str(registered.tariff.pk)])


def test_the_tariff_published_to_the_partner_parses_with_the_independent_library(
    registered, partner
):
    answer = partner.call("POST", "/partner/pull/tariffs")
    assert answer.status_code == 200, answer.text
    pulled = answer.json()
    assert pulled["errors"] == []
    [tariff] = pulled["objects"]
    assert (tariff["id"], tariff["currency"]) == (str(registered.tariff.pk), "EUR")
    [element] = tariff["elements"]
    assert [(c["type"], c["price"], c["step_size"]) for c in element["price_components"]] == [
        ("ENERGY", 0.40, 1),
        ("TIME", 1.20, 60),
        ("FLAT", 0.50, 1),
    ]


def test_our_roaming_cards_parse_with_the_independent_library_as_tokens(cpo, partner):
    # Our organization plays the eMSP role too: its cards flagged for roaming are listed.
    RoamingProfile.objects.filter(organization=cpo.organization).update(emsp_enabled=True)
    card = IdTokenFactory(organization=cpo.organization, uid="04C0FFEE000001", roaming=True)
    IdTokenFactory(organization=cpo.organization, uid="04C0FFEE000002", roaming=False)
    registration.connect(cpo.partner, url=partner.versions_url, token_a=partner.token_a)
    # The library plays the eMSP role only, and eMSPs never read another eMSP's tokens.
    refused = partner.call("POST", "/partner/pull/tokens")
    assert "Only charge point operators use our tokens." in refused.text
    # Declared a charge point operator on our side, it may: the library's models check them.
    RoamingPartner.objects.filter(pk=cpo.partner.pk).update(role=PartnerRole.CPO)
    answer = partner.call("POST", "/partner/pull/tokens")
    assert answer.status_code == 200, answer.text
    pulled = answer.json()
    assert pulled["errors"] == []
    [token] = pulled["objects"]
    assert (token["country_code"], token["party_id"], token["uid"]) == ("DE", "CPO", card.uid)
    assert (token["contract_id"], token["whitelist"], token["valid"]) == (
        f"DE-CPO-C{card.pk:08d}",
        "ALLOWED",
        True,
    )


# --- over OCPP: a real station at our roaming site -------------------------------------------


def ts(minutes: int) -> str:
    """An OCPP timestamp `minutes` after the session start."""
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def status(connector: int, value: str, minutes: int):
    return call.StatusNotification(
        connector_id=connector, error_code="NoError", status=value, timestamp=ts(minutes)
    )


def meter(transaction_id: int, minutes: int, wh: int):
    return call.MeterValues(
        connector_id=1,
        transaction_id=transaction_id,
        meter_value=[
            {
                "timestamp": ts(minutes),
                "sampledValue": [
                    {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                ],
            }
        ],
    )


def money(value) -> Decimal:
    """An OCPI number (a JSON float) as the Decimal it is written as (6.7 equals 6.70)."""
    return Decimal(str(value))


async def eventually(partner: Partner, found, what: str):
    """The partner's store once `found(store)` holds; pushes land after our commit."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        store = await asyncio.to_thread(partner.store)
        if found(store):
            return store
        assert time.monotonic() < deadline, f"{what} never reached the partner: {store}"
        await asyncio.sleep(0.2)


def driver_token(last_updated: str) -> dict:
    return {
        "country_code": PARTNER_PARTY[0],
        "party_id": PARTNER_PARTY[1],
        "uid": DRIVER_UID,
        "type": "RFID",
        "contract_id": "NL-EXW-C12345678-X",
        "visual_number": "EXW 1234 5678",
        "issuer": "Independent eMSP",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": last_updated,
    }


def push_driver_token(partner: Partner, cpo: Cpo) -> dict:
    """The partner keeps its driver's token and pushes it to us with the library's push."""
    kept = partner.call(
        "PUT", f"/partner/tokens/{DRIVER_UID}", driver_token("2026-01-01T00:00:00Z")
    )
    assert kept.status_code == 200, kept.text
    client = partner.client()
    pushed = partner.process.call(
        "POST",
        "/push/2.2.1",
        {
            "module_id": "tokens",
            "object_id": DRIVER_UID,
            "receivers": [
                {
                    "endpoints_url": registration.version_url(cpo.organization, "2.2.1"),
                    "auth_token": client["token_out"],
                }
            ],
        },
    )
    assert pushed.status_code == 200, pushed.text
    return pushed.json()["receiver_responses"][0]


async def test_a_status_our_station_reports_is_pushed_to_the_partner_as_its_location(
    registered, partner, ocpp_server
):
    location_key = f"DE/CPO/{registered.site.pk}"
    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        await cp.call(status(1, "Available", 0))
        store = await eventually(partner, lambda s: location_key in s["locations"], "The location")
        [evse] = store["locations"][location_key]["evses"]
        assert evse["status"] == "AVAILABLE"
        await cp.call(status(1, "Charging", 1))
        store = await eventually(
            partner,
            lambda s: s["locations"][location_key]["evses"][0]["status"] == "CHARGING",
            "The EVSE's CHARGING status",
        )
    assert store["rejected"] == []
    # The site that is not roaming never reaches the partner.
    assert list(store["locations"]) == [location_key]


# --- a driver of the partner charges at our station, end to end -------------------------------


async def test_a_driver_of_the_independent_emsp_charges_and_gets_a_cdr_priced_by_its_tariff(
    registered, partner, ocpp_server, db_call
):
    receipt = await asyncio.to_thread(push_driver_token, partner, registered)
    assert (receipt["status_code"], receipt["response"]["status_code"]) == (200, 1000), receipt
    token = await db_call(RoamingToken.objects.get, partner=registered.partner)
    assert (token.uid, token.whitelist, token.valid) == (DRIVER_UID, "ALWAYS", True)

    async with connected_station(ocpp_server, IDENTITY) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        await cp.call(status(1, "Available", 0))
        auth = await cp.call(call.Authorize(id_tag=DRIVER_UID))
        start = await cp.call(
            call.StartTransaction(
                connector_id=1, id_tag=DRIVER_UID, meter_start=10_000, timestamp=ts(0)
            )
        )
        tx = start.transaction_id
        await cp.call(status(1, "Charging", 0))
        await cp.call(meter(tx, 15, 13_000))
        await cp.call(meter(tx, 30, 16_200))
        # The beat's five-minutely tick: running sessions' kWh so far go to their partners.
        assert await db_call(tasks.push_active_sessions) == 1
        charging = await eventually(
            partner,
            lambda s: any(u["status"] == "ACTIVE" and u["kwh"] > 0 for u in s["session_updates"]),
            "A session update while charging",
        )
        await cp.call(meter(tx, 45, 19_400))
        stop = await cp.call(
            call.StopTransaction(
                transaction_id=tx, meter_stop=22_500, timestamp=ts(60), reason=Reason.local
            )
        )
        await cp.call(status(1, "Available", 61))
        store = await eventually(partner, lambda s: s["cdrs"], "The CDR")
    assert (auth.id_tag_info["status"], start.id_tag_info["status"], stop is not None) == (
        AuthorizationStatus.accepted,
        AuthorizationStatus.accepted,
        True,
    )
    first, *_ = charging["session_updates"]
    assert (first["status"], first["cdr_token"]["uid"], first["location_id"]) == (
        "ACTIVE",
        DRIVER_UID,
        str(registered.site.pk),
    )
    assert [u["kwh"] for u in charging["session_updates"] if u["status"] == "ACTIVE"][-1] == 6.2
    [session] = store["sessions"].values()
    assert (session["status"], session["kwh"], session["cdr_token"]["uid"]) == (
        "COMPLETED",
        12.5,
        DRIVER_UID,
    )
    [cdr] = store["cdrs"].values()
    assert (cdr["country_code"], cdr["party_id"], cdr["currency"]) == ("DE", "CPO", "EUR")
    assert (cdr["cdr_token"]["uid"], cdr["cdr_token"]["contract_id"]) == (
        DRIVER_UID,
        "NL-EXW-C12345678-X",
    )
    assert (cdr["cdr_location"]["id"], cdr["total_energy"], cdr["total_time"]) == (
        str(registered.site.pk),
        12.5,
        1.0,
    )
    # By hand, from the tariff published to the partner: 12.5 kWh × 0.40 = 5.00; one hour of
    # charging × 1.20 = 1.20; the session fee 0.50 → 6.70 excl. VAT; 19 % VAT = 1.273 → 7.97.
    # (The organization's own drivers would pay 12.5 × 0.99.)
    assert [t["id"] for t in cdr["tariffs"]] == [str(registered.tariff.pk)]
    assert cdr["auth_method"] == "WHITELIST"
    assert [
        money(cdr[part]["excl_vat"])
        for part in ("total_energy_cost", "total_time_cost", "total_fixed_cost")
    ] == [Decimal("5.00"), Decimal("1.20"), Decimal("0.50")]
    assert (money(cdr["total_cost"]["excl_vat"]), money(cdr["total_cost"]["incl_vat"])) == (
        Decimal("6.70"),
        Decimal("7.97"),
    )
    assert store["rejected"] == []
    # Pulled back through our lists, both parse with the library's models.
    for module, wanted in (("sessions", session["id"]), ("cdrs", cdr["id"])):
        answer = await asyncio.to_thread(partner.call, "POST", f"/partner/pull/{module}")
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == [], module
        assert [item["id"] for item in answer.json()["objects"]] == [wanted], module


# --- a command from the partner reaches our station; its result goes back -------------------


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
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        self.start_answer = await self.call(
            call.StartTransaction(
                connector_id=connector_id or 1, id_tag=id_tag, meter_start=0, timestamp=now
            )
        )
        self.started.set()


async def test_a_start_session_from_the_independent_emsp_starts_our_station_and_reports_back(
    registered, partner, ocpp_server, db_call
):
    await asyncio.to_thread(push_driver_token, partner, registered)
    evse_uid = str(await db_call(lambda: registered.station.connectors.get().evse_id))
    async with connected_station(ocpp_server, IDENTITY, cls=RemoteStartable) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ACME", charge_point_model="X"))
        await cp.call(status(1, "Available", 0))
        answer = await asyncio.to_thread(
            partner.call,
            "POST",
            "/partner/commands/START_SESSION",
            {
                "token_uid": DRIVER_UID,
                "location_id": str(registered.site.pk),
                "evse_uid": evse_uid,
                "connector_id": "1",
            },
        )
        assert answer.status_code == 200, answer.text
        sent = answer.json()
        assert (sent["http_status"], sent["ocpi_status"], sent["response"]["result"]) == (
            200,
            1000,
            "ACCEPTED",
        ), sent
        store = await eventually(
            partner,
            lambda s: s["commands"][sent["uid"]].get("result"),
            "The START_SESSION result",
        )
        await asyncio.wait_for(cp.started.wait(), DELIVERY_SECONDS)
    # The transaction the station started with the partner's token is accepted as its driver's.
    assert cp.start_answer.id_tag_info["status"] == AuthorizationStatus.accepted
    assert cp.remote_starts == [(DRIVER_UID, 1)], repr(store["commands"])
    assert store["commands"][sent["uid"]]["result"]["result"] == "ACCEPTED"
    assert store["rejected"] == []
