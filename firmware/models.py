"""Firmware images per vendor and model, stored through the "firmware" storage alias."""

import os
import uuid

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _

from firmware.storage import firmware_storage
from firmware.validators import (
    signature_pair_errors,
    validate_certificate,
    validate_signature,
)
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet


class FirmwareImageQuerySet(TenantQuerySet):
    """Firmware images narrowed by organization, and to the ones a station can take."""

    def matching(self, station):
        """Images for the station's vendor and model (case-insensitive, as stations report)."""
        if not station.vendor or not station.model:
            return self.none()
        return self.filter(vendor__iexact=station.vendor, model__iexact=station.model)


def safe_file_name(name: str) -> str:
    """`name` reduced to characters any file system and URL take."""
    try:
        return get_valid_filename(os.path.basename(name or ""))[:100]
    except SuspiciousFileOperation:
        return "firmware.bin"


def image_path(instance, filename: str) -> str:
    """Storage name of an upload: the organization, then a random folder, then its name."""
    # The random folder keeps two uploads of one name apart without the storage renaming them.
    return f"{instance.organization_id}/{uuid.uuid4().hex}/{safe_file_name(filename)}"


class FirmwareImage(models.Model):
    """A firmware image one vendor's model of station can be updated with."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="firmware_images"
    )
    vendor = models.CharField(_("vendor"), max_length=50)
    model = models.CharField(_("model"), max_length=50)
    version = models.CharField(_("version"), max_length=50)
    release_notes = models.TextField(_("release notes"), blank=True)
    file = models.FileField(
        _("file"), storage=firmware_storage, upload_to=image_path, max_length=255
    )
    original_name = models.CharField(_("original file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # OCPP 2.0.1 PublishFirmware carries the image's MD5 checksum.
    md5 = models.CharField(_("MD5"), max_length=32)
    signature = models.TextField(
        _("signature"),
        blank=True,
        validators=[validate_signature],
        help_text=_("Base64 signature of a signed image (OCPP SignedUpdateFirmware)."),
    )
    signing_certificate = models.TextField(
        _("signing certificate"),
        blank=True,
        validators=[validate_certificate],
        help_text=_("PEM certificate the signature was made with."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = FirmwareImageQuerySet.as_manager()

    class Meta:
        verbose_name = _("firmware image")
        verbose_name_plural = _("firmware images")
        ordering = ["vendor", "model", "-created"]
        constraints = [
            # Vendor and model match stations case-insensitively, so they are unique so too.
            models.UniqueConstraint(
                "organization",
                Lower("vendor"),
                Lower("model"),
                "version",
                name="firmware_image_unique_version",
                violation_error_message=_(
                    "This organization already has this version for this vendor and model."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.vendor} {self.model} {self.version}"

    @property
    def has_signature(self) -> bool:
        """Whether the image is signed (signature and certificate are given together)."""
        return bool(self.signature and self.signing_certificate)

    @property
    def file_name(self) -> str:
        """The file's name as stations see it at the end of the download URL."""
        return os.path.basename(self.file.name) if self.file else safe_file_name(self.original_name)

    def clean(self):
        super().clean()
        errors = signature_pair_errors(self.signature, self.signing_certificate)
        if errors:
            raise ValidationError(errors)
