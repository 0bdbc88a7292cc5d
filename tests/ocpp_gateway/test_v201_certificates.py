"""OCPP 2.0.1 certificates (OCTT block M, signing requests) over a real socket, page and API."""

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.ocsp import OCSPRequestBuilder
from cryptography.x509.oid import NameOID
from django.db import connections
from django.utils import timezone
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway.certificates import (
    CertificateProvider,
    InvalidCertificate,
    ProviderAnswer,
    read_certificate,
    refused,
)
from ocpp_gateway.models import (
    CertificateRequest,
    CertificateRequestStatus,
    CertificateStatus,
    CommandLog,
    StationCertificate,
)
from ocpp_gateway.remote import Actor, InvalidCommandParameters, check_command, execute_command
from ocpp_gateway.v201 import security
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory
from tests.ocpp_gateway.conftest import Station201, connected_station201
from tests.portalclients import org_url, portal_client

IDENTITY = "CS-CERTS"
TEST_PROVIDER = "tests.ocpp_gateway.test_v201_certificates.AuthorityForTests"
FAILING_PROVIDER = "tests.ocpp_gateway.test_v201_certificates.BrokenAuthority"


# --- certificates made for the tests -----------------------------------------------------------


def make_certificate(common_name, *, issuer=None, days=365, serial=None, public_key=None):
    """(private key, certificate): self-signed, or signed by `issuer` (key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test CA Ltd"),
        ]
    )
    signer_key, issuer_name = (key, subject) if issuer is None else (issuer[0], issuer[1].subject)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key or key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .sign(signer_key, hashes.SHA256())
    )
    return key, certificate


def pem(certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def ocpp_hash(certificate, issuer=None, algorithm=None) -> dict:
    """The CertificateHashDataType of a certificate, as `cryptography`'s OCSP computes it."""
    algorithm = algorithm or hashes.SHA256()
    request = (
        OCSPRequestBuilder().add_certificate(certificate, issuer or certificate, algorithm).build()
    )
    return {
        "hash_algorithm": algorithm.name.upper().replace("-", ""),
        "issuer_name_hash": request.issuer_name_hash.hex(),
        "issuer_key_hash": request.issuer_key_hash.hex(),
        "serial_number": format(request.serial_number, "x"),
    }


CA = make_certificate("Test Root CA", days=3650)


class AuthorityForTests(CertificateProvider):
    """A provider with a CA of its own: it signs CSRs and answers 15118 and OCSP."""

    def review_signing_request(self, station, csr, certificate_type):
        try:
            x509.load_pem_x509_csr(csr.encode())
        except ValueError:
            return refused("InvalidCSR", "This is not a certificate signing request.")
        return ProviderAnswer(True)

    def sign(self, station, csr, certificate_type):
        request = x509.load_pem_x509_csr(csr.encode())
        _, signed = make_certificate(
            station.ocpp_id, issuer=CA, days=30, public_key=request.public_key()
        )
        return ProviderAnswer(True, result=pem(signed) + pem(CA[1]))

    def ev_certificate(self, station, *, schema_version, action, exi_request):
        return ProviderAnswer(True, result=base64.b64encode(f"EXI {action}".encode()).decode())

    def certificate_status(self, station, ocsp_request):
        return ProviderAnswer(True, result=base64.b64encode(b"OCSP good").decode())

    def contract_certificate_status(self, station, *, certificate, hash_data):
        return "Accepted" if hash_data or certificate else "NoCertificateAvailable"


class BrokenAuthority(CertificateProvider):
    """A provider whose authority is down: every question raises."""

    def review_signing_request(self, station, csr, certificate_type):
        raise ConnectionError("CA unreachable")

    def certificate_status(self, station, ocsp_request):
        raise ConnectionError("OCSP responder unreachable")


def make_csr(common_name=IDENTITY) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


# --- reading PEM -------------------------------------------------------------------------------


def test_a_certificate_is_named_as_stations_and_ocsp_name_it():
    _, root = make_certificate("Root A", serial=0x00ABCDEF)
    info = read_certificate(pem(root))
    expected = ocpp_hash(root)
    hash_data = info.hash_data()
    assert hash_data.algorithm == "SHA256"
    assert hash_data.issuer_name_hash == expected["issuer_name_hash"]
    assert hash_data.issuer_key_hash == expected["issuer_key_hash"]
    assert hash_data.serial_number == expected["serial_number"] == "abcdef"
    assert info.subject == "CN=Root A, O=Test CA Ltd"
    assert info.not_after == root.not_valid_after_utc
    sha512 = ocpp_hash(root, algorithm=hashes.SHA512())
    assert info.hash_data("SHA512").issuer_key_hash == sha512["issuer_key_hash"]


