"""The portal's upload form of the firmware catalogue."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from firmware.models import FirmwareImage
from firmware.services import duplicate_error, version_taken
from firmware.validators import signature_pair_errors


class FirmwareImageForm(forms.ModelForm):
    """Upload one image: vendor, model and version, the file, and for signed firmware both
    the signature and its certificate."""

    file = forms.FileField(label=_("Firmware file"))

    class Meta:
        model = FirmwareImage
        fields = [
            "vendor",
            "model",
            "version",
            "file",
            "release_notes",
            "signature",
            "signing_certificate",
        ]
        widgets = {
            "release_notes": forms.Textarea(attrs={"rows": 5}),
            "signature": forms.Textarea(attrs={"rows": 3}),
            "signing_certificate": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["file"].help_text = _("At most %(size)s.") % {
            "size": filesizeformat(settings.FIRMWARE_MAX_UPLOAD_BYTES)
        }
        self.fields["vendor"].help_text = _(
            "As the stations report it in their boot notification (any case)."
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.FIRMWARE_MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("The file is larger than %(size)s."),
                params={"size": filesizeformat(settings.FIRMWARE_MAX_UPLOAD_BYTES)},
            )
        return upload

    def clean(self):
        cleaned_data = super().clean()
        for name, error in signature_pair_errors(
            cleaned_data.get("signature", ""), cleaned_data.get("signing_certificate", "")
        ).items():
            if not self.has_error(name) and name in self.fields:
                self.add_error(name, error)
        vendor, model, version = (cleaned_data.get(k) for k in ("vendor", "model", "version"))
        if (
            vendor
            and model
            and version
            and version_taken(self.organization, vendor, model, version)
        ):
            self.add_error(None, duplicate_error())
        return cleaned_data

    def _post_clean(self):
        # The service builds and checks the row (checksums, size); the form only validates.
        pass
