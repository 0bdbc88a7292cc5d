"""Serializers of the firmware API."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from firmware.models import FirmwareImage
from firmware.services import version_taken
from firmware.validators import signature_pair_errors

COMPUTED = ["original_name", "size", "sha256", "md5", "has_signature", "uploaded_by", "created"]


class FirmwareImageSerializer(serializers.ModelSerializer):
    """A firmware image; created by a multipart upload, its file and checksums never change."""

    file = serializers.FileField(
        write_only=True, help_text=_("The image itself (multipart/form-data).")
    )
    has_signature = serializers.BooleanField(read_only=True)

    class Meta:
        model = FirmwareImage
        fields = [
            "id",
            "organization",
            "vendor",
            "model",
            "version",
            "release_notes",
            "file",
            "signature",
            "signing_certificate",
            *COMPUTED,
        ]
        read_only_fields = ["organization", *COMPUTED]

    def validate_file(self, upload):
        if upload.size > settings.FIRMWARE_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(
                _("The file is larger than %(limit)s bytes.")
                % {"limit": settings.FIRMWARE_MAX_UPLOAD_BYTES}
            )
        return upload

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors = signature_pair_errors(
            attrs.get("signature", ""), attrs.get("signing_certificate", "")
        )
        if errors:
            raise serializers.ValidationError(
                {name: error.messages for name, error in errors.items()}
            )
        organization_id = self.context.get("organization_id")
        if organization_id and version_taken(
            organization_id, attrs["vendor"], attrs["model"], attrs["version"]
        ):
            raise serializers.ValidationError(
                {
                    "version": [
                        _("This organization already has this version for this vendor and model.")
                    ]
                }
            )
        return attrs


class FirmwareImageNotesSerializer(FirmwareImageSerializer):
    """A firmware image whose release notes alone may change."""

    class Meta(FirmwareImageSerializer.Meta):
        fields = [name for name in FirmwareImageSerializer.Meta.fields if name != "file"]
        read_only_fields = [name for name in fields if name != "release_notes"]

    def validate(self, attrs):
        return attrs


class DownloadUrlRequestSerializer(serializers.Serializer):
    """How long the new download URL should last (FIRMWARE_URL_HOURS when left out)."""

    hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 90)


class DownloadUrlSerializer(serializers.Serializer):
    """A signed URL a station downloads the image from without login, until it expires."""

    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
