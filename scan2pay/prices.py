"""An ad-hoc tariff in words for a driver: its prices, tax, bounds and examples priced now."""

import math
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from billing import engine
from billing.engine import TariffError, parse_elements
from billing.forms import sample_usage
from billing.models import Tariff
from billing.services import price_with_settings
from billing.words import duration_words, element_words, money, number_words

# The examples: a 20 kWh charge taking an hour, and the same charge left plugged in longer
# (shown only when the tariff has a parking fee, so that idle fees are seen in an amount).
EXAMPLE_KWH = Decimal(20)
EXAMPLE_CHARGING_MINUTES = 60
EXAMPLE_PARKING_MINUTES = 4 * 60


@dataclass(frozen=True)
class PriceWords:
    """What the page says about the price: one line per element, then the rest."""

    elements: list[str]
    notes: list[str]
    examples: list[str]


def price_words(
    tariff: Tariff, time_zone: str, now: datetime | None = None, power_kw=None
) -> PriceWords | None:
    """The tariff in words with examples priced by the engine from `now`; None if invalid."""
    try:
        elements = parse_elements(tariff.elements)
    except TariffError:
        return None
    currency = tariff.currency
    notes = []
    # A driver is shown what they pay: every price with the VAT it carries (a component's own
    # rate, else the tariff's), named once when it is one rate for all.
    rates = {
        component.vat if component.vat is not None else tariff.tax_rate
        for element in elements
        for component in element.price_components
    } or {tariff.tax_rate}
    one_rate = len(rates) == 1
    if rates == {0}:
        notes.append(_("No VAT is charged on these prices."))
    elif one_rate:
        notes.append(
            _("Prices include %(rate)s %% VAT.") % {"rate": number_words(next(iter(rates)))}
        )
    else:
        notes.append(_("Prices include VAT at the rate shown with each price."))
    gross_rate = 1 + tariff.tax_rate / 100
    if tariff.min_price is not None:
        notes.append(
            _("A charge costs at least %(amount)s.")
            % {"amount": money(tariff.min_price * gross_rate, currency)}
        )
    if tariff.max_price is not None:
        notes.append(
            _("A charge costs at most %(amount)s.")
            % {"amount": money(tariff.max_price * gross_rate, currency)}
        )
    shown = [with_vat(element, tariff.tax_rate, name_rate=not one_rate) for element in elements]
    start = (now or timezone.now()).replace(second=0, microsecond=0)
    # An hour, or longer when the connector cannot charge 20 kWh in one (11 kW: 1 h 50 min).
    charging = EXAMPLE_CHARGING_MINUTES
    if power_kw:
        charging = max(charging, math.ceil(EXAMPLE_KWH / Decimal(str(power_kw)) * 60))
    examples = [
        _("A %(kwh)s kWh charge taking %(duration)s costs %(amount)s, VAT included.")
        % {
            "kwh": number_words(EXAMPLE_KWH),
            "duration": duration_words(charging * 60),
            "amount": example_total(tariff, time_zone, start, charging, parking_minutes=0),
        }
    ]
    parking_from = [
        element.restrictions.min_duration or 0
        for element in elements
        if any(c.type == engine.PARKING_TIME for c in element.price_components)
    ]
    if parking_from:
        # Long enough to reach the parking fee: an hour past where the first one starts.
        parking = max(EXAMPLE_PARKING_MINUTES, math.ceil(min(parking_from) / 60) - charging + 60)
        examples.append(
            _(
                "The same charge with the vehicle left plugged in %(duration)s longer "
                "costs %(amount)s."
            )
            % {
                "duration": duration_words(parking * 60),
                "amount": example_total(
                    tariff, time_zone, start, charging, parking_minutes=parking
                ),
            }
        )
    return PriceWords(
        elements=[element_words(element, currency) for element in shown],
        notes=notes,
        examples=examples,
    )


def example_total(
    tariff: Tariff, time_zone: str, start: datetime, charging_minutes: int, *, parking_minutes: int
) -> str:
    """What the example charge from `start` costs under the tariff, tax included, in words."""
    sample = {
        "start": start,
        "energy_kwh": EXAMPLE_KWH,
        "charging_minutes": charging_minutes,
        "parking_minutes": parking_minutes,
    }
    price = price_with_settings(tariff.definition(), sample_usage(sample, time_zone))
    return money(price.total_incl_tax, price.currency)


def with_vat(element: engine.TariffElement, tax_rate: Decimal, *, name_rate: bool):
    """The element with each price including its VAT (its rate named only when rates differ)."""
    components = tuple(
        replace(
            component,
            price=component.price
            * (1 + (component.vat if component.vat is not None else tax_rate) / 100),
            vat=(component.vat if component.vat is not None else tax_rate) if name_rate else None,
        )
        for component in element.price_components
    )
    return replace(element, price_components=components)
