"""Portal forms of billing: a tariff (simple prices or OCPI elements) and a sample session."""

import json
import re
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import engine
from billing.api.serializers import TariffAssignmentSerializer, TariffSerializer
from billing.choices import AssignmentScope, TariffType
from billing.engine import TariffError, parse_elements
from billing.models import Tariff
from organizations.portal import OrganizationModelForm

SIMPLE, ADVANCED = "simple", "advanced"
MODES = [
    (SIMPLE, _("Simple prices")),
    (ADVANCED, _("OCPI elements (advanced)")),
]
# The simple prices, each the component it becomes.
SIMPLE_PRICES = {
    "energy_price": engine.ENERGY,
    "time_price": engine.TIME,
    "session_fee": engine.FLAT,
    "parking_price": engine.PARKING_TIME,
}
# The fields the API's serializer checks, by the same names in the form.
TARIFF_FIELDS = (
    "name",
    "type",
    "currency",
    "tax_rate",
    "min_price",
    "max_price",
    "valid_from",
    "valid_to",
)
# "elements[1].price_components[0].price: must be ..." → the place and the engine's message.
_PLACE = re.compile(r"^(elements\[\d+\](?:\.price_components\[\d+\]|\.restrictions)?)[.:]")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _local_datetime_field(label, **kwargs) -> forms.DateTimeField:
    """A date and time in the organization's time zone (the page activates it)."""
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
        **kwargs,
    )


def _price_field(label, help_text="") -> forms.DecimalField:
    # No limits of its own: the engine's parser decides what a price may be, and says why.
    return forms.DecimalField(
        label=label, required=False, help_text=help_text, widget=forms.NumberInput({"step": "any"})
    )


def _plain(value: Decimal) -> str:
    """A Decimal as OCPI spells a price: no exponent, as written ("0.39")."""
    return f"{value:f}"


def build_elements(values: dict) -> tuple[list, dict]:
    """OCPI elements from the simple prices, and which form field each element part came from."""
    elements, sources, charging = [], {}, []
    grace = values.get("parking_grace_minutes") or 0
    for name in ("energy_price", "time_price", "session_fee"):
        if values.get(name) is not None:
            charging.append((name, SIMPLE_PRICES[name]))
    parking = values.get("parking_price") is not None
    if parking and not grace:
        charging.append(("parking_price", engine.PARKING_TIME))
    if charging:
        components = []
        for place, (name, kind) in enumerate(charging):
            components.append({"type": kind, "price": _plain(values[name]), "step_size": 1})
            sources[f"elements[0].price_components[{place}]"] = name
        elements.append({"price_components": components})
    if parking and grace:
        index = len(elements)
        elements.append(
            {
                "price_components": [
                    {
                        "type": engine.PARKING_TIME,
                        "price": _plain(values["parking_price"]),
                        "step_size": 1,
                    }
                ],
                # OCPI counts durations from the session's start, so the grace period does too.
                "restrictions": {"min_duration": grace * 60},
            }
        )
        sources[f"elements[{index}].price_components[0]"] = "parking_price"
        sources[f"elements[{index}].restrictions"] = "parking_grace_minutes"
    return elements, sources


