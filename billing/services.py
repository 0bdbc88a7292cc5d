"""Writes and business rules of billing: which tariff applies, rating and crediting sessions."""

import logging
from decimal import Decimal

from django.conf import settings
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from billing import engine
from billing.choices import AssignmentScope, CdrKind, TariffType
from billing.engine import TariffDefinition, Usage, price_session
from billing.events import CDR_CREATED
from billing.models import ChargeDetailRecord, Tariff, TariffAssignment
from core.events import emit
from sessions_app.choices import AuthMethod, AuthorizationStatus, SessionState
from sessions_app.events import SESSION_HELD_FOR_REVIEW
from sessions_app.models import ChargingSession
from sessions_app.services import energy_readings
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# Most specific first: a card's group price beats the station's, the site's, the org default.
SCOPE_PRECEDENCE = (
    AssignmentScope.ACCESS_GROUP,
    AssignmentScope.STATION,
    AssignmentScope.SITE,
    AssignmentScope.ORGANIZATION,
)
PRECEDENCE = {scope: rank for rank, scope in enumerate(SCOPE_PRECEDENCE)}


def find_tariff(session: ChargingSession) -> Tariff | None:
    """The tariff of the most specific assignment valid at the session start, or None."""
    # A session paid on the spot (Scan2Pay) pays the ad hoc price the connector's page shows;
    # every other session never does.
    return _assigned_tariff(
        session.organization_id,
        session.station_id,
        session.station.site_id,
        session.id_token_id,
        session.start,
        ad_hoc=session.auth_method == AuthMethod.SCAN2PAY,
    )


def ad_hoc_tariff_for(station: ChargingStation, moment=None) -> Tariff | None:
    """The AD_HOC_PAYMENT tariff a driver without a card pays at `station` now, or None."""
    if station.organization_id is None:
        return None
    return _assigned_tariff(
        station.organization_id,
        station.pk,
        station.site_id,
        None,
        moment or timezone.now(),
        ad_hoc=True,
    )


def _assigned_tariff(org_id, station_id, site_id, id_token_id, moment, *, ad_hoc: bool):
    """The most specific assignment's tariff valid at `moment`, ad hoc ones or the others."""
    targets = Q(scope=AssignmentScope.ORGANIZATION) | Q(
        scope=AssignmentScope.STATION, station_id=station_id
    )
    if site_id:
        targets |= Q(scope=AssignmentScope.SITE, site_id=site_id)
    if id_token_id:
        targets |= Q(
            scope=AssignmentScope.ACCESS_GROUP,
            access_group__organization_id=org_id,
            access_group__id_tokens=id_token_id,
        )
    # Half-open window: a tariff that ends at the session start no longer applies to it.
    valid = (Q(tariff__valid_from__isnull=True) | Q(tariff__valid_from__lte=moment)) & (
        Q(tariff__valid_to__isnull=True) | Q(tariff__valid_to__gt=moment)
    )
    candidates = list(
        TariffAssignment.objects.for_org(org_id)
        # The tariff's own organization is checked too: a row that points at another tenant's
        # tariff is bad data and must never price this tenant's sessions.
        .filter(targets, valid, tariff__organization_id=org_id)
        .select_related("tariff")
        .order_by()
    )
    ad_hoc_ones = [a for a in candidates if a.tariff.type == TariffType.AD_HOC_PAYMENT]
    if ad_hoc:
        candidates = ad_hoc_ones
    else:
        # Other sessions skip ad hoc prices, unless nothing else applies at all: a station
        # priced only by an ad hoc tariff before Scan2Pay existed keeps being priced by it.
        candidates = [a for a in candidates if a not in ad_hoc_ones] or candidates
    # A handful of rows at most (one per scope, one per priced group of the card), so the
    # precedence is applied here rather than compiled into SQL for every rating.
    # Only access groups can tie (a card in several priced groups); the oldest assignment,
    # the lowest id, wins so that re-rating always picks the same tariff.
    best = min(candidates, key=lambda a: (PRECEDENCE[a.scope], a.pk), default=None)
    return best.tariff if best else None


def tariff_for(session: ChargingSession) -> Tariff | None:
    """The tariff of a session: a roaming partner's published one, else the assigned one."""
    if session.roaming_partner_id is None:
        return find_tariff(session)
    partner = session.roaming_partner
    tariff = partner.tariff
    if tariff is None or tariff.organization_id != session.organization_id:
        return None
    return tariff if _valid_at(tariff, session.start) else None


def _valid_at(tariff: Tariff, moment) -> bool:
    starts_ok = tariff.valid_from is None or tariff.valid_from <= moment
    return starts_ok and (tariff.valid_to is None or moment < tariff.valid_to)


