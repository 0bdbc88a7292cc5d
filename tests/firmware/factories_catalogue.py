"""Firmware images and signing material for the firmware tests."""

import base64
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile

from firmware.services import create_image

PAYLOAD = b"\x7fELF firmware image " + bytes(range(256)) * 20


def upload(content: bytes = PAYLOAD, name: str = "terra-ac-1.2.0.bin") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@cache
def signing_pair(payload: bytes = PAYLOAD) -> tuple[str, str]:
    """A Base64 ECDSA signature of `payload` and the PEM certificate of its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Firmware Signing Test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    signature = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    return signature, certificate.public_bytes(serialization.Encoding.PEM).decode()


def make_image(organization, *, content: bytes = PAYLOAD, name="terra-ac.bin", **fields):
    """A stored firmware image of `organization` (ABB Terra AC 1.2.0 unless told otherwise)."""
    fields = {"vendor": "ABB", "model": "Terra AC", "version": "1.2.0", **fields}
    return create_image(organization=organization, file=upload(content, name), **fields)
