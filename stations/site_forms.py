"""Forms of the portal's site pages: the list's filters, the site's details and configuration."""

import re
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.portal import OrganizationModelForm
from stations.choices import SiteStatus
from stations.filtersets import SiteFilterSet
from stations.models import Site, access_group_model


class SiteListFilterSet(SiteFilterSet):
    """My sites: one search over name and city, the state, and the access group."""

    # The API's separate text filters give way to one search box; None drops an inherited one.
    name = city = country = roaming_enabled = None
    search = django_filters.CharFilter(method="filter_search", label=_("Name or city"))
    # The annotation of stations.services.with_station_summary, which the view applies.
    status = django_filters.ChoiceFilter(
        choices=SiteStatus.choices, label=_("State"), empty_label=_("Any state")
    )
    access_group = django_filters.ModelChoiceFilter(
        field_name="access_groups",
        queryset=access_group_model().objects.none(),
        label=_("Open to access group"),
        empty_label=_("Any access group"),
    )

    class Meta(SiteFilterSet.Meta):
        fields = ["search", "status", "access_group"]

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the organization's own groups are offered (and accepted).
        self.filters["access_group"].queryset = access_group_model().objects.for_org(organization)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value))


class CoordinateField(forms.DecimalField):
    """A latitude or longitude: more decimals than stored are rounded, as the API does."""

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        # GPS readings come with 8 or more decimals; refusing them would help nobody.
        if value is not None and value.is_finite() and abs(value) < 1000:
            value = value.quantize(Decimal(1).scaleb(-self.decimal_places))
        return value


class SiteDetailsForm(OrganizationModelForm):
    """A site's name, address, provider and coordinates (the API's rules for each)."""

    latitude = CoordinateField(
        label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90
    )
    longitude = CoordinateField(
        label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "street",
            "postal_code",
            "city",
            "country",
            "latitude",
            "longitude",
            "provider",
        ]
        help_texts = {"country": _("Two-letter ISO 3166-1 code, e.g. DE.")}

    def clean_name(self):
        name = self.cleaned_data["name"]
        # The organization is not a form field, so the model form skips this constraint.
        others = Site.objects.for_org(self.organization).filter(name=name)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                _("A site with this name already exists in this organization.")
            )
        return name

    def clean_country(self):
        country = self.cleaned_data["country"]
        if country and not re.fullmatch(r"[A-Za-z]{2}", country):
            raise forms.ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE."))
        return country.upper()

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        # Only when both were valid numbers or empty: a bad value already has its own error.
        if (
            "latitude" in cleaned
            and "longitude" in cleaned
            and (latitude is None) != (longitude is None)
        ):
            missing = "longitude" if longitude is None else "latitude"
            self.add_error(missing, _("Give both coordinates, or neither."))
        return cleaned


class SiteConfigurationForm(OrganizationModelForm):
    """Who may charge at a site and how: access groups, roaming, Scan2Pay, grid capacity."""

    class Meta:
        model = Site
        fields = [
            "access_groups",
            "roaming_enabled",
            "scan2pay_enabled",
            "grid_capacity_kw",
            "time_zone",
        ]
        widgets = {"access_groups": forms.CheckboxSelectMultiple}
        labels = {
            "access_groups": _("Access groups that may charge here"),
            "roaming_enabled": _("Charging through roaming"),
            "scan2pay_enabled": _("Charging with Scan2Pay"),
            "grid_capacity_kw": _("Grid capacity (kW)"),
            "time_zone": _("Time zone"),
        }
        help_texts = {
            "access_groups": _("Cards of these groups may charge at every station of the site."),
            "roaming_enabled": _("Drivers of roaming partners may charge here."),
            "scan2pay_enabled": _("Drivers may pay by scanning the QR code on the station."),
            "grid_capacity_kw": _("What the site's grid connection can deliver to the stations."),
        }
