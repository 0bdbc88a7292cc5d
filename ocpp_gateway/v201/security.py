"""OCPP 2.0.1 certificate messages: signing requests, EV certificates and OCSP, answered by the
certificate provider (ocpp_gateway.certificates); InstallCertificate, DeleteCertificate,
GetInstalledCertificateIds and CertificateSigned to stations.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from asgiref.sync import async_to_sync, sync_to_async
from channels.db import database_sync_to_async
from django.db import connections
from django.utils import timezone

from ocpp_gateway import intents
from ocpp_gateway.certificates import (
    CertificateProvider,
    ProviderAnswer,
    get_provider,
    provider_name,
    refused,
)
from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.commands import asend_call
from ocpp_gateway.dbworker import db_worker
from ocpp_gateway.handlers import without_database
from ocpp_gateway.intents import Call, CertificateHash
from ocpp_gateway.models import CertificateRequest, CertificateRequestStatus
from ocpp_gateway.station_certificates import (
    ReportedCertificate,
    open_signing_request,
    record_delivery,
    record_signing_failure,
)
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# The command name CertificateSigned is logged under: the platform sends it, nobody asks.
CERTIFICATE_SIGNED = "certificate_signed"
# CertificateSignedRequest.certificateChain, Get15118EVCertificateResponse.exiResponse and
# GetCertificateStatusResponse.ocspResult: their schemas' maxLength.
MAX_CHAIN, MAX_EXI, MAX_OCSP = 10000, 7500, 5500
# An accepted request still unsigned after this was left by a process that stopped.
STALLED_AFTER = timedelta(minutes=10)
PROVIDER_FAILED = refused("InternalError", "The certificate provider failed.")
# Follow-ups running on the event loop: a task nobody references may be collected mid-way.
_follow_ups: set[asyncio.Task] = set()


def _ask(station: ChargingStation, question: Callable[[CertificateProvider], ProviderAnswer]):
    """The provider's answer; a provider that fails is a refusal, never a crash."""
    try:
        return question(get_provider())
    except Exception:
        logger.exception("%s: the certificate provider failed", station.ocpp_id)
        return PROVIDER_FAILED


def _with_status_info(response: dict, answer: ProviderAnswer) -> dict:
    info = answer.status_info()
    if info is not None:
        response["statusInfo"] = info
    return response


@without_database
def on_sign_certificate(station: ChargingStation, payload: dict) -> dict:
    """SignCertificate: the provider accepts the CSR or not; a signed chain follows later."""
    csr, use = payload["csr"], payload.get("certificateType", "")
    verdict = _ask(station, lambda provider: provider.review_signing_request(station, csr, use))
    # Answered at once from the event loop: the request is kept and, if accepted, signed and
    # sent after this answer (the connection sends our call only once this call is answered).
    task = asyncio.get_running_loop().create_task(
        _keep_and_sign(station, csr, use, verdict, provider_name())
    )
    _follow_ups.add(task)
    task.add_done_callback(_follow_ups.discard)
    return _with_status_info({"status": "Accepted" if verdict.accepted else "Rejected"}, verdict)


async def _keep_and_sign(station, csr: str, use: str, verdict: ProviderAnswer, provider: str):
    try:
        request = await db_worker.run(open_signing_request, station, csr, use, verdict, provider)
        if verdict.accepted:
            await deliver_signed_certificate(request.pk)
    except Exception:
        # The sweep (resume_certificate_requests) signs what was accepted and kept.
        logger.exception("%s: signing request not completed", station.ocpp_id)


def _sign(request: CertificateRequest) -> ProviderAnswer:
    """Have the provider sign, in a thread of its own (a remote authority may take its time)."""
    try:
        return _ask(
            request.station,
            lambda provider: provider.sign(request.station, request.csr, request.certificate_type),
        )
    finally:
        connections.close_all()


async def deliver_signed_certificate(request_id: int) -> None:
    """Sign an accepted request and send the chain to the station (CertificateSigned)."""
    request = await database_sync_to_async(
        CertificateRequest.objects.select_related("station").get
    )(pk=request_id)
    answer = await sync_to_async(_sign, thread_sensitive=False)(request)
    if answer.accepted and not answer.result:
        answer = refused("InternalError", "The certificate provider signed nothing.")
    elif len(answer.result) > MAX_CHAIN:
        answer = refused("InternalError", f"The signed chain exceeds {MAX_CHAIN} characters.")
    if not answer.accepted:
        await database_sync_to_async(record_signing_failure)(request_id, answer)
        return
    intent = intents.CertificateSigned(answer.result, request.certificate_type)
    log = await asend_call(
        request.station,
        *_certificate_signed(intent, request.station),
        command=CERTIFICATE_SIGNED,
        via=RequestedVia.SYSTEM,
    )
    await database_sync_to_async(record_delivery)(request_id, answer.result, log)


