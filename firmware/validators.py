"""Checks of a signed firmware's signature and certificate, shared by forms, API and services."""

import base64
import binascii

from cryptography import x509
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# OCPP 2.0.1 (and 1.6's security extension) SignedUpdateFirmware: the longest values a station
# is obliged to take.
SIGNATURE_MAX_LENGTH = 800
CERTIFICATE_MAX_LENGTH = 5500


def normalize_signature(value: str) -> str:
    """The signature without the line breaks and spaces a copy from a file brings along."""
    return "".join((value or "").split())


def validate_signature(value: str) -> None:
    """A Base64 signature of at most 800 characters."""
    value = normalize_signature(value)
    if not value:
        return
    if len(value) > SIGNATURE_MAX_LENGTH:
        raise ValidationError(
            _("The signature is longer than the %(max)s characters OCPP allows."),
            code="max_length",
            params={"max": SIGNATURE_MAX_LENGTH},
        )
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if not decoded:
        raise ValidationError(_("The signature is not valid Base64."), code="invalid")


def validate_certificate(value: str) -> None:
    """A PEM X.509 certificate of at most 5500 characters."""
    value = (value or "").strip()
    if not value:
        return
    if len(value) > CERTIFICATE_MAX_LENGTH:
        raise ValidationError(
            _("The certificate is longer than the %(max)s characters OCPP allows."),
            code="max_length",
            params={"max": CERTIFICATE_MAX_LENGTH},
        )
    try:
        x509.load_pem_x509_certificate(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValidationError(
            _("The signing certificate is not a PEM X.509 certificate."), code="invalid"
        ) from None


def signature_pair_errors(signature: str, certificate: str) -> dict[str, ValidationError]:
    """Field errors when only one of signature and signing certificate is given."""
    if bool(normalize_signature(signature)) == bool((certificate or "").strip()):
        return {}
    if signature and signature.strip():
        return {
            "signing_certificate": ValidationError(
                _("A signed image needs its signing certificate too."), code="required"
            )
        }
    return {
        "signature": ValidationError(
            _("A signing certificate needs the image's signature too."), code="required"
        )
    }