def rate_session(session_id: int) -> ChargeDetailRecord | None:
    """Write the one charge CDR of a finished session, or return the existing one unchanged."""
    try:
        with transaction.atomic():
            return _rate_locked(session_id)
    except IntegrityError:
        # A concurrent run inserted first; one_charge_cdr_per_session kept the record single,
        # so the winner's record is the answer.
        existing = ChargeDetailRecord.objects.filter(
            session_id=session_id, kind=CdrKind.CHARGE
        ).first()
        if existing is None:
            raise
        return existing


def _rate_locked(session_id: int) -> ChargeDetailRecord | None:
    # The lock orders rating against stop_billing, which locks the same row.
    session = (
        ChargingSession.objects.select_for_update(of=("self",), no_key=True)
        .select_related("organization", "station", "billing_stopped_by", "roaming_partner__tariff")
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
    if session.needs_review:
        logger.info("rate_session: session %s is held for review, not rated", session_id)
        return None
    # Rows stored before plausibility checks existed (or written by hand) are checked here
    # too; a person's release or correction settles them for good.
    reasons = [] if session.review_outcome else session.implausible_readings()
    if reasons:
        _hold_for_review(session, "; ".join(reasons))
        return None
    try:
        # A savepoint: a failed insert must not take the review flag below down with it.
        with transaction.atomic():
            cdr = _priced_record(session)
            _check_fits_columns(cdr)
            cdr.save()
            emit(
                CDR_CREATED,
                organization_id=session.organization_id,
                session_id=session.pk,
                cdr_id=cdr.pk,
                total=str(cdr.total_incl_tax),
                currency=cdr.currency,
            )
    except IntegrityError:
        raise  # a concurrent run wrote the record; rate_session answers with it
    except (ArithmeticError, ValueError, TypeError, DataError) as error:
        # Whatever a stored session holds, rating ends in a record or in a flag a person
        # sees, never in an exception the task would retry forever. A lost connection is no
        # fault of the session: it propagates, and the sweep rates the session later.
        logger.exception("rate_session: pricing session %s failed", session_id)
        _hold_for_review(session, f"Pricing failed: {error}")
        return None
    return cdr


def _hold_for_review(session: ChargingSession, reason: str) -> None:
    """Flag a session so it is not billed until a person releases or corrects it."""
    session.needs_review = True
    session.review_reason = reason[: ChargingSession._meta.get_field("review_reason").max_length]
    session.save(update_fields=["needs_review", "review_reason", "updated"])
    logger.warning("Session %s held for review: %s", session.pk, session.review_reason)
    emit(
        SESSION_HELD_FOR_REVIEW,
        organization_id=session.organization_id,
        station_id=session.station_id,
        session_id=session.pk,
        reason=session.review_reason,
    )


def _check_fits_columns(cdr: ChargeDetailRecord) -> None:
    """Raise ValueError when a priced integer does not fit its column (PostgreSQL would)."""
    for field in ChargeDetailRecord._meta.concrete_fields:
        if not isinstance(field, models.IntegerField) or field.is_relation:
            continue
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        value = getattr(cdr, field.attname)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"{field.name} {value} does not fit its column")


def _charge_record_of(session: ChargingSession) -> ChargeDetailRecord | None:
    """The session's charge CDR, if one was written already."""
    return ChargeDetailRecord.objects.filter(session=session, kind=CdrKind.CHARGE).first()


def preview_price(session: ChargingSession, until=None) -> Decimal | None:
    """What the session costs (so far), tax included, as rating will price it; None if unknown."""
    # What a station shows its driver (2.0.1 totalCost, CostUpdated) before the CDR exists.
    if session.needs_review:
        return None
    if _free_reason(session):
        return Decimal("0.00")
    tariff = tariff_for(session)
    if tariff is None:
        return None
    try:
        usage = _usage(session, stop=session.stop or until or timezone.now())
        return price_with_settings(tariff.definition(), usage).total_incl_tax
    except (ArithmeticError, ValueError, TypeError) as error:  # TariffError is a ValueError
        logger.warning("Session %s could not be priced ahead of rating: %s", session.pk, error)
        return None


def price_with_settings(definition: TariffDefinition, usage: Usage) -> engine.Price:
    """The engine's price under this deployment's OCPI readings (settings)."""
    return price_session(
        definition,
        usage,
        step_size_reading=settings.BILLING_STEP_SIZE_READING,
        parking_tolerance_wh=settings.BILLING_PARKING_TOLERANCE_WH,
    )


