"""An ad-hoc tariff in words for a driver: its prices, tax, bounds and examples priced now."""

from dataclasses import dataclass
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


def price_words(tariff: Tariff, time_zone: str, now: datetime | None = None) -> PriceWords | None:
    """The tariff in words with examples priced by the engine from `now`; None if invalid."""
    try:
        elements = parse_elements(tariff.elements)
    except TariffError:
        return None
    currency = tariff.currency
    notes = []
    # The rates that really apply: a component's own VAT, else the tariff's.
    rates = {
        component.vat if component.vat is not None else tariff.tax_rate
        for element in elements
        for component in element.price_components
    } or {tariff.tax_rate}
    if rates == {0}:
        notes.append(_("No VAT is added to these prices."))
    elif len(rates) == 1:
        notes.append(
            _("Prices exclude VAT; %(rate)s %% VAT is added.") % {"rate": number_words(rates.pop())}
        )
    else:
        notes.append(_("Prices exclude VAT; the VAT shown with each price is added."))
    if tariff.min_price is not None:
        notes.append(
            _("A charge costs at least %(amount)s (excl. VAT).")
            % {"amount": money(tariff.min_price, currency)}
        )
    if tariff.max_price is not None:
        notes.append(
            _("A charge costs at most %(amount)s (excl. VAT).")
            % {"amount": money(tariff.max_price, currency)}
        )
    start = (now or timezone.now()).replace(second=0, microsecond=0)
    examples = [
        _("A %(kwh)s kWh charge taking %(duration)s costs %(amount)s, VAT included.")
        % {
            "kwh": number_words(EXAMPLE_KWH),
            "duration": duration_words(EXAMPLE_CHARGING_MINUTES * 60),
            "amount": example_total(tariff, time_zone, start, parking_minutes=0),
        }
    ]
    parks = any(
        component.type == engine.PARKING_TIME
        for element in elements
        for component in element.price_components
    )
    if parks:
        examples.append(
            _(
                "The same charge with the vehicle left plugged in %(duration)s longer "
                "costs %(amount)s."
            )
            % {
                "duration": duration_words(EXAMPLE_PARKING_MINUTES * 60),
                "amount": example_total(
                    tariff, time_zone, start, parking_minutes=EXAMPLE_PARKING_MINUTES
                ),
            }
        )
    return PriceWords(
        elements=[element_words(element, currency) for element in elements],
        notes=notes,
        examples=examples,
    )


def example_total(tariff: Tariff, time_zone: str, start: datetime, *, parking_minutes: int) -> str:
    """What the example charge from `start` costs under the tariff, tax included, in words."""
    sample = {
        "start": start,
        "energy_kwh": EXAMPLE_KWH,
        "charging_minutes": EXAMPLE_CHARGING_MINUTES,
        "parking_minutes": parking_minutes,
    }
    price = price_with_settings(tariff.definition(), sample_usage(sample, time_zone))
    return money(price.total_incl_tax, price.currency)