def resume_certificate_requests(now=None) -> int:
    """Sign and send the accepted requests a stopped process left; how many it took up."""
    now = now or timezone.now()
    stalled = CertificateRequest.objects.filter(
        status=CertificateRequestStatus.SIGNING, updated__lt=now - STALLED_AFTER
    ).values_list("pk", flat=True)
    taken = 0
    for request_id in list(stalled):
        # Taken by whoever moves its time first: two sweeps never send it twice.
        claimed = CertificateRequest.objects.filter(
            pk=request_id, status=CertificateRequestStatus.SIGNING, updated__lt=now - STALLED_AFTER
        ).update(updated=timezone.now())
        if claimed:
            async_to_sync(deliver_signed_certificate)(request_id)
            taken += 1
    return taken


def on_get_15118_ev_certificate(station: ChargingStation, payload: dict) -> dict:
    """Get15118EVCertificate: the provider's EXI response for an EV's contract certificate."""
    answer = _ask(
        station,
        lambda provider: provider.ev_certificate(
            station,
            schema_version=payload["iso15118SchemaVersion"],
            action=payload["action"],
            exi_request=payload["exiRequest"],
        ),
    )
    if answer.accepted and len(answer.result) > MAX_EXI:
        answer = refused("InternalError", f"The EXI response exceeds {MAX_EXI} characters.")
    response = {
        "status": "Accepted" if answer.accepted else "Failed",
        "exiResponse": answer.result if answer.accepted else "",
    }
    return _with_status_info(response, answer)


def on_get_certificate_status(station: ChargingStation, payload: dict) -> dict:
    """GetCertificateStatus: the provider's OCSP response for one certificate."""
    request = payload["ocspRequestData"]
    answer = _ask(station, lambda provider: provider.certificate_status(station, request))
    if answer.accepted and not 0 < len(answer.result) <= MAX_OCSP:
        answer = refused("InternalError", "The OCSP response is missing or too long.")
    response = {"status": "Accepted" if answer.accepted else "Failed"}
    if answer.accepted:
        response["ocspResult"] = answer.result
    return _with_status_info(response, answer)


def contract_certificate_status(station, payload: dict) -> str:
    """The certificateStatus of an Authorize with contract certificate data."""
    try:
        return get_provider().contract_certificate_status(
            station,
            certificate=payload.get("certificate"),
            hash_data=payload.get("iso15118CertificateHashData") or [],
        )
    except Exception:
        logger.exception("%s: the certificate provider failed", station.ocpp_id)
        return "NoCertificateAvailable"


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "SignCertificate": on_sign_certificate,
    "Get15118EVCertificate": on_get_15118_ev_certificate,
    "GetCertificateStatus": on_get_certificate_status,
}


# --- the station's answers -----------------------------------------------------------------------


def _hash(data: dict) -> CertificateHash:
    return CertificateHash(
        data["hashAlgorithm"], data["issuerNameHash"], data["issuerKeyHash"], data["serialNumber"]
    )


def installed_certificates(response: dict) -> list[ReportedCertificate]:
    """The certificates listed in a GetInstalledCertificateIdsResponse."""
    return [
        ReportedCertificate(
            certificate_type=chain["certificateType"],
            hash=_hash(chain["certificateHashData"]),
            children=chain.get("childCertificateHashData", []),
        )
        for chain in response.get("certificateHashDataChain", ())
    ]


# --- CSMS → station ------------------------------------------------------------------------------


def _hash_data(certificate: CertificateHash) -> dict:
    return {
        "hashAlgorithm": certificate.algorithm,
        "issuerNameHash": certificate.issuer_name_hash,
        "issuerKeyHash": certificate.issuer_key_hash,
        "serialNumber": certificate.serial_number,
    }


def _install_certificate(intent: intents.InstallCertificate, station=None) -> Call:
    return Call(
        "InstallCertificate",
        {"certificateType": intent.certificate_type, "certificate": intent.certificate},
    )


def _delete_certificate(intent: intents.DeleteCertificate, station=None) -> Call:
    return Call("DeleteCertificate", {"certificateHashData": _hash_data(intent.certificate)})


def _get_installed_certificate_ids(
    intent: intents.GetInstalledCertificateIds, station=None
) -> Call:
    payload = {}
    if intent.certificate_types:
        payload["certificateType"] = list(intent.certificate_types)
    return Call("GetInstalledCertificateIds", payload)


def _certificate_signed(intent: intents.CertificateSigned, station=None) -> Call:
    payload = {"certificateChain": intent.certificate_chain}
    if intent.certificate_type:
        payload["certificateType"] = intent.certificate_type
    return Call("CertificateSigned", payload)


# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.InstallCertificate: _install_certificate,
    intents.DeleteCertificate: _delete_certificate,
    intents.GetInstalledCertificateIds: _get_installed_certificate_ids,
    intents.CertificateSigned: _certificate_signed,
}