def _usage(session: ChargingSession, stop=None) -> Usage:
    """What the session used (up to `stop`, else its own stop), from its meter values."""
    meter_stop = session.meter_stop
    if meter_stop is None:
        meter_stop = session.meter_start + session.energy_wh
    return Usage(
        start=session.start,
        stop=stop or session.stop,
        meter_start_wh=session.meter_start,
        meter_stop_wh=meter_stop,
        readings=tuple(energy_readings(session)),
        time_zone=session.organization.timezone,
    )


def _priced_record(session: ChargingSession) -> ChargeDetailRecord:
    """An unsaved charge CDR: priced by its tariff, or with every amount 0 and the reason."""
    tariff = tariff_for(session)
    reason = _zero_reason(session, tariff)
    currency = tariff.currency if tariff else session.organization.currency
    if reason or tariff is None:
        # Volumes and periods are still measured, so a free session is explained as well.
        definition = TariffDefinition(currency=currency, tax_rate=Decimal(0), elements=())
    else:
        definition = tariff.definition()
    price = price_with_settings(definition, _usage(session))
    cdr = ChargeDetailRecord(
        organization_id=session.organization_id,
        session=session,
        kind=CdrKind.CHARGE,
        id_token_id=session.id_token_id,
        roaming_partner_id=session.roaming_partner_id,
        tariff=tariff,
        tariff_snapshot=tariff_snapshot(tariff) if tariff else {},
        currency=currency,
        tax_rate=price.tax_rate,
        energy_wh=price.energy_wh,
        charging_seconds=price.charging_seconds,
        idle_seconds=price.parking_seconds,
        parking_tolerance_wh=settings.BILLING_PARKING_TOLERANCE_WH,
        components=[line.as_json() for line in price.lines],
        periods=[period.as_json() for period in price.periods],
        energy_amount=price.amount_of(engine.ENERGY),
        time_amount=price.amount_of(engine.TIME),
        idle_amount=price.amount_of(engine.PARKING_TIME),
        session_fee_amount=price.amount_of(engine.FLAT),
        price_cap_amount=price.amount_of(engine.MIN_PRICE, engine.MAX_PRICE),
        total_excl_tax=price.total_excl_tax,
        tax_amount=price.tax_amount,
        total_incl_tax=price.total_incl_tax,
        billing_stopped_by=session.billing_stopped_by if session.billing_stopped else None,
        accounted_at=session.stop,
    )
    if reason:
        max_length = ChargeDetailRecord._meta.get_field("reason").max_length
        cdr.reason = reason[:max_length]
    return cdr


def tariff_snapshot(tariff: Tariff) -> dict:
    """The tariff as it priced the record, so the CDR keeps it when the tariff changes."""
    return {
        "id": tariff.pk,
        "name": tariff.name,
        "currency": tariff.currency,
        "tax_rate": str(tariff.tax_rate),
        "elements": tariff.elements,
        "min_price": None if tariff.min_price is None else str(tariff.min_price),
        "max_price": None if tariff.max_price is None else str(tariff.max_price),
        "valid_from": tariff.valid_from.isoformat() if tariff.valid_from else None,
        "valid_to": tariff.valid_to.isoformat() if tariff.valid_to else None,
    }


def credit_session(session: ChargingSession) -> ChargeDetailRecord | None:
    """After billing was stopped: a credit of what is left of the session's charge CDR."""
    # A billing-stop hook (sessions_app.hooks, registered in BillingConfig.ready()): it runs in
    # stop_billing's transaction, under its lock on the session.
    charge = _charge_record_of(session)
    if charge is None or charge.total_incl_tax == 0:
        # Not rated yet (rating will find billing stopped), or nothing to give back.
        return None
    reason = f"Credit: {_stopped_reason(session)}"
    if not charge.corrections.filter(kind=CdrKind.CREDIT).exists():
        return _full_credit(charge, session, reason)
    # Part of it was paid back already (refunds): only the rest is credited.
    return _amount_credit(
        charge,
        credit_left(charge),
        reason,
        by=session.billing_stopped_by,
        at=session.billing_stopped_at,
    )


def credit_charge(charge: ChargeDetailRecord, amount: Decimal, reason: str):
    """A credit of part of a charge CDR (a refund); never more than is left of it."""
    with transaction.atomic():
        # The session's lock serializes credits of one charge with billing stops and refunds.
        ChargingSession.objects.select_for_update().filter(pk=charge.session_id).first()
        return _amount_credit(charge, min(amount, credit_left(charge)), reason)


def credit_left(charge: ChargeDetailRecord) -> Decimal:
    """What of a charge CDR's total no credit has taken back yet."""
    credited = charge.corrections.filter(kind=CdrKind.CREDIT).aggregate(
        total=models.Sum("total_incl_tax")
    )["total"]
    return max(charge.total_incl_tax + (credited or 0), Decimal(0))


