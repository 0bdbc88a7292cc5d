"""Forms of the portal's station pages: the list's filters, adding a station, remote commands."""

from datetime import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from cms.portal.forms import OrganizationModelForm

# The reservations cancel_reservation accepts, so the choices offered are exactly those.
from ocpp_gateway.remote.charging import _active_reservations as active_reservations
from ocpp_gateway.remote.registry import ConnectorField
from stations.api.serializers import OCPP_ID_CHARACTERS, OCPP_ID_PATTERN
from stations.choices import ConnectionState, ConnectorStatus, Plan
from stations.filtersets import ChargingStationFilterSet
from stations.models import ChargingStation, Site

# --- The station list's filters ----------------------------------------------------------------


class StationFilterSet(ChargingStationFilterSet):
    """The API's station filters, narrowed to one organization, with a search over more fields."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    site = django_filters.ModelChoiceFilter(
        queryset=Site.objects.none(), label=_("Site"), empty_label=_("All sites")
    )
    connection_state = django_filters.ChoiceFilter(
        choices=ConnectionState.choices, label=_("Connection"), empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        choices=ConnectorStatus.choices,
        method="filter_connector_status",
        label=_("A connector is"),
        empty_label=_("Any status"),
    )
    plan = django_filters.ChoiceFilter(choices=Plan.choices, label=_("Plan"), empty_label=_("Any"))

    # The inputs the list page shows, in this order.
    shown = ("search", "site", "connection_state", "status", "plan")

    def __init__(self, data=None, queryset=None, *, organization, **kwargs):
        super().__init__(data, queryset, **kwargs)
        # The API's choice is every site the user can see; a page shows one organization.
        self.filters["site"].queryset = Site.objects.for_org(organization)

    def filter_search(self, queryset, name, value):
        # Every word must match some field, so "ABB Terra" finds vendor ABB, model Terra AC.
        for word in value.split():
            queryset = queryset.filter(
                Q(ocpp_id__icontains=word)
                | Q(serial_number__icontains=word)
                | Q(site__name__icontains=word)
                | Q(vendor__icontains=word)
                | Q(model__icontains=word)
            )
        return queryset

    @property
    def shown_fields(self):
        return [self.form[name] for name in self.shown]


# --- Adding a station --------------------------------------------------------------------------

DUPLICATE_IDENTITY = _("A station with this OCPP identity already exists.")
DUPLICATE_SITE = _("A site with this name already exists in this organization.")


class NewStationForm(OrganizationModelForm):
    """A new station of the organization, on one of its sites or on a site created with it."""

    site = forms.ModelChoiceField(
        queryset=Site.objects.all(),
        required=False,
        label=_("Site"),
        empty_label=_("A new site (below)"),
    )
    new_site_name = forms.CharField(
        label=_("Name of the new site"),
        max_length=Site._meta.get_field("name").max_length,
        required=False,
    )
    new_site_street = forms.CharField(
        label=_("Street"), max_length=Site._meta.get_field("street").max_length, required=False
    )
    new_site_postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=Site._meta.get_field("postal_code").max_length,
        required=False,
    )
    new_site_city = forms.CharField(
        label=_("City"), max_length=Site._meta.get_field("city").max_length, required=False
    )
    new_site_country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter code (ISO 3166-1), e.g. DE."),
    )

    class Meta:
        model = ChargingStation
        fields = ["ocpp_id", "site", "plan", "security_profile"]
        help_texts = {
            "ocpp_id": _(
                "The identity the station connects with: the last segment of its OCPP URL and "
                "its Basic-auth username (%(characters)s)."
            )
            % {"characters": OCPP_ID_CHARACTERS},
        }

    field_order = [
        "ocpp_id",
        "site",
        "new_site_name",
        "new_site_street",
        "new_site_postal_code",
        "new_site_city",
        "new_site_country",
        "plan",
        "security_profile",
    ]

    def clean_ocpp_id(self):
        ocpp_id = self.cleaned_data["ocpp_id"]
        if not OCPP_ID_PATTERN.fullmatch(ocpp_id):
            raise forms.ValidationError(
                _("Use %(characters)s only.") % {"characters": OCPP_ID_CHARACTERS}
            )
        # Unique across every organization: the identity alone tells the gateway who connects.
        # The message names no organization, so it tells nothing about whose station it is.
        if ChargingStation.objects.filter(ocpp_id=ocpp_id).exists():
            raise forms.ValidationError(DUPLICATE_IDENTITY)
        return ocpp_id

    def clean_new_site_country(self):
        country = self.cleaned_data["new_site_country"]
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE."))
        return country.upper()

    def clean(self):
        cleaned = super().clean()
        site, name = cleaned.get("site"), cleaned.get("new_site_name", "").strip()
        if site is None and not name and "site" not in self.errors:
            self.add_error("new_site_name", _("Choose a site, or name the new one."))
        elif site is not None and name:
            self.add_error("new_site_name", _("Choose a site or name a new one, not both."))
        elif name and Site.objects.for_org(self.organization).filter(name=name).exists():
            self.add_error("new_site_name", DUPLICATE_SITE)
        cleaned["new_site_name"] = name
        return cleaned

    def new_site(self) -> Site | None:
        """The site to create with the station, unsaved; None when an existing one is chosen."""
        if self.cleaned_data.get("site") is not None:
            return None
        return Site(
            organization=self.organization,
            name=self.cleaned_data["new_site_name"],
            street=self.cleaned_data["new_site_street"],
            postal_code=self.cleaned_data["new_site_postal_code"],
            city=self.cleaned_data["new_site_city"],
            country=self.cleaned_data["new_site_country"],
        )


# --- Remote commands ---------------------------------------------------------------------------

# Labels of the commands' parameters, as the registry's serializers name them.
PARAMETER_LABELS = {
    "id_tag": _("Card UID"),
    "connector_id": _("Connector"),
    "reason": _("Reason"),
    "reservation_id": _("Reservation"),
    "type": _("Type"),
    "expiry": _("Reserved until"),
    "parent_id_tag": _("Parent id tag"),
    "keys": _("Keys"),
    "key": _("Key"),
    "value": _("Value"),
    "requested_message": _("Message"),
    "location": _("Location (URL)"),
    "retrieve_date": _("Retrieve from"),
    "retries": _("Retries"),
    "retry_interval": _("Retry interval (s)"),
    "start_time": _("From"),
    "stop_time": _("Until"),
    "update_type": _("Update type"),
    "profile": _("Charging profile"),
    "transaction_id": _("Transaction id"),
    "purpose": _("Purpose"),
    "stack_level": _("Stack level"),
    "duration": _("Duration (s)"),
    "charging_rate_unit": _("Charging rate unit"),
    "vendor_id": _("Vendor id"),
    "message_id": _("Message id"),
    "data": _("Data"),
}
PARAMETER_HELP = {
    "keys": _("Comma-separated; empty: all keys."),
}
# How an optional connector left out reads, per command (else: "Any connector").
CONNECTOR_BLANK = {
    "stop_charging": _("The running session"),
    "stop_billing": _("The running session"),
    "trigger_message": _("The whole station"),
    "get_composite_schedule": _("The whole station"),
}


class Unsupported(Exception):
    """A parameter this page has no input for (a JSON object, say): the API takes it."""


class CommandForm(forms.Form):
    """The inputs of one remote command, derived from the registry's parameter serializer."""

    # The registry's serializer stays the one judge of the parameters: this form only turns
    # inputs into the values it expects, and shows its errors beside the inputs.

    def __init__(self, spec, station, data=None, *, connectors, reservations=None):
        super().__init__(data, auto_id=f"id_{spec.name}_%s")
        self.spec = spec
        self.station = station
        self.connectors = connectors
        self.reservations = reservations
        # Inputs whose empty value is a value (ChangeConfiguration may set a key to "").
        self.keep_blank: set[str] = set()
        self.lists: set[str] = set()
        # A required parameter without an input: the command can only be run through the API.
        self.unsupported = False
        for name, field in spec.params(context={"station": station}).fields.items():
            if field.read_only:
                continue
            try:
                self.fields[name] = self.input_for(name, field)
            except Unsupported:
                self.unsupported = self.unsupported or field.required

    def input_for(self, name: str, field) -> forms.Field:
        """A form field for one serializer field."""
        label = PARAMETER_LABELS.get(name, field.label or name)
        common = {
            "label": label,
            "required": field.required,
            "help_text": PARAMETER_HELP.get(name, ""),
        }
        default = field.default
        if default is not empty and not callable(default):
            common["initial"] = default
            # A default fills an empty input, so the input itself may stay empty.
            common["required"] = False
        if isinstance(field, ConnectorField):
            return forms.ChoiceField(choices=self.connector_choices(field), **common)
        if name == "reservation_id":
            return forms.ChoiceField(choices=self.reservation_choices(), **common)
        if isinstance(field, serializers.RelatedField):
            rows = field.get_queryset()
            choices = [(str(row.pk), str(row)) for row in rows]
            return forms.ChoiceField(choices=self.blank(field, _("Any")) + choices, **common)
        if isinstance(field, serializers.ChoiceField):
            choices = [(str(key), str(text)) for key, text in field.choices.items()]
            return forms.ChoiceField(choices=self.blank(field, "—") + choices, **common)
        if isinstance(field, serializers.DateTimeField):
            return forms.DateTimeField(
                widget=forms.DateTimeInput(
                    attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
                ),
                **common,
            )
        if isinstance(field, serializers.IntegerField):
            return forms.IntegerField(
                min_value=field.min_value, max_value=field.max_value, **common
            )
        if isinstance(field, serializers.ListField):
            self.lists.add(name)
            return forms.CharField(**common)
        if isinstance(field, serializers.CharField):
            if field.allow_blank and field.required:
                self.keep_blank.add(name)
                common["required"] = False
            return forms.CharField(
                max_length=field.max_length, strip=field.trim_whitespace, **common
            )
        raise Unsupported(name)

    @staticmethod
    def blank(field, text) -> list[tuple[str, str]]:
        """The empty choice of an optional input; none where the parameter has a default."""
        return [] if field.required or field.default is not empty else [("", text)]

    def connector_choices(self, field) -> list[tuple[str, str]]:
        choices = []
        if not field.required:
            choices.append(("", CONNECTOR_BLANK.get(self.spec.name, _("Any connector"))))
        if field.station_allowed:
            choices.append(("0", _("0 – the whole station")))
        for connector in self.connectors:
            choices.append(
                (
                    str(connector.connector_id),
                    f"{connector.connector_id} – {connector.get_connector_type_display()} "
                    f"({connector.get_status_display()})",
                )
            )
        return choices

    def reservation_choices(self) -> list[tuple[str, str]]:
        if self.reservations is None:
            self.reservations = list(active_reservations(self.station).order_by("expiry"))
        choices = [("", _("The only active one"))]
        for reservation in self.reservations:
            until = timezone.localtime(reservation.expiry).strftime("%Y-%m-%d %H:%M")
            choices.append(
                (str(reservation.pk), f"#{reservation.pk} {reservation.id_tag} → {until}")
            )
        return choices

    def disable(self) -> None:
        """Grey the inputs out with the command's button."""
        for field in self.fields.values():
            field.disabled = True

    def params(self) -> dict:
        """The cleaned inputs as the registry's serializer takes them; empty ones left out."""
        params = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "") and name not in self.keep_blank:
                continue
            if name in self.lists:
                value = [part.strip() for part in value.split(",") if part.strip()]
            elif isinstance(value, datetime):
                value = value.isoformat()
            params[name] = value
        return params

    def summary(self) -> list[tuple[str, str]]:
        """What the confirmation repeats: (label, value as shown) of every parameter given."""
        shown = []
        for name, value in self.cleaned_data.items():
            if value in (None, "") and name not in self.keep_blank:
                continue
            field = self.fields[name]
            if isinstance(field, forms.ChoiceField):
                value = dict(field.choices).get(value, value)
            elif isinstance(value, datetime):
                value = formats.localize(timezone.localtime(value))
            shown.append((field.label, value))
        return shown

    def add_serializer_errors(self, errors: dict) -> None:
        """Put the serializer's errors beside the inputs they concern (others above them)."""
        for name, messages in errors.items():
            messages = messages if isinstance(messages, list) else [messages]
            messages = [str(message) for message in messages]
            self.add_error(name if name in self.fields else None, messages)
