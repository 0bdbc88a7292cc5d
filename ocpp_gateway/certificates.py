"""Certificates: the pluggable provider that signs and checks them, and reading PEM certificates.

Stations ask the CSMS to sign their keys (SignCertificate), to fetch an EV's contract
certificate (Get15118EVCertificate), for the OCSP status of a certificate (GetCertificateStatus)
and, in Authorize, to check a contract certificate. Which certificate authority answers is a
setting, `OCPP_CERTIFICATE_PROVIDER` (a dotted path to a `CertificateProvider` subclass); until
the platform has its own authority the default has none and answers every request with the
rejection the schemas allow.
"""

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ocpp_gateway.intents import CertificateHash

DEFAULT_PROVIDER = "ocpp_gateway.certificates.NoCertificateAuthority"
# What the default provider says (StatusInfo.reasonCode is case-insensitive, 20 characters).
NOT_SUPPORTED = "NotSupported"
NO_AUTHORITY = "No certificate authority is configured for this CSMS."
# OCPP caps a PEM certificate at 5500 characters (InstallCertificate, SignCertificate's CSR).
MAX_PEM_LENGTH = 5500


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """A provider's answer: whether it did what was asked, what it produced, and why not."""

    accepted: bool
    # The signed chain (PEM), the EXI response (Base64) or the OCSP response (Base64, DER).
    result: str = ""
    # StatusInfo for the station: a code of at most 20 characters and a text of at most 512.
    reason_code: str = ""
    info: str = ""

    def status_info(self) -> dict | None:
        """The StatusInfoType object of this answer, or None when it gives no reason."""
        if not self.reason_code:
            return None
        info = {"reasonCode": self.reason_code[:20]}
        if self.info:
            info["additionalInfo"] = self.info[:512]
        return info


def refused(reason_code: str = NOT_SUPPORTED, info: str = NO_AUTHORITY) -> ProviderAnswer:
    """A refusal with its reason."""
    return ProviderAnswer(False, reason_code=reason_code, info=info)


class CertificateProvider:
    """A certificate authority as the CSMS uses it; every method here refuses.

    Subclasses override what their authority does. `review_signing_request` runs on the
    gateway's event loop while the station waits for its answer, so it decides at once and
    touches no database; `sign` runs afterwards in a thread of its own and may take its time.
    The others answer a station that waits (in the gateway's database thread): a few seconds
    at most.
    """

    def review_signing_request(self, station, csr: str, certificate_type: str) -> ProviderAnswer:
        """Whether a CSR will be signed: Accepted now, the chain follows by CertificateSigned."""
        return refused()

    def sign(self, station, csr: str, certificate_type: str) -> ProviderAnswer:
        """Sign an accepted CSR: the chain (PEM, the station's certificate first) as `result`."""
        return refused()

    def ev_certificate(
        self, station, *, schema_version: str, action: str, exi_request: str
    ) -> ProviderAnswer:
        """An ISO 15118 contract certificate for an EV (Install or Update): the EXI response."""
        return refused()

    def certificate_status(self, station, ocsp_request: dict) -> ProviderAnswer:
        """The OCSP response (Base64 DER) for one certificate, from its OCSPRequestDataType."""
        return refused()

    def contract_certificate_status(
        self, station, *, certificate: str | None, hash_data: list[dict]
    ) -> str:
        """The certificateStatus of an Authorize with a contract certificate or its hashes."""
        # AuthorizeCertificateStatusEnumType: without an authority there is nothing to check
        # the certificate against.
        return "NoCertificateAvailable"


class NoCertificateAuthority(CertificateProvider):
    """The default: no certificate authority; every request gets the schema's rejection."""


@cache
def get_provider() -> CertificateProvider:
    """The configured provider (OCPP_CERTIFICATE_PROVIDER), made once per process."""
    path = getattr(settings, "OCPP_CERTIFICATE_PROVIDER", "") or DEFAULT_PROVIDER
    provider = import_string(path)()
    if not isinstance(provider, CertificateProvider):
        raise TypeError(f"OCPP_CERTIFICATE_PROVIDER {path} is not a CertificateProvider")
    return provider


def provider_name() -> str:
    """The dotted path of the configured provider, as kept with the requests it answered."""
    provider = type(get_provider())
    return f"{provider.__module__}.{provider.__qualname__}"


@receiver(setting_changed)
def _forget_provider(setting, **kwargs):
    if setting == "OCPP_CERTIFICATE_PROVIDER":
        get_provider.cache_clear()


# --- PEM certificates ----------------------------------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_PEM_ANY = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_HASHES = {"SHA256": hashlib.sha256, "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}
# X.520 attribute types as a subject is usually written.
_NAME_ATTRIBUTES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
}


class InvalidCertificate(ValueError):
    """Not one well-formed X.509 certificate in PEM; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What the platform reads from a certificate: its canonical PEM and how it is named."""

    pem: str
    subject: str
    issuer: str
    serial_number: str  # hexadecimal, without leading zeros (as OCPP spells it)
    not_after: datetime
    self_signed: bool
    issuer_name_der: bytes
    public_key: bytes  # the subject public key's bits

    def hash_data(self, algorithm: str = "SHA256") -> CertificateHash | None:
        """How a station names it, when its issuer's key is known (a self-signed root)."""
        if not self.self_signed:
            return None
        digest = _HASHES[algorithm]
        return CertificateHash(
            algorithm,
            digest(self.issuer_name_der).hexdigest(),
            digest(self.public_key).hexdigest(),
            self.serial_number,
        )

    def issuer_name_hash(self, algorithm: str) -> str:
        """The hash of the issuer's name with `algorithm` (SHA256, SHA384 or SHA512)."""
        return _HASHES[algorithm](self.issuer_name_der).hexdigest()