def _full_credit(charge: ChargeDetailRecord, session, reason: str) -> ChargeDetailRecord:
    """A credit cancelling the whole charge, line by line."""
    credit = ChargeDetailRecord(
        organization_id=charge.organization_id,
        session=session,
        kind=CdrKind.CREDIT,
        corrects=charge,
        id_token_id=charge.id_token_id,
        roaming_partner_id=charge.roaming_partner_id,
        tariff_id=charge.tariff_id,
        tariff_snapshot=charge.tariff_snapshot,
        currency=charge.currency,
        tax_rate=charge.tax_rate,
        energy_wh=charge.energy_wh,
        charging_seconds=charge.charging_seconds,
        idle_seconds=charge.idle_seconds,
        parking_tolerance_wh=charge.parking_tolerance_wh,
        components=[
            {**line, "amount": str(-Decimal(line["amount"]))} for line in charge.components
        ],
        periods=charge.periods,
        energy_amount=-charge.energy_amount,
        time_amount=-charge.time_amount,
        idle_amount=-charge.idle_amount,
        session_fee_amount=-charge.session_fee_amount,
        price_cap_amount=-charge.price_cap_amount,
        total_excl_tax=-charge.total_excl_tax,
        tax_amount=-charge.tax_amount,
        total_incl_tax=-charge.total_incl_tax,
        reason=reason[: ChargeDetailRecord._meta.get_field("reason").max_length],
        billing_stopped_by=session.billing_stopped_by,
        accounted_at=session.billing_stopped_at,
    )
    credit.save()
    return credit


def _amount_credit(charge, amount: Decimal, reason: str, *, by=None, at=None):
    """A credit of an amount incl. tax, taxed at the charge's rate; None for nothing."""
    amount = engine.round_money(amount)
    if amount <= 0:
        return None
    credited = charge.corrections.filter(kind=CdrKind.CREDIT).aggregate(
        total=models.Sum("total_incl_tax"), tax=models.Sum("tax_amount")
    )
    if amount == charge.total_incl_tax + (credited["total"] or 0):
        # The last of the charge: the tax left, so that the credits' tax adds up to the
        # charge's exactly however each part was rounded.
        tax = charge.tax_amount + (credited["tax"] or 0)
    else:
        # The tax inside a gross amount: amount × rate / (100 + rate), as the charge was taxed.
        tax = engine.round_money(amount * charge.tax_rate / (100 + charge.tax_rate))
    credit = ChargeDetailRecord(
        organization_id=charge.organization_id,
        session_id=charge.session_id,
        kind=CdrKind.CREDIT,
        corrects=charge,
        id_token_id=charge.id_token_id,
        roaming_partner_id=charge.roaming_partner_id,
        tariff_id=charge.tariff_id,
        tariff_snapshot=charge.tariff_snapshot,
        currency=charge.currency,
        tax_rate=charge.tax_rate,
        parking_tolerance_wh=charge.parking_tolerance_wh,
        total_excl_tax=-(amount - tax),
        tax_amount=-tax,
        total_incl_tax=-amount,
        reason=reason[: ChargeDetailRecord._meta.get_field("reason").max_length],
        billing_stopped_by=by,
        accounted_at=at,
    )
    credit.save()
    return credit


def _stopped_reason(session: ChargingSession) -> str:
    reason = "Billing stopped"
    if session.billing_stopped_by:
        reason += f" by {session.billing_stopped_by.get_username()}"
    if session.billing_stopped_reason:
        reason += f": {session.billing_stopped_reason}"
    return reason


def _zero_reason(session: ChargingSession, tariff: Tariff | None) -> str:
    """Why the session is free of charge, or an empty string when it is billed."""
    reason = _free_reason(session)
    if reason:
        return reason
    if tariff is None:
        if session.roaming_partner_id is not None:
            return (
                f"Roaming partner {session.roaming_partner} has no published tariff valid at "
                "the session start"
            )
        return "No tariff applies to this session"
    return ""


def _free_reason(session: ChargingSession) -> str:
    """Why a rule or a person made the session free, whatever its tariff; "" when none did."""
    # Several rules may hold at once; the first one is recorded, explicit human decisions first.
    if session.billing_stopped:
        return _stopped_reason(session)
    # start_session marks remote starts and refused tags unbillable as well, so their own
    # reasons come before the generic one, or every such CDR would just say "not billable".
    if session.auth_method == AuthMethod.REMOTE:
        # The product documents promise that an operator's "Start charging" is never billed.
        return "Started remotely by an operator; operator starts are never billed"
    if session.auth_status != AuthorizationStatus.ACCEPTED:
        return f"Id tag was not accepted ({session.auth_status})"
    if not session.billable:
        return "Session is not billable"
    return ""