def test_a_certificate_signed_by_another_is_read_but_cannot_be_named_without_its_issuer():
    _, leaf = make_certificate("Leaf", issuer=CA)
    info = read_certificate(pem(leaf))
    assert not info.self_signed
    assert info.hash_data() is None
    assert info.issuer_name_hash("SHA256") == ocpp_hash(leaf, CA[1])["issuer_name_hash"]


def test_a_certificate_pasted_into_one_line_is_rewrapped():
    _, root = make_certificate("Root B")
    one_line = pem(root).replace("\n", " ")
    assert read_certificate(one_line).pem == pem(root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "Give one certificate in PEM form"),
        (make_csr(), "This is a certificate request, not a certificate."),
        (pem(CA[1]) + pem(CA[1]), "Give one certificate, not a chain."),
        ("-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----", "Base64 is damaged"),
        (
            "-----BEGIN CERTIFICATE-----\n"
            + base64.b64encode(b"\x30\x82\x01\x00\x02\x01").decode()
            + "\n-----END CERTIFICATE-----",
            "cut short",
        ),
        (
            "-----BEGIN CERTIFICATE-----\n"
            + base64.b64encode(b"\x02\x01\x05").decode()
            + "\n-----END CERTIFICATE-----",
            "not an X.509 certificate",
        ),
    ],
)
def test_what_is_not_one_certificate_is_refused_with_the_reason(text, message):
    with pytest.raises(InvalidCertificate, match=message):
        read_certificate(text)


# --- a station with certificates ---------------------------------------------------------------


class CertificateStation(Station201):
    """A 2.0.1 station that holds certificates and answers as told."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # type → list of CertificateHashDataChain entries (snake_case, as the library gives).
        self.held: list[dict] = []
        self.answers: dict[str, str] = {}
        self.received: list[tuple[str, dict]] = []
        self.signed = asyncio.Event()

    @on(Action.install_certificate)
    def on_install_certificate(self, **payload):
        self.received.append(("InstallCertificate", payload))
        return call_result.InstallCertificate(
            status=self.answers.get("InstallCertificate", "Accepted")
        )

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type=None, **kwargs):
        self.received.append(("GetInstalledCertificateIds", {"certificate_type": certificate_type}))
        chains = [
            chain
            for chain in self.held
            if certificate_type is None or chain["certificate_type"] in certificate_type
        ]
        if not chains:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data_chain=chains
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data, **kwargs):
        self.received.append(("DeleteCertificate", certificate_hash_data))
        return call_result.DeleteCertificate(
            status=self.answers.get("DeleteCertificate", "Accepted")
        )

    @on(Action.certificate_signed)
    def on_certificate_signed(self, **payload):
        self.received.append(("CertificateSigned", payload))
        self.signed.set()
        return call_result.CertificateSigned(
            status=self.answers.get("CertificateSigned", "Accepted")
        )


def boot():
    return call.BootNotification(
        charging_station={"model": "Secure 1", "vendor_name": "ACME"}, reason="PowerUp"
    )


@pytest.fixture
async def station201(db_call, org):
    """The 2.0.1 station the socket tests connect as."""
    return await db_call(ChargingStationFactory, organization=org, ocpp_id=IDENTITY)


async def run(name, params=None, role=Role.ADMIN):
    """execute_command as a view runs it: in a thread of its own, on the station as stored now."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=Actor(role=role))
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def certificates(db_call) -> list[StationCertificate]:
    return await db_call(
        lambda: list(StationCertificate.objects.filter(station__ocpp_id=IDENTITY).order_by("id"))
    )


