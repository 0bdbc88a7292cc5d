"""The platform's tariffs as OCPP 2.1 TariffType, and the 2.1 tariff calls."""

from decimal import Decimal

from billing.engine import DAYS, ENERGY, FLAT, PARKING_TIME, TIME, Restrictions, TariffDefinition
from ocpp_gateway import intents
from ocpp_gateway.intents import Call
from ocpp_gateway.v201.connectors import address_of

# The engine keeps weekdays as Python numbers them (Monday 0, as in its DAYS); 2.1 names them.
_DAYS = {number: name.capitalize() for number, name in enumerate(DAYS)}
_MINUTES_PER_HOUR = Decimal(60)
TARIFF_ID_MAX_LENGTH = 60


def _number(value) -> float:
    # JSON numbers on the wire; six decimals are more than any price or limit here needs.
    return float(Decimal(str(value)).quantize(Decimal("0.000001")))


def _conditions(restrictions: Restrictions, *, fixed: bool = False) -> dict:
    """TariffConditionsType (or the fixed-price subset) of OCPI restrictions; {} for none."""
    conditions = {}
    if restrictions.start_time is not None:
        conditions["startTimeOfDay"] = restrictions.start_time.strftime("%H:%M")
    if restrictions.end_time is not None:
        conditions["endTimeOfDay"] = restrictions.end_time.strftime("%H:%M")
    if restrictions.day_of_week:
        conditions["dayOfWeek"] = [_DAYS[day] for day in sorted(restrictions.day_of_week)]
    if restrictions.start_date is not None:
        conditions["validFromDate"] = restrictions.start_date.isoformat()
    if restrictions.end_date is not None:
        conditions["validToDate"] = restrictions.end_date.isoformat()
    if fixed:
        # A session fee has no energy, power or duration to depend on in 2.1.
        return conditions
    for name, value, scale in (
        ("minEnergy", restrictions.min_kwh, Decimal(1000)),
        ("maxEnergy", restrictions.max_kwh, Decimal(1000)),
        ("minPower", restrictions.min_power, Decimal(1000)),
        ("maxPower", restrictions.max_power, Decimal(1000)),
    ):
        if value is not None:
            # OCPI speaks kWh and kW, 2.1 Wh and W.
            conditions[name] = _number(value * scale)
    if restrictions.min_duration is not None:
        conditions["minTime"] = restrictions.min_duration
    if restrictions.max_duration is not None:
        conditions["maxTime"] = restrictions.max_duration
    return conditions


def tariff_type(tariff_id: str, definition: TariffDefinition, description: str = "") -> dict:
    """A TariffType of a tariff: energy, charging time, idle time and fixed fee, with conditions."""
    # OCPI prices time per hour, 2.1 per minute; both exclude tax, which goes as a tax rate.
    energy, charging, idle, fixed = [], [], [], []
    for element in definition.elements:
        for component in element.price_components:
            if component.type == ENERGY:
                price = {"priceKwh": _number(component.price)}
                target = energy
            elif component.type in (TIME, PARKING_TIME):
                price = {"priceMinute": _number(component.price / _MINUTES_PER_HOUR)}
                target = charging if component.type == TIME else idle
            elif component.type == FLAT:
                price = {"priceFixed": _number(component.price)}
                target = fixed
            else:
                continue
            conditions = _conditions(element.restrictions, fixed=component.type == FLAT)
            if conditions:
                price["conditions"] = conditions
            target.append(price)
    taxes = [{"type": "VAT", "tax": _number(definition.tax_rate)}] if definition.tax_rate else []
    shaped = {"tariffId": tariff_id[:TARIFF_ID_MAX_LENGTH], "currency": definition.currency}
    if description:
        shaped["description"] = [{"format": "UTF8", "content": description[:1024]}]
    for key, prices in (
        ("energy", energy),
        ("chargingTime", charging),
        ("idleTime", idle),
        ("fixedFee", fixed),
    ):
        if prices:
            shaped[key] = {"prices": prices, **({"taxRates": taxes} if taxes else {})}
    if definition.min_price is not None:
        shaped["minCost"] = {"exclTax": _number(definition.min_price)}
    if definition.max_price is not None:
        shaped["maxCost"] = {"exclTax": _number(definition.max_price)}
    return shaped


def _evse(station, connector: int | None) -> int:
    return address_of(station, connector)[0] if connector is not None else 0


def _set_default_tariff(intent: intents.SetDefaultTariff, station=None) -> Call:
    tariff = tariff_type(intent.tariff_id, intent.definition, intent.description)
    return Call("SetDefaultTariff", {"evseId": _evse(station, intent.connector), "tariff": tariff})


def _get_tariffs(intent: intents.GetTariffs, station=None) -> Call:
    return Call("GetTariffs", {"evseId": _evse(station, intent.connector)})


def _clear_tariffs(intent: intents.ClearTariffs, station=None) -> Call:
    payload = {}
    if intent.tariff_ids:
        payload["tariffIds"] = list(intent.tariff_ids)
    if intent.connector is not None:
        payload["evseId"] = _evse(station, intent.connector)
    return Call("ClearTariffs", payload)


def _change_transaction_tariff(intent: intents.ChangeTransactionTariff, station=None) -> Call:
    tariff = tariff_type(intent.tariff_id, intent.definition, intent.description)
    return Call(
        "ChangeTransactionTariff", {"transactionId": intent.transaction_id, "tariff": tariff}
    )


BUILDERS = {
    intents.SetDefaultTariff: _set_default_tariff,
    intents.GetTariffs: _get_tariffs,
    intents.ClearTariffs: _clear_tariffs,
    intents.ChangeTransactionTariff: _change_transaction_tariff,
}