def simple_values(elements) -> dict | None:
    """The simple prices that give exactly these elements; None when they say more than that."""
    try:
        parsed = parse_elements(elements)
    except TariffError:
        return None
    values: dict = {}
    for element in parsed:
        for component in element.price_components:
            name = next(key for key, kind in SIMPLE_PRICES.items() if kind == component.type)
            values.setdefault(name, component.price)
        minimum = element.restrictions.min_duration
        if minimum is not None and minimum % 60 == 0:
            values.setdefault("parking_grace_minutes", minimum // 60)
    rebuilt, _sources = build_elements(values)
    try:
        # Engine objects compare by value: only a round trip without loss counts as simple.
        return values if parse_elements(rebuilt) == parsed else None
    except TariffError:
        return None


class TariffForm(forms.Form):
    """A tariff as an operator writes it; the API's serializer (and so the engine) checks it."""

    name = forms.CharField(label=_("Name"), max_length=Tariff._meta.get_field("name").max_length)
    type = forms.ChoiceField(
        label=_("Type"),
        choices=TariffType.choices,
        initial=TariffType.REGULAR,
        help_text=Tariff._meta.get_field("type").help_text,
    )
    currency = forms.CharField(label=_("Currency"), help_text=_("ISO 4217 code, such as EUR."))
    tax_rate = forms.DecimalField(
        label=_("VAT (%)"),
        help_text=_("On every price below, unless an OCPI component names its own VAT."),
        widget=forms.NumberInput({"step": "any"}),
    )
    mode = forms.ChoiceField(
        label=_("Prices"), choices=MODES, initial=SIMPLE, widget=forms.RadioSelect
    )
    energy_price = _price_field(_("Price per kWh"))
    time_price = _price_field(_("Price per hour of charging"))
    session_fee = _price_field(_("Session fee"), _("Once per session."))
    parking_price = _price_field(
        _("Price per hour of parking"),
        _("Parking is time in which the vehicle draws no energy."),
    )
    parking_grace_minutes = forms.IntegerField(
        label=_("Parking is free for the first … minutes"),
        required=False,
        min_value=0,
        help_text=_("Counted from the start of the session, as OCPI counts durations."),
    )
    elements = forms.CharField(
        label=_("OCPI tariff elements (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "OCPI 2.2.1 TariffElement objects in order; prices excl. VAT. A component may "
            'carry its own "vat". See docs/billing.md.'
        ),
    )
    min_price = forms.DecimalField(
        label=_("Minimum price"),
        required=False,
        help_text=_("Excl. VAT; a cheaper session is billed this much."),
        widget=forms.NumberInput({"step": "any"}),
    )
    max_price = forms.DecimalField(
        label=_("Maximum price"),
        required=False,
        help_text=_("Excl. VAT; a dearer session is billed this much."),
        widget=forms.NumberInput({"step": "any"}),
    )
    valid_from = _local_datetime_field(_("Valid from"), required=False)
    valid_to = _local_datetime_field(
        _("Valid until"), required=False, help_text=_("Exclusive; empty means open-ended.")
    )

    def __init__(self, data=None, *, organization, instance: Tariff | None = None, **kwargs):
        self.organization = organization
        self.instance = instance
        initial = kwargs.pop("initial", None) or self.initial_from(instance, organization)
        super().__init__(data, initial=initial, **kwargs)
        self.serializer = None

    @staticmethod
    def initial_from(instance: Tariff | None, organization) -> dict:
        """The stored tariff as the form shows it; simple prices when they say it all."""
        if instance is None:
            return {"currency": organization.currency, "mode": SIMPLE, "tax_rate": Decimal(0)}
        initial = {name: getattr(instance, name) for name in TARIFF_FIELDS}
        initial["elements"] = json.dumps(instance.elements, indent=2)
        simple = simple_values(instance.elements)
        initial["mode"] = SIMPLE if simple is not None else ADVANCED
        initial.update(simple or {})
        return initial

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        sources = {}
        if cleaned.get("mode") == ADVANCED:
            text = (cleaned.get("elements") or "").strip()
            try:
                elements = json.loads(text) if text else []
            except ValueError as error:
                self.add_error("elements", _("Not valid JSON: %(error)s") % {"error": error})
                return cleaned
        elif cleaned.get("mode") == SIMPLE:
            if any(self.has_error(name) for name in (*SIMPLE_PRICES, "parking_grace_minutes")):
                return cleaned
            if cleaned.get("parking_grace_minutes") and cleaned.get("parking_price") is None:
                self.add_error(
                    "parking_grace_minutes", _("Give a parking price, or leave this empty.")
                )
                return cleaned
            elements, sources = build_elements(cleaned)
        else:
            return cleaned
        data = {name: cleaned.get(name) for name in TARIFF_FIELDS if not self.has_error(name)}
        if len(data) < len(TARIFF_FIELDS):
            # A field the form could not read has its own error already.
            return cleaned
        data["elements"] = elements
        # The API's checks, word for word: the engine's parser, validity and price bounds.
        serializer = TariffSerializer(instance=self.instance, data=data)
        if serializer.is_valid():
            self.serializer = serializer
        else:
            self._add_serializer_errors(serializer.errors, sources)
        return cleaned

    def _add_serializer_errors(self, errors: dict, sources: dict) -> None:
        for name, messages in errors.items():
            for message in messages:
                field = name if name in self.fields and name != "elements" else None
                if name == "elements":
                    field, message = self._element_error(str(message), sources)
                self.add_error(field, str(message))

    def _element_error(self, message: str, sources: dict) -> tuple[str | None, str]:
        """A message of the engine on the field it concerns: a simple price, or the JSON."""
        if self.cleaned_data.get("mode") == ADVANCED:
            return "elements", message
        match = _PLACE.match(message)
        if match and match.group(1) in sources:
            text = message[match.end() :].split(":", 1)[-1].strip()
            return sources[match.group(1)], text[:1].upper() + text[1:]
        if not sources:
            return None, _("Give at least one price.")
        return None, message

    def tariff(self) -> Tariff:
        """The tariff as the form describes it, unsaved (for the preview)."""
        return Tariff(organization=self.organization, **self.serializer.validated_data)

    def save(self) -> Tariff:
        """Create or update the tariff through the API's serializer."""
        if self.instance is None:
            return self.serializer.save(organization=self.organization)
        return self.serializer.save()


class TariffAssignmentForm(OrganizationModelForm):
    """Apply a tariff to the organization, a site, a station or an access group."""

    class Meta:
        model = TariffAssignmentSerializer.Meta.model
        fields = ["scope", "site", "station", "access_group"]

    def __init__(self, *args, tariff: Tariff, **kwargs):
        super().__init__(*args, **kwargs)
        self.tariff = tariff
        self.serializer = None
        self.fields["scope"].initial = AssignmentScope.SITE

    def _post_clean(self):
        # The API's serializer checks scope against target and that the target is free; the
        # model's own checks would only repeat its constraints.
        if self.errors:
            return
        data = {
            name: (value.pk if hasattr(value, "pk") else value)
            for name, value in self.cleaned_data.items()
        }
        serializer = TariffAssignmentSerializer(
            data={**data, "tariff": self.tariff.pk},
            context={"organization_id": self.organization.pk},
        )
        if serializer.is_valid():
            self.serializer = serializer
            return
        for name, messages in serializer.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, str(message))

    def save(self, commit=True):
        return self.serializer.save(organization=self.organization)