async def until(db_call, check, seconds=10.0):
    """Wait for what the gateway does after its answer; the last value, or fail."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await db_call(check)
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


def chain_entry(certificate_type, certificate, issuer=None, children=(), upper=False) -> dict:
    hash_data = ocpp_hash(certificate, issuer)
    if upper:
        hash_data = {
            key: value.upper() if key != "hash_algorithm" else value
            for key, value in hash_data.items()
        }
    entry = {"certificate_type": certificate_type, "certificate_hash_data": hash_data}
    if children:
        entry["child_certificate_hash_data"] = list(children)
    return entry


# --- InstallCertificate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "certificate_type",
    [
        "CSMSRootCertificate",  # TC_M_01
        "ManufacturerRootCertificate",  # TC_M_02
        "V2GRootCertificate",  # TC_M_03
        "MORootCertificate",  # TC_M_04
    ],
)
async def test_tc_m_01_to_04_install_ca_certificate(
    ocpp_server, station201, db_call, certificate_type
):
    _, root = make_certificate(f"{certificate_type} CA")
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        log = await run(
            "install_certificate", {"certificate_type": certificate_type, "certificate": pem(root)}
        )
    assert cs.received == [
        ("InstallCertificate", {"certificate_type": certificate_type, "certificate": pem(root)})
    ]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    [kept] = await certificates(db_call)
    assert (kept.certificate_type, kept.status, kept.answer) == (
        certificate_type,
        CertificateStatus.INSTALLED,
        "Accepted",
    )
    assert kept.subject == f"CN={certificate_type} CA, O=Test CA Ltd"
    expected = ocpp_hash(root)
    assert (kept.hash_algorithm, kept.issuer_name_hash, kept.issuer_key_hash) == (
        "SHA256",
        expected["issuer_name_hash"],
        expected["issuer_key_hash"],
    )
    assert kept.serial_number == expected["serial_number"]


@pytest.mark.parametrize("answer", ["Failed", "Rejected"])
async def test_tc_m_05_install_ca_certificate_failed(ocpp_server, station201, db_call, answer):
    _, root = make_certificate("Refused CA")
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        cs.answers["InstallCertificate"] = answer
        log = await run(
            "install_certificate",
            {"certificate_type": "CSMSRootCertificate", "certificate": pem(root)},
        )
    assert (log.status, log.response) == ("rejected", {"status": answer})
    [kept] = await certificates(db_call)
    assert (kept.status, kept.answer) == (CertificateStatus.REJECTED, answer)
    assert not kept.on_station


# --- GetInstalledCertificateIds ----------------------------------------------------------------


ROOTS = {
    use: make_certificate(f"{use} root")[1]
    for use in (
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
        "V2GRootCertificate",
        "MORootCertificate",
    )
}
SUB_CA = make_certificate("V2G Sub CA", issuer=CA)[1]
STATION_LEAF = make_certificate("CS-CERTS V2G", issuer=CA)[1]


def everything_held() -> list[dict]:
    held = [chain_entry(use, root) for use, root in ROOTS.items()]
    held.append(
        chain_entry(
            "V2GCertificateChain",
            STATION_LEAF,
            CA[1],
            children=[ocpp_hash(SUB_CA, CA[1])],
        )
    )
    return held


@pytest.mark.parametrize(
    ("case", "asked"),
    [
        ("tc_m_12", ["CSMSRootCertificate"]),
        ("tc_m_13", ["ManufacturerRootCertificate"]),
        ("tc_m_14", ["V2GRootCertificate"]),
        ("tc_m_15", ["V2GCertificateChain"]),
        ("tc_m_16", ["MORootCertificate"]),
        ("tc_m_17", ["CSMSRootCertificate", "ManufacturerRootCertificate"]),
        ("tc_m_18", None),
    ],
)
async def test_tc_m_12_to_18_retrieve_certificates(ocpp_server, station201, db_call, case, asked):
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        cs.held = everything_held()
        params = {"certificate_types": asked} if asked else {}
        log = await run("get_installed_certificates", params, role=Role.OPERATOR)
    assert cs.received == [("GetInstalledCertificateIds", {"certificate_type": asked})], case
    assert log.payload == ({"certificateType": asked} if asked else {})
    kept = await certificates(db_call)
    expected_types = asked or [entry["certificate_type"] for entry in everything_held()]
    assert sorted(row.certificate_type for row in kept) == sorted(expected_types)
    assert {row.status for row in kept} == {CertificateStatus.REPORTED}
    for row in kept:
        if row.certificate_type == "V2GCertificateChain":
            assert row.serial_number == ocpp_hash(STATION_LEAF, CA[1])["serial_number"]
            assert row.child_certificates == [
                {
                    "hashAlgorithm": "SHA256",
                    **{
                        camel: ocpp_hash(SUB_CA, CA[1])[snake]
                        for camel, snake in (
                            ("issuerNameHash", "issuer_name_hash"),
                            ("issuerKeyHash", "issuer_key_hash"),
                            ("serialNumber", "serial_number"),
                        )
                    },
                }
            ]


async def test_tc_m_19_retrieve_certificates_none_found(ocpp_server, station201, db_call):
    known = await db_call(
        StationCertificate.objects.create,
        station=station201,
        certificate_type="MORootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(ROOTS["MORootCertificate"]),
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        log = await run("get_installed_certificates", {"certificate_types": ["MORootCertificate"]})
    assert (log.status, log.response) == ("rejected", {"status": "NotFound"})
    assert (await db_call(StationCertificate.objects.get, pk=known.pk)).status == "gone"


async def test_a_listed_certificate_is_the_one_installed_and_others_of_the_kind_are_gone(
    ocpp_server, station201, db_call
):
    root = ROOTS["CSMSRootCertificate"]
    _, old = make_certificate("Old CSMS root")
    stale = await db_call(
        StationCertificate.objects.create,
        station=station201,
        certificate_type="CSMSRootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(old),
    )
    other_kind = await db_call(
        StationCertificate.objects.create,
        station=station201,
        certificate_type="MORootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(ROOTS["MORootCertificate"]),
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        await run(
            "install_certificate",
            {"certificate_type": "CSMSRootCertificate", "certificate": pem(root)},
        )
        # Stations spell hex digits as they like.
        cs.held = [chain_entry("CSMSRootCertificate", root, upper=True)]
        await run("get_installed_certificates", {"certificate_types": ["CSMSRootCertificate"]})
    rows = {row.pk: row for row in await certificates(db_call)}
    installed = next(row for row in rows.values() if row.certificate)
    assert len(rows) == 3
    assert (installed.status, installed.certificate) == ("reported", pem(root))
    assert installed.serial_number == ocpp_hash(root)["serial_number"].upper()
    assert rows[stale.pk].status == CertificateStatus.GONE
    assert rows[other_kind.pk].status == CertificateStatus.REPORTED


async def test_a_certificate_installed_without_its_issuers_key_is_recognised_when_listed(
    ocpp_server, station201, db_call
):
    _, intermediate = make_certificate("MO Sub CA", issuer=CA)
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        await run(
            "install_certificate",
            {"certificate_type": "MORootCertificate", "certificate": pem(intermediate)},
        )
        [installed] = await certificates(db_call)
        assert (installed.issuer_key_hash, installed.status) == ("", "installed")
        cs.held = [chain_entry("MORootCertificate", intermediate, CA[1])]
        await run("get_installed_certificates")
    [row] = await certificates(db_call)
    assert row.pk == installed.pk
    assert row.issuer_key_hash == ocpp_hash(intermediate, CA[1])["issuer_key_hash"]
    assert row.status == CertificateStatus.REPORTED


# --- DeleteCertificate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("Accepted", CertificateStatus.DELETED),  # TC_M_20
        ("Failed", CertificateStatus.REPORTED),  # TC_M_21
        ("NotFound", CertificateStatus.GONE),
    ],
)
async def test_tc_m_20_21_delete_a_certificate(ocpp_server, station201, db_call, answer, status):
    root = ROOTS["V2GRootCertificate"]
    known = await db_call(
        StationCertificate.objects.create,
        station=station201,
        certificate_type="V2GRootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(root),
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        cs.answers["DeleteCertificate"] = answer
        log = await run("delete_certificate", {"certificate": known.pk})
    assert cs.received == [("DeleteCertificate", ocpp_hash(root))]
    assert log.response == {"status": answer}
    row = await db_call(StationCertificate.objects.get, pk=known.pk)
    assert (row.status, row.answer) == (status, answer)


# --- parameters and rules ----------------------------------------------------------------------


@pytest.fixture
def online(station):
    ChargingStation.objects.filter(pk=station.pk).update(
        connection_state=ConnectionState.ONLINE, ocpp_version="ocpp2.0.1"
    )
    station.refresh_from_db()
    return station


def refusal(station, name, params):
    with pytest.raises(InvalidCommandParameters) as refused_:
        execute_command(station, name, params, actor=Actor(role=Role.ADMIN))
    assert not CommandLog.objects.exists()
    return refused_.value.errors


def test_an_expired_certificate_is_refused_before_anything_is_sent(online):
    _, expired = make_certificate("Expired", days=-1)
    errors = refusal(
        online,
        "install_certificate",
        {"certificate_type": "CSMSRootCertificate", "certificate": pem(expired)},
    )
    assert "expired" in str(errors["certificate"][0])


def test_a_chain_cannot_be_installed_as_a_root(online):
    errors = refusal(
        online,
        "install_certificate",
        {"certificate_type": "V2GCertificateChain", "certificate": pem(CA[1])},
    )
    assert "certificate_type" in errors


def test_only_a_certificate_the_station_can_be_told_about_may_be_deleted(online, other_org):
    unnamed = StationCertificate.objects.create(
        station=online, certificate_type="MORootCertificate", status=CertificateStatus.INSTALLED
    )
    gone = StationCertificate.objects.create(
        station=online,
        certificate_type="MORootCertificate",
        status=CertificateStatus.GONE,
        **ocpp_hash(ROOTS["MORootCertificate"]),
    )
    theirs = StationCertificate.objects.create(
        station=ChargingStationFactory(organization=other_org),
        certificate_type="MORootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(ROOTS["MORootCertificate"]),
    )
    for certificate in (unnamed, gone, theirs):
        assert "certificate" in refusal(
            online, "delete_certificate", {"certificate": certificate.pk}
        )


def test_delete_is_greyed_out_until_a_certificate_is_known_by_its_hash_data(online):
    admin_ = Actor(role=Role.ADMIN)
    StationCertificate.objects.create(
        station=online, certificate_type="MORootCertificate", status=CertificateStatus.INSTALLED
    )
    check = check_command(online, "delete_certificate", admin_)
    assert check.reason == (
        "No certificate of the station is known by its hash data: list them first."
    )
    StationCertificate.objects.create(
        station=online,
        certificate_type="MORootCertificate",
        status=CertificateStatus.REPORTED,
        **ocpp_hash(ROOTS["MORootCertificate"]),
    )
    assert check_command(online, "delete_certificate", admin_).allowed


def test_certificate_commands_are_for_admins_but_listing_is_for_operators(online):
    operator = Actor(role=Role.OPERATOR)
    assert check_command(online, "install_certificate", operator).forbidden
    assert check_command(online, "delete_certificate", operator).forbidden
    assert check_command(online, "get_installed_certificates", operator).allowed


def test_certificate_commands_are_refused_for_a_16_station_with_the_reason(online):
    ChargingStation.objects.filter(pk=online.pk).update(ocpp_version="ocpp1.6")
    online.refresh_from_db()
    check = check_command(online, "get_installed_certificates", Actor(role=Role.ADMIN))
    assert check.reason == (
        "Certificate commands need OCPP 2.0.1 or later; the station speaks ocpp1.6."
    )


def test_a_certificate_pasted_into_the_panel_reaches_the_confirmation(org, online):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, f"stations/{online.pk}/commands/"),
        {
            "command": "install_certificate",
            "certificate_type": "CSMSRootCertificate",
            # A one-line input drops the line breaks.
            "certificate": pem(ROOTS["CSMSRootCertificate"]).replace("\n", ""),
        },
    )
    assert response.status_code == 200
    assert response.context["confirm"] is not None
    assert not CommandLog.objects.exists()


# --- SignCertificate and CertificateSigned -----------------------------------------------------


async def test_sign_certificate_is_rejected_without_a_certificate_authority(
    ocpp_server, station201, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(
            call.SignCertificate(csr=make_csr(), certificate_type="ChargingStationCertificate")
        )
    assert answer.status == "Rejected"
    assert answer.status_info == {
        "reason_code": "NotSupported",
        "additional_info": "No certificate authority is configured for this CSMS.",
    }
    request = await until(db_call, CertificateRequest.objects.first)
    assert (request.status, request.reason_code, request.certificate_type) == (
        CertificateRequestStatus.REJECTED,
        "NotSupported",
        "ChargingStationCertificate",
    )
    assert request.provider == "ocpp_gateway.certificates.NoCertificateAuthority"
    assert not any(action == "CertificateSigned" for action, _ in cs.received)


@pytest.mark.parametrize("use", ["ChargingStationCertificate", "V2GCertificate", None])
async def test_a_provider_that_signs_sends_the_chain_with_certificate_signed(
    ocpp_server, station201, db_call, settings, use
):
    settings.OCPP_CERTIFICATE_PROVIDER = TEST_PROVIDER
    csr = make_csr()
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(call.SignCertificate(csr=csr, certificate_type=use))
        await asyncio.wait_for(cs.signed.wait(), 10)
        request = await until(
            db_call,
            lambda: CertificateRequest.objects.filter(
                status=CertificateRequestStatus.DELIVERED
            ).first(),
        )
    assert answer.status == "Accepted"
    [(action, sent)] = cs.received
    assert action == "CertificateSigned"
    assert sent.get("certificate_type") == use
    chain = x509.load_pem_x509_certificates(sent["certificate_chain"].encode())
    assert chain[0].public_key() == x509.load_pem_x509_csr(csr.encode()).public_key()
    assert chain[0].issuer == CA[1].subject
    assert chain[1] == CA[1]
    assert request.certificate_chain == sent["certificate_chain"]
    delivery = await db_call(CommandLog.objects.get, pk=request.delivery_id)
    assert (delivery.command, delivery.requested_via, delivery.status) == (
        "certificate_signed",
        "system",
        "accepted",
    )


async def test_a_chain_the_station_refuses_leaves_the_request_failed(
    ocpp_server, station201, db_call, settings
):
    settings.OCPP_CERTIFICATE_PROVIDER = TEST_PROVIDER
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        cs.answers["CertificateSigned"] = "Rejected"
        await cs.call(call.SignCertificate(csr=make_csr()))
        await asyncio.wait_for(cs.signed.wait(), 10)
        request = await until(
            db_call,
            lambda: CertificateRequest.objects.filter(
                status=CertificateRequestStatus.FAILED
            ).first(),
        )
    assert request.detail == "Rejected"


async def test_a_provider_may_refuse_a_request_with_its_reason(
    ocpp_server, station201, db_call, settings
):
    settings.OCPP_CERTIFICATE_PROVIDER = TEST_PROVIDER
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(call.SignCertificate(csr="not a CSR"))
    assert (answer.status, answer.status_info["reason_code"]) == ("Rejected", "InvalidCSR")
    request = await until(db_call, CertificateRequest.objects.first)
    assert (request.status, request.reason_code) == ("rejected", "InvalidCSR")


async def test_a_failing_provider_is_a_rejection_never_a_crash(
    ocpp_server, station201, db_call, settings
):
    settings.OCPP_CERTIFICATE_PROVIDER = FAILING_PROVIDER
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        signing = await cs.call(call.SignCertificate(csr=make_csr()), suppress=False)
        status = await cs.call(
            call.GetCertificateStatus(ocsp_request_data=ocsp_request_data()), suppress=False
        )
    assert (signing.status, signing.status_info["reason_code"]) == ("Rejected", "InternalError")
    assert (status.status, status.status_info["reason_code"]) == ("Failed", "InternalError")


async def test_an_accepted_request_left_unsigned_is_taken_up_by_the_sweep(
    ocpp_server, station201, db_call, settings
):
    settings.OCPP_CERTIFICATE_PROVIDER = TEST_PROVIDER
    stalled = await db_call(
        CertificateRequest.objects.create,
        station=station201,
        csr=make_csr(),
        status=CertificateRequestStatus.SIGNING,
        provider=TEST_PROVIDER,
    )
    await db_call(
        CertificateRequest.objects.filter(pk=stalled.pk).update,
        updated=timezone.now() - security.STALLED_AFTER - timedelta(minutes=1),
    )

    def sweep():
        try:
            return security.resume_certificate_requests()
        finally:
            connections.close_all()

    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        taken = await sync_to_async(sweep, thread_sensitive=False)()
        again = await sync_to_async(sweep, thread_sensitive=False)()
    assert (taken, again) == (1, 0)
    assert [action for action, _ in cs.received] == ["CertificateSigned"]
    request = await db_call(CertificateRequest.objects.get, pk=stalled.pk)
    assert request.status == CertificateRequestStatus.DELIVERED


# --- GetCertificateStatus, Get15118EVCertificate, Authorize ------------------------------------


def ocsp_request_data() -> dict:
    return {**ocpp_hash(STATION_LEAF, CA[1]), "responder_url": "http://ocsp.example.com"}


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        (None, {"status": "Failed", "ocsp_result": None}),
        (TEST_PROVIDER, {"status": "Accepted", "ocsp_result": "T0NTUCBnb29k"}),
    ],
)
async def test_tc_m_24_get_charging_station_certificate_status(
    ocpp_server, station201, settings, provider, expected
):
    if provider:
        settings.OCPP_CERTIFICATE_PROVIDER = provider
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(
            call.GetCertificateStatus(ocsp_request_data=ocsp_request_data()), suppress=False
        )
    assert {"status": answer.status, "ocsp_result": answer.ocsp_result} == expected


@pytest.mark.parametrize(
    ("action", "provider", "status", "exi"),
    [
        ("Install", None, "Failed", ""),  # TC_M_26 without an authority
        ("Update", None, "Failed", ""),  # TC_M_28 without an authority
        ("Install", TEST_PROVIDER, "Accepted", base64.b64encode(b"EXI Install").decode()),
        ("Update", TEST_PROVIDER, "Accepted", base64.b64encode(b"EXI Update").decode()),
    ],
)
async def test_tc_m_26_28_certificate_installation_and_update_for_an_ev(
    ocpp_server, station201, settings, action, provider, status, exi
):
    if provider:
        settings.OCPP_CERTIFICATE_PROVIDER = provider
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(
            call.Get15118EVCertificate(
                iso15118_schema_version="urn:iso:15118:2:2013:MsgDef",
                action=action,
                exi_request=base64.b64encode(b"EXI request").decode(),
            ),
            suppress=False,
        )
    assert (answer.status, answer.exi_response) == (status, exi)


@pytest.mark.parametrize(
    ("provider", "expected"),
    [(None, "NoCertificateAvailable"), (TEST_PROVIDER, "Accepted")],
)
async def test_authorize_with_contract_certificate_hashes_asks_the_provider(
    ocpp_server, station201, settings, provider, expected
):
    if provider:
        settings.OCPP_CERTIFICATE_PROVIDER = provider
    async with connected_station201(ocpp_server, IDENTITY, cls=CertificateStation) as cs:
        await cs.call(boot())
        answer = await cs.call(
            call.Authorize(
                id_token={"id_token": "DE8ACC12E46L89", "type": "eMAID"},
                iso15118_certificate_hash_data=[ocsp_request_data()],
            ),
            suppress=False,
        )
    assert answer.certificate_status == expected


# --- the station page and the API --------------------------------------------------------------


def part_url(organization, station):
    return org_url(organization, f"stations/{station.pk}/parts/certificates/")


@pytest.mark.django_db
def test_the_certificates_part_lists_them_escaped(org, station):
    StationCertificate.objects.create(
        station=station,
        certificate_type="CSMSRootCertificate",
        status=CertificateStatus.INSTALLED,
        subject="CN=<script>alert(1)</script>, O=Ünïcødé",
        **ocpp_hash(ROOTS["CSMSRootCertificate"]),
    )
    CertificateRequest.objects.create(
        station=station,
        csr=make_csr(),
        status=CertificateRequestStatus.REJECTED,
        provider="x",
        reason_code="NotSupported",
        detail="<b>no</b>",
    )
    response = portal_client(org).get(part_url(org, station))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>" not in body and "<b>no</b>" not in body
    assert "CN=&lt;script&gt;alert(1)&lt;/script&gt;, O=Ünïcødé" in body
    assert "NotSupported: &lt;b&gt;no&lt;/b&gt;" in body
    assert portal_client(org).get(org_url(org, f"stations/{station.pk}/")).status_code == 200


@pytest.mark.django_db
def test_another_organizations_certificates_part_is_404(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    assert portal_client(org, Role.OWNER).get(part_url(org, theirs)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("tail", ["certificates", "certificate-requests"])
def test_api_lists_certificates_and_requests_of_a_station(
    org, other_org, station, tail, django_assert_max_num_queries
):
    for use, root in ROOTS.items():
        StationCertificate.objects.create(
            station=station,
            certificate_type=use,
            status=CertificateStatus.REPORTED,
            **ocpp_hash(root),
        )
        CertificateRequest.objects.create(
            station=station, csr=make_csr(), status=CertificateRequestStatus.REJECTED, provider="x"
        )
    theirs = ChargingStationFactory(organization=other_org)
    client = client_as(org)
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/stations/{station.pk}/{tail}/")
    assert (response.status_code, response.data["count"]) == (200, 4)
    assert client.get(f"/api/v1/stations/{theirs.pk}/{tail}/").status_code == 404
