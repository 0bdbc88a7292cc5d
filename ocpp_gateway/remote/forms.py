"""The portal's form of a remote command, derived from the command's parameter serializer."""

from datetime import datetime

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from ocpp_gateway.remote.registry import ConnectorField

# The reservations cancel_reservation accepts, so the choices offered are exactly those.
from sessions_app.selectors import active_reservations

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
        if isinstance(field, serializers.BooleanField):
            # Yes/No rather than a checkbox: an unticked box cannot tell "no" from "default".
            if default is not empty and not callable(default):
                common["initial"] = "true" if default else "false"
            choices = [("true", _("Yes")), ("false", _("No"))]
            return forms.ChoiceField(choices=self.blank(field, "—") + choices, **common)
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