def read_certificate(text: str) -> CertificateInfo:
    """Read exactly one PEM certificate; InvalidCertificate says what is wrong with it."""
    blocks = _PEM_BLOCK.findall(text or "")
    if not blocks:
        other = _PEM_ANY.search(text or "")
        if other and other.group(1) != "CERTIFICATE":
            raise InvalidCertificate(f"This is a {other.group(1).lower()}, not a certificate.")
        raise InvalidCertificate(
            "Give one certificate in PEM form, from -----BEGIN CERTIFICATE----- to "
            "-----END CERTIFICATE-----."
        )
    if len(blocks) > 1:
        raise InvalidCertificate("Give one certificate, not a chain.")
    # Whitespace is not part of Base64: a certificate pasted into a one-line input lost its line
    # breaks, and it is rewrapped here to the 64 characters of RFC 7468.
    body = re.sub(r"\s+", "", blocks[0])
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidCertificate("The certificate's Base64 is damaged.") from None
    info = _read_der(der)
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n"
    if len(pem) > MAX_PEM_LENGTH:
        raise InvalidCertificate(
            f"The certificate is {len(pem)} characters in PEM; OCPP takes {MAX_PEM_LENGTH}."
        )
    return CertificateInfo(pem=pem, **info)


# --- A small DER reader: just enough of X.509 to name a certificate -----------------------------


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the element at `at`."""
    if at + 2 > len(data):
        raise InvalidCertificate("The certificate is cut short.")
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise InvalidCertificate("The certificate is not valid DER.")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise InvalidCertificate("The certificate is cut short.")
    return tag, at, at + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, value start, value end) of each element between start and end."""
    items = []
    at = start
    while at < end:
        tag, value_start, value_end = _tlv(data, at)
        if value_end > end:
            raise InvalidCertificate("The certificate is not valid DER.")
        items.append((tag, at, value_start, value_end))
        at = value_end
    return items


def _oid(value: bytes) -> str:
    if not value:
        return ""
    first = value[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    number = 0
    for byte in value[1:]:
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(str(number))
            number = 0
    return ".".join(parts)


def _string(tag: int, value: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return value.decode("utf-16-be", errors="replace")
    if tag == 0x1C:  # UniversalString
        return value.decode("utf-32-be", errors="replace")
    return value.decode("utf-8", errors="replace")


def _name(data: bytes, start: int, end: int) -> str:
    """A Name as text: CN=..., O=..., in the order it is written."""
    parts = []
    for _tag, _at, set_start, set_end in _children(data, start, end):
        for _t, _a, pair_start, pair_end in _children(data, set_start, set_end):
            pair = _children(data, pair_start, pair_end)
            if len(pair) != 2:
                raise InvalidCertificate("The certificate's name is not valid.")
            oid = _oid(data[pair[0][2] : pair[0][3]])
            value = _string(pair[1][0], data[pair[1][2] : pair[1][3]])
            parts.append(f"{_NAME_ATTRIBUTES.get(oid, oid)}={value}")
    return ", ".join(parts)


def _time(tag: int, value: bytes) -> datetime:
    text = value.decode("ascii", errors="replace")
    try:
        if tag == 0x17:  # UTCTime: YYMMDDHHMMSSZ, years 1950-2049
            moment = datetime.strptime(text, "%y%m%d%H%M%SZ")
        elif tag == 0x18:  # GeneralizedTime
            moment = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise ValueError(text)
    except ValueError:
        raise InvalidCertificate("The certificate's validity is not readable.") from None
    return moment.replace(tzinfo=UTC)


def _read_der(der: bytes) -> dict:
    """The parts of an X.509 certificate the platform keeps."""
    tag, start, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise InvalidCertificate("This is not an X.509 certificate.")
    outer = _children(der, start, end)
    if len(outer) != 3 or outer[0][0] != 0x30 or outer[2][0] != 0x03:
        raise InvalidCertificate("This is not an X.509 certificate.")
    fields = _children(der, outer[0][2], outer[0][3])
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    if len(fields) < 6 or fields[0][0] != 0x02:
        raise InvalidCertificate("This is not an X.509 certificate.")
    serial, _algorithm, issuer, validity, subject, key_info = fields[:6]
    if any(part[0] != 0x30 for part in (issuer, validity, subject, key_info)):
        raise InvalidCertificate("This is not an X.509 certificate.")
    serial_value = int.from_bytes(der[serial[2] : serial[3]], "big", signed=True)
    times = _children(der, validity[2], validity[3])
    key_parts = _children(der, key_info[2], key_info[3])
    if len(times) != 2 or len(key_parts) != 2 or key_parts[1][0] != 0x03:
        raise InvalidCertificate("This is not an X.509 certificate.")
    issuer_der = der[issuer[1] : issuer[3]]
    subject_der = der[subject[1] : subject[3]]
    return {
        "subject": _name(der, subject[2], subject[3]),
        "issuer": _name(der, issuer[2], issuer[3]),
        "serial_number": format(abs(serial_value), "x"),
        "not_after": _time(times[1][0], der[times[1][2] : times[1][3]]),
        "self_signed": issuer_der == subject_der,
        "issuer_name_der": issuer_der,
        # The BIT STRING's value less its first octet (the count of unused bits): what OCSP
        # hashes as the issuer's key (RFC 6960, CertID).
        "public_key": der[key_parts[1][2] + 1 : key_parts[1][3]],
    }
