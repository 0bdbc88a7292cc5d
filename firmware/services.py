"""Firmware catalogue writes and the signed URLs stations download images from."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from firmware.models import FirmwareImage, safe_file_name
from firmware.validators import normalize_signature

# Its own salt: a token signed for anything else on the platform never opens a firmware image.
DOWNLOAD_SALT = "firmware.download"
CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SignedDownload:
    """A signed download URL and the moment it stops working."""

    url: str
    expires_at: datetime


def version_taken(organization, vendor: str, model: str, version: str, exclude_pk=None) -> bool:
    """Whether the organization has this vendor/model/version already (case-insensitive names)."""
    images = FirmwareImage.objects.for_org(organization).annotate(
        vendor_lower=Lower("vendor"), model_lower=Lower("model")
    )
    if exclude_pk is not None:
        images = images.exclude(pk=exclude_pk)
    return images.filter(
        vendor_lower=vendor.strip().lower(), model_lower=model.strip().lower(), version=version
    ).exists()


def duplicate_error() -> ValidationError:
    return ValidationError(
        {"version": _("This organization already has this version for this vendor and model.")}
    )


def measure(file) -> tuple[int, str, str]:
    """Size, SHA-256 and MD5 of an uploaded file, read in chunks (never whole in memory)."""
    limit = settings.FIRMWARE_MAX_UPLOAD_BYTES
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    file.seek(0)
    for chunk in file.chunks(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise ValidationError(
                {"file": _("The file is larger than %(limit)s bytes.") % {"limit": limit}}
            )
        sha256.update(chunk)
        md5.update(chunk)
    file.seek(0)
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    return size, sha256.hexdigest(), md5.hexdigest()


def create_image(
    *,
    organization,
    vendor: str,
    model: str,
    version: str,
    file,
    release_notes: str = "",
    signature: str = "",
    signing_certificate: str = "",
    uploaded_by=None,
) -> FirmwareImage:
    """Store an uploaded firmware image with its checksums; ValidationError names the field."""
    size, sha256, md5 = measure(file)
    image = FirmwareImage(
        organization=organization,
        vendor=vendor.strip(),
        model=model.strip(),
        version=version.strip(),
        release_notes=release_notes,
        original_name=(getattr(file, "name", "") or "")[:255] or "firmware.bin",
        size=size,
        sha256=sha256,
        md5=md5,
        signature=normalize_signature(signature),
        signing_certificate=(signing_certificate or "").strip(),
        uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
    )
    # Every field but the file, and the unique version, before anything is written.
    image.full_clean(exclude=["file"], validate_unique=False, validate_constraints=False)
    if version_taken(organization, image.vendor, image.model, image.version):
        raise duplicate_error()
    # The file goes first: a row never names a file that is not there. If the row cannot be
    # written the file is removed again.
    image.file.save(safe_file_name(image.original_name), file, save=False)
    try:
        with transaction.atomic():
            image.save()
    except IntegrityError:
        image.file.storage.delete(image.file.name)
        # Another upload of the same version got in between the check and the insert.
        raise duplicate_error() from None
    except BaseException:
        image.file.storage.delete(image.file.name)
        raise
    return image


def update_release_notes(image: FirmwareImage, release_notes: str) -> FirmwareImage:
    """Change an image's release notes (its file and checksums never change)."""
    image.release_notes = release_notes
    image.save(update_fields=["release_notes"])
    return image


def delete_image(image: FirmwareImage) -> None:
    """Delete an image; its file goes once the deletion commits (ProtectedError if in use)."""
    storage, name = image.file.storage, image.file.name
    with transaction.atomic():
        image.delete()
        if name:
            transaction.on_commit(lambda: storage.delete(name))


def _signer() -> signing.TimestampSigner:
    # "~" instead of ":" between the parts: unreserved in URLs, so no station's HTTP client
    # escapes it or mistakes it for a port separator.
    return signing.TimestampSigner(salt=DOWNLOAD_SALT, sep="~")


def signed_download(image: FirmwareImage, *, hours: int | None = None) -> SignedDownload:
    """A fresh signed download URL of the image, valid for `hours` (FIRMWARE_URL_HOURS)."""
    hours = settings.FIRMWARE_URL_HOURS if hours is None else int(hours)
    if hours < 1:
        raise ValueError("a download URL must stay valid for at least one hour")
    # The image and the lifetime are signed together, with the signing time: nothing in the
    # URL can be changed or extended, and nothing in it can be guessed.
    token = _signer().sign(f"{image.pk}.{hours}")
    path = reverse("firmware-download", kwargs={"token": token, "filename": image.file_name})
    return SignedDownload(
        url=f"{settings.FIRMWARE_BASE_URL}{path}",
        expires_at=timezone.now() + timedelta(hours=hours),
    )


def download_url(image: FirmwareImage, *, hours: int | None = None) -> str:
    """An absolute URL that serves the image without login until it expires."""
    return signed_download(image, hours=hours).url


def image_for_download(token: str) -> FirmwareImage:
    """The image a download token names: BadSignature if forged or gone, SignatureExpired if old."""
    signer = _signer()
    value = signer.unsign(token)
    image_id, _sep, hours = value.partition(".")
    if not (image_id.isdigit() and hours.isdigit()):
        raise signing.BadSignature("malformed firmware download token")
    # A second check of the same token, now against the lifetime it was signed with.
    signer.unsign(token, max_age=timedelta(hours=int(hours)))
    image = FirmwareImage.objects.filter(pk=int(image_id)).first()
    if image is None:
        raise signing.BadSignature("the firmware image is gone")
    return image