class SampleSessionForm(forms.Form):
    """A session to price with the tariff being edited: when, how long, how much energy."""

    start = _local_datetime_field(_("Start"))
    charging_minutes = forms.IntegerField(
        label=_("Charging (minutes)"), min_value=1, max_value=7 * 24 * 60, initial=60
    )
    energy_kwh = forms.DecimalField(
        label=_("Energy (kWh)"),
        min_value=0,
        max_value=10_000,
        decimal_places=3,
        initial=Decimal("20"),
        widget=forms.NumberInput({"step": "any"}),
    )
    parking_minutes = forms.IntegerField(
        label=_("Parked afterwards (minutes)"), min_value=0, max_value=7 * 24 * 60, initial=30
    )

    def __init__(self, data=None, **kwargs):
        kwargs.setdefault("prefix", "sample")
        super().__init__(data, **kwargs)
        # Today at 18:00 local time: an evening charge, the common case.
        today = timezone.localdate()
        self.fields["start"].initial = timezone.make_aware(datetime.combine(today, time(18)))

    def sample_or_default(self) -> dict:
        """The sample as entered, or the defaults when the page just opened."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data
        return {name: self.get_initial_for_field(f, name) for name, f in self.fields.items()}


def sample_usage(sample: dict, time_zone: str) -> engine.Usage:
    """The usage of a sample session: energy drawn evenly while charging, then parked."""
    start = sample["start"].astimezone(UTC).replace(microsecond=0)
    energy_wh = int((sample["energy_kwh"] * 1000).to_integral_value(ROUND_HALF_UP))
    charged = start + timedelta(minutes=sample["charging_minutes"])
    stop = charged + timedelta(minutes=sample["parking_minutes"])
    # A reading at the end of charging: the register stands still afterwards (parking).
    readings = ((charged, energy_wh),) if stop > charged else ()
    return engine.Usage(
        start=start,
        stop=stop,
        meter_start_wh=0,
        meter_stop_wh=energy_wh,
        readings=readings,
        time_zone=time_zone,
    )
