"""Writes and business rules of billing: which tariff applies, and rating a finished session."""

import logging
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When

from billing.choices import AssignmentScope, CdrKind
from billing.models import ChargeDetailRecord, Tariff, TariffAssignment
from organizations.models import AccessGroup
from sessions_app.choices import AuthMethod, AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession

logger = logging.getLogger(__name__)

# Most specific first: a card's group price beats the station's, the site's, the org default.
SCOPE_PRECEDENCE = (
    AssignmentScope.ACCESS_GROUP,
    AssignmentScope.STATION,
    AssignmentScope.SITE,
    AssignmentScope.ORGANIZATION,
)
PRICING_FIELDS = (
    "currency",
    "price_per_kwh",
    "price_per_minute_charging",
    "price_per_minute_idle",
    "session_fee",
    "tax_rate",
)

# Rounding rule (docs/billing.md repeats it): each component's amount is quantity × unit price
# rounded once to the cent with ROUND_HALF_UP; the total excl. tax is the sum of those rounded
# amounts; the tax is that total × tax rate / 100, rounded once the same way; the total incl.
# tax is the sum of both. Minutes are seconds / 60 rounded half up to four decimals before
# pricing, so every component stays reproducible from the quantity and unit price it lists.
CENT = Decimal("0.01")
KWH_STEP = Decimal("0.001")
MINUTE_STEP = Decimal("0.0001")


class Component(NamedTuple):
    """One priced line of a charge detail record."""

    component: str
    quantity: Decimal
    unit: str
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        """Quantity × unit price, rounded to the cent half up."""
        return round_money(self.quantity * self.unit_price)

    def as_json(self) -> dict:
        """The line with Decimals as strings, so the stored JSON is exact."""
        return {
            "component": self.component,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "unit_price": str(self.unit_price),
            "amount": str(self.amount),
        }


def round_money(amount: Decimal) -> Decimal:
    """Round an amount to the cent, half up (the one rounding rule of billing)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def find_tariff(session: ChargingSession) -> Tariff | None:
    """The tariff of the most specific assignment valid at the session start, or None."""
    org_id = session.organization_id
    targets = Q(scope=AssignmentScope.ORGANIZATION) | Q(
        scope=AssignmentScope.STATION, station_id=session.station_id
    )
    if session.station.site_id:
        targets |= Q(scope=AssignmentScope.SITE, site_id=session.station.site_id)
    if session.id_token_id:
        groups = AccessGroup.objects.for_org(org_id).filter(id_tokens=session.id_token_id)
        targets |= Q(scope=AssignmentScope.ACCESS_GROUP, access_group__in=groups)
    # Half-open window: a tariff that ends at the session start no longer applies to it.
    valid = (Q(tariff__valid_from__isnull=True) | Q(tariff__valid_from__lte=session.start)) & (
        Q(tariff__valid_to__isnull=True) | Q(tariff__valid_to__gt=session.start)
    )
    precedence = Case(
        *(When(scope=scope, then=Value(rank)) for rank, scope in enumerate(SCOPE_PRECEDENCE)),
        output_field=IntegerField(),
    )
    assignment = (
        TariffAssignment.objects.for_org(org_id)
        # The tariff's own organization is checked too: a row that points at another tenant's
        # tariff is bad data and must never price this tenant's sessions.
        .filter(targets, valid, tariff__organization_id=org_id)
        .select_related("tariff")
        .annotate(precedence=precedence)
        # Only access groups can tie (a card in several priced groups); the oldest assignment,
        # the lowest id, wins so that re-rating always picks the same tariff.
        .order_by("precedence", "pk")
        .first()
    )
    return assignment.tariff if assignment else None


def rate_session(session_id: int) -> ChargeDetailRecord | None:
    """Write the one charge CDR of a finished session, or return the existing one unchanged."""
    session = (
        ChargingSession.objects.select_related("organization", "station", "billing_stopped_by")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        logger.warning("rate_session: no charging session with id %s", session_id)
        return None
    # Without a stop time there is no charged duration yet: active sessions, and failed ones
    # that never really started, are not rated.
    if session.state == SessionState.ACTIVE or session.stop is None:
        logger.info("rate_session: session %s is not finished, nothing to rate", session_id)
        return None
    existing = _charge_record_of(session)
    if existing is not None:
        return existing
    cdr = _priced_record(session)
    try:
        with transaction.atomic():
            cdr.save()
    except IntegrityError:
        # A concurrent run inserted between our check and our insert; the unique constraint
        # one_charge_cdr_per_session kept the record single, so the winner's is the answer.
        existing = _charge_record_of(session)
        if existing is None:
            raise
        return existing
    return cdr


def _charge_record_of(session: ChargingSession) -> ChargeDetailRecord | None:
    """The session's charge CDR, if one was written already."""
    return ChargeDetailRecord.objects.filter(session=session, kind=CdrKind.CHARGE).first()


