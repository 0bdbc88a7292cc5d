"""Money, durations and tariffs in words, for the portal's tariff pages and the Scan2Pay page."""

from datetime import date, time, timedelta
from decimal import Decimal

from django.utils import formats
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import engine
from billing.engine import TariffError, parse_elements, round_money
from billing.models import Tariff


def money(amount, currency: str) -> str:
    """An amount to the cent with its currency code, in the active language's number format."""
    return f"{number_format(round_money(amount), 2, use_l10n=True)} {currency}"


def unit_price(amount, currency: str) -> str:
    """A unit price: two decimals, or up to four when the price has them (0.3950 EUR)."""
    value = Decimal(str(amount)).quantize(Decimal("0.0001"))
    places = max(2, -value.normalize().as_tuple().exponent)
    # number_format cuts digits instead of rounding; the value is already exact to `places`.
    return f"{number_format(value, min(places, 4), use_l10n=True)} {currency}"


def number_words(value) -> str:
    """A restriction's number without trailing zeros (22, 7.5)."""
    value = Decimal(str(value)).normalize()
    places = max(0, -value.as_tuple().exponent)
    return number_format(value, places, use_l10n=True)


def duration_words(seconds: int) -> str:
    """Seconds as "1 h 30 min", "45 min" or "30 s"."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(_("%(hours)s h") % {"hours": hours})
    if minutes:
        parts.append(_("%(minutes)s min") % {"minutes": minutes})
    if secs or not parts:
        parts.append(_("%(seconds)s s") % {"seconds": secs})
    return " ".join(parts)


COMPONENT_WORDS = {
    engine.ENERGY: gettext_lazy("%(price)s per kWh"),
    engine.TIME: gettext_lazy("%(price)s per hour charging"),
    engine.PARKING_TIME: gettext_lazy("%(price)s per hour parking"),
    engine.FLAT: gettext_lazy("%(price)s per session"),
}


def component_words(component: engine.PriceComponent, currency: str) -> str:
    """One price component: "0.30 EUR per kWh", with its step when it is not 1."""
    text = COMPONENT_WORDS[component.type] % {"price": unit_price(component.price, currency)}
    if component.step_size > 1 and component.type == engine.ENERGY:
        text += " " + _("(in steps of %(step)s Wh)") % {"step": component.step_size}
    elif component.step_size > 1 and component.type != engine.FLAT:
        step = duration_words(component.step_size)
        text += " " + _("(in steps of %(step)s)") % {"step": step}
    if component.vat is not None:
        # Only a component's own VAT is named; the others take the tariff's tax rate shown.
        text += " " + _("(VAT %(rate)s %%)") % {"rate": number_words(component.vat)}
    return text


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def short_date(value: date) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def weekdays_words(days: frozenset[int]) -> str:
    """Weekdays as runs: "Mon–Fri", "Sat, Sun", "Mon, Wed–Fri"."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS_ABBR[run[0]]}–{WEEKDAYS_ABBR[run[-1]]}")
        else:
            parts.extend(str(WEEKDAYS_ABBR[day]) for day in run)
    return ", ".join(parts)


def _range(low, high, *, both, low_only, high_only) -> str | None:
    if low is not None and high is not None:
        return both % {"low": low, "high": high}
    if low is not None:
        return low_only % {"low": low}
    if high is not None:
        return high_only % {"high": high}
    return None


RESERVATION_WORDS = {
    engine.RESERVATION: gettext_lazy("for a reservation"),
    engine.RESERVATION_EXPIRES: gettext_lazy("for a reservation that expires unused"),
}


def restriction_words(restrictions: engine.Restrictions) -> list[str]:
    """When an element applies, in words: "22:00–06:00", "Mon–Fri", "from 22 kW"."""
    r = restrictions
    # The end date is exclusive in OCPI; people read the last day the element still applies.
    last = r.end_date - timedelta(days=1) if r.end_date else None
    parts = [
        str(RESERVATION_WORDS[r.reservation]) if r.reservation else None,
        _range(
            _clock(r.start_time) if r.start_time else None,
            _clock(r.end_time) if r.end_time else None,
            both="%(low)s–%(high)s",
            low_only=_("from %(low)s"),
            high_only=_("until %(high)s"),
        ),
        weekdays_words(r.day_of_week) if r.day_of_week else None,
        _range(
            short_date(r.start_date) if r.start_date else None,
            short_date(last) if last else None,
            both="%(low)s – %(high)s",
            low_only=_("from %(low)s"),
            high_only=_("until %(high)s"),
        ),
        _range(
            number_words(r.min_kwh) if r.min_kwh is not None else None,
            number_words(r.max_kwh) if r.max_kwh is not None else None,
            both=_("from %(low)s to below %(high)s kWh charged"),
            low_only=_("from %(low)s kWh charged"),
            high_only=_("below %(high)s kWh charged"),
        ),
        _range(
            number_words(r.min_power) if r.min_power is not None else None,
            number_words(r.max_power) if r.max_power is not None else None,
            both=_("at %(low)s to below %(high)s kW"),
            low_only=_("at %(low)s kW or more"),
            high_only=_("below %(high)s kW"),
        ),
        _range(
            duration_words(r.min_duration) if r.min_duration is not None else None,
            duration_words(r.max_duration) if r.max_duration is not None else None,
            both=_("after %(low)s, for %(high)s from the start"),
            low_only=_("after %(low)s"),
            high_only=_("for the first %(high)s"),
        ),
    ]
    return [part for part in parts if part]


def element_words(element: engine.TariffElement, currency: str) -> str:
    """One tariff element in words: its prices, then when they apply, joined by " · "."""
    prices = [component_words(c, currency) for c in element.price_components]
    return " · ".join(prices + restriction_words(element.restrictions))


def tariff_words(tariff: Tariff) -> tuple[list[str], list[str]]:
    """The tariff's elements in words, and the parser's messages if its elements are invalid."""
    try:
        elements = parse_elements(tariff.elements)
    except TariffError as error:
        return [], error.messages
    return [element_words(element, tariff.currency) for element in elements], []
