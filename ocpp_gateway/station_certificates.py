"""What the platform knows of the certificates on stations and of their signing requests.

Version-neutral: the remote commands and a version's handlers hand over certificates as
`CertificateInfo` (read from PEM) or `ReportedCertificate` (as a station names it) and the
station's answers as its words.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ocpp_gateway.certificates import (
    CertificateInfo,
    InvalidCertificate,
    ProviderAnswer,
    read_certificate,
)
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.intents import CertificateHash
from ocpp_gateway.models import (
    CertificateRequest,
    CertificateRequestStatus,
    CertificateStatus,
    CommandLog,
    StationCertificate,
)
from stations.models import ChargingStation

ACCEPTED = "Accepted"
# DeleteCertificate's answer when the station holds no such certificate.
NOT_FOUND = "NotFound"


@dataclass(frozen=True, slots=True)
class ReportedCertificate:
    """A certificate as a station listed it: its kind, its hash data and its chain's."""

    certificate_type: str
    hash: CertificateHash
    children: list[dict] = field(default_factory=list)


def _same_hash(hash_data: CertificateHash) -> Q:
    # Hex digits are compared without case: stations spell them either way.
    return Q(
        hash_algorithm=hash_data.algorithm,
        issuer_name_hash__iexact=hash_data.issuer_name_hash,
        issuer_key_hash__iexact=hash_data.issuer_key_hash,
        serial_number__iexact=hash_data.serial_number,
    )


def _set_hash(certificate: StationCertificate, hash_data: CertificateHash) -> None:
    certificate.hash_algorithm = hash_data.algorithm
    certificate.issuer_name_hash = hash_data.issuer_name_hash
    certificate.issuer_key_hash = hash_data.issuer_key_hash
    certificate.serial_number = hash_data.serial_number


@transaction.atomic
def record_install_answer(
    station: ChargingStation, certificate_type: str, info: CertificateInfo, answer: str
) -> StationCertificate:
    """Keep what the station answered to InstallCertificate of this certificate."""
    hash_data = info.hash_data()
    rows = StationCertificate.objects.select_for_update().filter(station=station)
    existing = (
        rows.filter(_same_hash(hash_data)).first()
        if hash_data is not None
        else rows.filter(certificate=info.pem).first()
    )
    if answer != ACCEPTED and existing is not None and existing.on_station:
        # Refused: the station still holds the one it had.
        existing.answer = answer
        existing.save(update_fields=["answer", "updated"])
        return existing
    certificate = existing or StationCertificate(station=station)
    certificate.certificate_type = certificate_type
    certificate.certificate = info.pem
    certificate.subject = info.subject[:255]
    certificate.not_after = info.not_after
    if hash_data is not None:
        _set_hash(certificate, hash_data)
    certificate.status = (
        CertificateStatus.INSTALLED if answer == ACCEPTED else CertificateStatus.REJECTED
    )
    certificate.answer = answer
    certificate.save()
    return certificate


def record_delete_answer(certificate: StationCertificate, answer: str) -> None:
    """Keep what the station answered to DeleteCertificate of this certificate."""
    status = {ACCEPTED: CertificateStatus.DELETED, NOT_FOUND: CertificateStatus.GONE}.get(answer)
    # Failed: the station still holds it.
    updates = {"answer": answer, "updated": timezone.now()}
    if status is not None:
        updates["status"] = status
    StationCertificate.objects.filter(pk=certificate.pk).update(**updates)


def _installed_without_hash(rows, reported: ReportedCertificate) -> StationCertificate | None:
    """The certificate we installed whose issuer's key we did not know, if this is it."""
    for candidate in rows.filter(issuer_key_hash="").exclude(certificate=""):
        try:
            info = read_certificate(candidate.certificate)
        except InvalidCertificate:
            continue
        if (
            info.serial_number.lower() == reported.hash.serial_number.lower()
            and info.issuer_name_hash(reported.hash.algorithm)
            == reported.hash.issuer_name_hash.lower()
        ):
            return candidate
    return None


@transaction.atomic
def record_installed_ids(
    station: ChargingStation,
    requested_types: tuple[str, ...],
    reported: list[ReportedCertificate],
    *,
    asked_at: datetime,
) -> None:
    """Keep the certificates a station listed (GetInstalledCertificateIds) for the types asked."""
    now = timezone.now()
    rows = StationCertificate.objects.select_for_update().filter(station=station)
    listed = []
    for item in reported:
        certificate = (
            rows.filter(_same_hash(item.hash)).first()
            or _installed_without_hash(rows, item)
            or StationCertificate(station=station)
        )
        # Named from now on as the station spells it (DeleteCertificate quotes it back).
        _set_hash(certificate, item.hash)
        certificate.certificate_type = item.certificate_type
        certificate.child_certificates = item.children
        certificate.status = CertificateStatus.REPORTED
        certificate.reported_at = now
        certificate.save()
        listed.append(certificate.pk)
    # The station listed every certificate of the types asked: one it left out is gone. One
    # installed since the question was asked may be missing from the answer.
    missing = StationCertificate.objects.on_station().filter(station=station, updated__lt=asked_at)
    if requested_types:
        missing = missing.filter(certificate_type__in=requested_types)
    missing.exclude(pk__in=listed).update(status=CertificateStatus.GONE, updated=now)


# --- signing requests ----------------------------------------------------------------------------


def open_signing_request(
    station: ChargingStation,
    csr: str,
    certificate_type: str,
    verdict: ProviderAnswer,
    provider: str,
) -> CertificateRequest:
    """Keep a station's signing request with the answer it was given."""
    return CertificateRequest.objects.create(
        station=station,
        csr=csr,
        certificate_type=certificate_type,
        status=(
            CertificateRequestStatus.SIGNING
            if verdict.accepted
            else CertificateRequestStatus.REJECTED
        ),
        provider=provider[:200],
        reason_code=verdict.reason_code[:20],
        detail=verdict.info[:512],
    )


def record_signing_failure(request_id: int, answer: ProviderAnswer) -> None:
    """The provider did not sign an accepted request: nothing goes to the station."""
    CertificateRequest.objects.filter(pk=request_id).update(
        status=CertificateRequestStatus.FAILED,
        reason_code=answer.reason_code[:20],
        detail=(answer.info or "The certificate provider did not sign it.")[:512],
        updated=timezone.now(),
    )


def record_delivery(request_id: int, chain: str, log: CommandLog) -> None:
    """Keep the chain sent with CertificateSigned and what the station made of it."""
    delivered = log.status == CommandStatus.ACCEPTED
    detail = ""
    if not delivered:
        answer = log.response if isinstance(log.response, dict) else {}
        info = answer.get("statusInfo") or {}
        detail = " ".join(
            part
            for part in (
                answer.get("status", log.get_status_display()),
                info.get("reasonCode", ""),
                info.get("additionalInfo", ""),
                log.error_description,
            )
            if part
        )
    CertificateRequest.objects.filter(pk=request_id).update(
        status=CertificateRequestStatus.DELIVERED if delivered else CertificateRequestStatus.FAILED,
        certificate_chain=chain,
        delivery=log,
        detail=detail[:512],
        updated=timezone.now(),
    )
