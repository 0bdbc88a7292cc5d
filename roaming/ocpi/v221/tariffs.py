"""Tariffs as OCPI 2.2.1 publishes them to roaming partners."""

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from billing.engine import round_money
from billing.models import Tariff

# OCPI fields that are numbers; a tariff may store them as decimal strings to keep them exact.
NUMBER_RESTRICTIONS = ("min_kwh", "max_kwh", "min_power", "max_power")


def tariff_to_ocpi(tariff: Tariff, *, country_code: str, party_id: str) -> dict:
    """The OCPI 2.2.1 Tariff object of a tariff, published by the party given."""
    # Decimal(): an instance fresh from create() may still hold the string it was given.
    vat = Decimal(tariff.tax_rate)
    published = {
        "country_code": country_code,
        "party_id": party_id,
        "id": str(tariff.pk),
        "currency": tariff.currency,
        "type": tariff.type,
        "elements": [_element(element, vat) for element in tariff.elements],
    }
    if tariff.min_price is not None:
        published["min_price"] = _price(tariff.min_price, vat)
    if tariff.max_price is not None:
        published["max_price"] = _price(tariff.max_price, vat)
    if tariff.valid_from is not None:
        published["start_date_time"] = ocpi_datetime(tariff.valid_from)
    if tariff.valid_to is not None:
        published["end_date_time"] = ocpi_datetime(tariff.valid_to)
    published["last_updated"] = ocpi_datetime(tariff.updated)
    return published


def ocpi_datetime(moment: datetime) -> str:
    """An OCPI DateTime: UTC, whole seconds, `Z` (OCPI allows 25 characters at most)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value):
    """A stored number as a JSON number; a decimal string becomes an exact Decimal."""
    return Decimal(value) if isinstance(value, str) else value


def _element(element: dict, vat: Decimal) -> dict:
    components = [
        {
            "type": component["type"],
            "price": _number(component["price"]),
            # OCPI requires the step size; the engine reads a missing one as 1.
            "step_size": component.get("step_size", 1),
            # Prices are stored excl. tax. A component without its own vat is taxed at the
            # tariff's rate, which is published: an omitted vat would mean "no VAT" in OCPI.
            "vat": vat if component.get("vat") is None else _number(component["vat"]),
        }
        for component in element["price_components"]
    ]
    published = {"price_components": components}
    if element.get("restrictions"):
        published["restrictions"] = {
            key: _number(value) if key in NUMBER_RESTRICTIONS else value
            for key, value in element["restrictions"].items()
        }
    return published


def _price(excl_vat: Decimal, vat: Decimal) -> dict:
    """An OCPI Price: the amount excl. and incl. tax, rounded to the cent like every invoice."""
    # The engine holds a session's total incl. tax to the same bound: the bound plus the
    # tariff's tax on it (billing.engine, "they both apply").
    excl = round_money(excl_vat)
    return {"excl_vat": excl, "incl_vat": excl + round_money(Fraction(excl) * Fraction(vat) / 100)}