def _priced_record(session: ChargingSession) -> ChargeDetailRecord:
    """An unsaved charge CDR: priced by its tariff, or with every amount 0 and the reason."""
    tariff = find_tariff(session)
    charging_seconds = max(0, int((session.stop - session.start).total_seconds()))
    cdr = ChargeDetailRecord(
        organization_id=session.organization_id,
        session=session,
        kind=CdrKind.CHARGE,
        tariff=tariff,
        tariff_snapshot=_snapshot(tariff) if tariff else {},
        currency=tariff.currency if tariff else session.organization.currency,
        energy_wh=session.energy_wh,
        charging_seconds=charging_seconds,
        # Telling idle from charging time needs meter-value analysis that comes later; until
        # then no second counts as idle, so idle time is never billed.
        idle_seconds=0,
    )
    reason = _zero_reason(session, tariff)
    if reason:
        max_length = ChargeDetailRecord._meta.get_field("zero_reason").max_length
        cdr.zero_reason = reason[:max_length]
        # Amounts keep their default of 0; no components, because nothing was charged.
        return cdr

    energy, charging, idle, fee = components = (
        Component(
            "energy",
            (Decimal(cdr.energy_wh) / 1000).quantize(KWH_STEP),
            "kWh",
            tariff.price_per_kwh,
        ),
        Component(
            "charging_time", _minutes(charging_seconds), "min", tariff.price_per_minute_charging
        ),
        Component("idle_time", _minutes(cdr.idle_seconds), "min", tariff.price_per_minute_idle),
        Component("session_fee", Decimal(1), "session", tariff.session_fee),
    )
    cdr.components = [component.as_json() for component in components]
    cdr.energy_amount = energy.amount
    cdr.time_amount = charging.amount
    cdr.idle_amount = idle.amount
    cdr.session_fee_amount = fee.amount
    cdr.total_excl_tax = sum(component.amount for component in components)
    cdr.tax_amount = round_money(cdr.total_excl_tax * tariff.tax_rate / 100)
    cdr.total_incl_tax = cdr.total_excl_tax + cdr.tax_amount
    return cdr


def _minutes(seconds: int) -> Decimal:
    """Seconds as minutes, rounded half up to four decimals."""
    return (Decimal(seconds) / 60).quantize(MINUTE_STEP, rounding=ROUND_HALF_UP)


def _snapshot(tariff: Tariff) -> dict:
    """The tariff's prices as strings, so the CDR keeps them when the tariff changes."""
    return {
        "id": tariff.pk,
        "name": tariff.name,
        **{field: str(getattr(tariff, field)) for field in PRICING_FIELDS},
    }


def _zero_reason(session: ChargingSession, tariff: Tariff | None) -> str:
    """Why the session is free of charge, or an empty string when it is billed."""
    # Several rules may hold at once; the first one is recorded, explicit human decisions first.
    if session.billing_stopped:
        reason = "Billing stopped"
        if session.billing_stopped_by:
            reason += f" by {session.billing_stopped_by.get_username()}"
        if session.billing_stopped_reason:
            reason += f": {session.billing_stopped_reason}"
        return reason
    if not session.billable:
        return "Session is not billable"
    if session.auth_method == AuthMethod.REMOTE:
        # The product documents promise that an operator's "Start charging" is never billed.
        return "Started remotely by an operator; operator starts are never billed"
    if session.auth_status != AuthorizationStatus.ACCEPTED:
        return f"Id tag was not accepted ({session.auth_status})"
    if tariff is None:
        return "No tariff applies to this session"
    return ""
