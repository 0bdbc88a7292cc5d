"""Query-string filters and sort keys of the firmware catalogue (portal and API alike)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from core.ordering import Ordering
from firmware.models import FirmwareImage

FIRMWARE_ORDERING = Ordering(
    {
        "vendor": "vendor",
        "model": "model",
        "version": "version",
        "size": "size",
        "created": "created",
    },
    default=("vendor", "model", "-created"),
)


class FirmwareImageFilterSet(django_filters.FilterSet):
    """Images by vendor and model (any case, as stations report them) and exact version."""

    vendor = django_filters.CharFilter(lookup_expr="iexact", label=_("Vendor"))
    model = django_filters.CharFilter(lookup_expr="iexact", label=_("Model"))
    version = django_filters.CharFilter(label=_("Version"))

    class Meta:
        model = FirmwareImage
        fields = ["vendor", "model", "version"]
