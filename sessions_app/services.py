"""Writes and business rules of charging sessions and reservations (any OCPP version)."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import normalize_uid
from core.bulk import insert_rows_ignoring_conflicts, update_from_values
from core.events import emit
from sessions_app import events
from sessions_app.authorization import INVALID, AuthorizationResult, authorize, authorize_driver
from sessions_app.choices import (
    AuthMethod,
    AuthorizationStatus,
    RemoteStartStatus,
    ReservationStatus,
    ReviewOutcome,
    SessionState,
    TransactionEventType,
)
from sessions_app.hooks import billing_stop_hooks
from sessions_app.models import (
    ChargingSession,
    MeterValue,
    RemoteStart,
    Reservation,
    TransactionEvent,
)
from stations.models import ChargingStation, Connector
from stations.services import get_or_create_connector

logger = logging.getLogger(__name__)

ENERGY_IMPORT_REGISTER = "Energy.Active.Import.Register"
POWER_ACTIVE_IMPORT = "Power.Active.Import"
# stop_reason of a session closed because a newer start arrived on its connector.
SUPERSEDED = "Superseded"
# How long after an operator's remote start the station's StartTransaction is taken as its
# result (a driver has the station's ConnectionTimeOut, usually well under a minute, to plug in).
REMOTE_START_WINDOW = timedelta(minutes=10)

_TO_WH = {"Wh": Decimal(1), "kWh": Decimal(1000)}
_TO_W = {"W": Decimal(1), "kW": Decimal(1000)}
_PHASES = ("L1", "L2", "L3")
# MeterValue.value is DECIMAL(20, 6): anything this large is a broken meter, not a reading.
_MAX_METER_VALUE = Decimal(10) ** 14
_MICRO = Decimal("0.000001")


class SampledValue(NamedTuple):
    """One measured value, version-neutral; `value` is None when only signed data came."""

    # A named tuple, not a frozen dataclass: a busy gateway builds 20,000 of these a second.

    timestamp: datetime
    value: Decimal | None
    measurand: str = ENERGY_IMPORT_REGISTER
    phase: str = ""
    unit: str = "Wh"
    context: str = "Sample.Periodic"
    location: str = ""
    signed_data: str = ""


@dataclass(frozen=True)
class SessionStart:
    """Outcome of a start: the session (None at an unassigned station) and its authorization."""

    session: ChargingSession | None
    authorization: AuthorizationResult
    created: bool


@dataclass(frozen=True)
class SessionStop:
    """Outcome of a stop: the session if known, whether this call closed it, the authorization."""

    session: ChargingSession | None
    closed: bool
    authorization: AuthorizationResult | None


class BillingStopRefused(Exception):
    """Billing of this session cannot be stopped (any more); the message says why."""


class ReviewRefused(Exception):
    """The session is not held for review, or the correction cannot be right; says why."""


def plausible_time(sent: datetime, now: datetime | None = None) -> datetime | None:
    """None when a station's time is inside the window around server time, else server time."""
    now = now or timezone.now()
    earliest = now - timedelta(days=settings.OCPP_TIMESTAMP_MAX_AGE_DAYS)
    latest = now + timedelta(seconds=settings.OCPP_TIMESTAMP_MAX_AHEAD_SECONDS)
    return None if earliest <= sent <= latest else now


def checked_time(sent: datetime, field: str, corrections: list) -> datetime:
    """A station's time, or the server time with the correction appended to `corrections`."""
    used = plausible_time(sent)
    if used is None:
        return sent
    corrections.append({"field": field, "sent": sent.isoformat(), "used": used.isoformat()})
    logger.warning("Implausible %s timestamp %s replaced by server time.", field, sent.isoformat())
    return used


def _hold_if_implausible(session: ChargingSession) -> None:
    """Flag the session for review (unsaved) when its readings cannot be right."""
    reasons = session.implausible_readings()
    if reasons and not session.review_outcome:
        session.needs_review = True
        session.review_reason = "; ".join(reasons)[:255]


def _announce_hold(session: ChargingSession) -> None:
    """Tell the subscribers (alerting) a session is held for review, after commit."""
    emit(
        events.SESSION_HELD_FOR_REVIEW,
        organization_id=session.organization_id,
        station_id=session.station_id,
        session_id=session.pk,
        reason=session.review_reason,
    )


def parse_meter_value(raw) -> Decimal | None:
    """A reading as Decimal, or None when it is not a finite number a meter could show."""
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or abs(value) >= _MAX_METER_VALUE:
        return None
    return value.quantize(_MICRO)


@transaction.atomic
def start_session(
    station: ChargingStation,
    *,
    connector_number: int,
    id_tag: str,
    started_at: datetime,
    meter_start: int,
    reservation_id: int | None = None,
    transaction_id: str | None = None,
    auth_method: str = AuthMethod.RFID,
    remote_start_id: int | None = None,
    corrections: Sequence[dict] = (),
) -> SessionStart:
    """Record a transaction a station started; without `transaction_id` the platform assigns one.

    `remote_start_id` is the RemoteStart the station says it carries out (2.0.1 remoteStartId);
    without it a remote start is matched by card and connector. `corrections` lists what the
    gateway changed in the message (see `checked_time`).
    """
    # Locking the station row serializes the starts of one station, so a start retransmitted
    # twice at once finds the first copy's session instead of writing a second one. It also
    # reads the organization fresh: an assignment made while connected counts at once.
    # NO KEY: the lock still serializes starts, but no longer blocks (or deadlocks with) other
    # transactions inserting rows that reference the station, whose foreign-key checks take
    # FOR KEY SHARE on it. Every lock that changes no key takes this weaker form.
    organization_id = (
        ChargingStation.objects.select_for_update(no_key=True)
        .values_list("organization_id", flat=True)
        .get(pk=station.pk)
    )
    if organization_id is None:
        logger.warning(
            "Station %s in the unassigned pool started a transaction; not recorded.",
            station.ocpp_id,
        )
        return SessionStart(
            session=None,
            authorization=INVALID,
            created=False,
        )

    connector = get_or_create_connector(station, connector_number)
    corrections = list(corrections)
    sent_start = next((c["sent"] for c in corrections if c.get("field") == "start"), None)
    if transaction_id is None:
        same_start = ChargingSession.objects.filter(
            station=station, connector=connector, id_tag=id_tag, meter_start=meter_start
        )
        if sent_start is not None:
            # The start time is now the server's, different on every copy: the sent one,
            # kept in the correction, identifies a retransmission instead.
            existing = next(
                (
                    s
                    for s in same_start.select_related("id_token").order_by("-pk")[:20]
                    if any(c.get("field") == "start" and c.get("sent") == sent_start
                           for c in s.corrections)
                ),
                None,
            )  # fmt: skip
        else:
            existing = same_start.filter(start=started_at).select_related("id_token").first()
    else:
        same_start = ChargingSession.objects.filter(station=station, transaction_id=transaction_id)
        existing = same_start.select_related("id_token").first()
    if existing is not None:
        # A retransmission: answer as the first time, write nothing.
        return SessionStart(
            session=existing,
            authorization=AuthorizationResult.for_token(existing.auth_status, existing.id_token),
            created=False,
        )

    authorization = authorize_driver(station, id_tag, connector=connector)
    _supersede_active_sessions(connector, started_at)
    reservation = (
        _use_reservation(station, reservation_id, id_tag, authorization)
        if reservation_id is not None
        else None
    )
    remote_start = (
        _remote_start_by_id(station, remote_start_id) if remote_start_id is not None else None
    )
    if remote_start is None and auth_method == AuthMethod.RFID:
        remote_start = _unclaimed_remote_start(station, connector, id_tag)
    roaming_partner_id = authorization.roaming_partner_id
    if remote_start is not None:
        auth_method = AuthMethod.REMOTE
        if remote_start.roaming_partner_id is not None:
            # A partner's START_SESSION for its customer: the partner's session, billable.
            auth_method = AuthMethod.ROAMING
            roaming_partner_id = remote_start.roaming_partner_id
    elif roaming_partner_id is not None and auth_method == AuthMethod.RFID:
        auth_method = AuthMethod.ROAMING

    session = ChargingSession.objects.create(
        organization_id=organization_id,
        station=station,
        connector=connector,
        id_token=authorization.id_token,
        id_tag=id_tag,
        transaction_id=transaction_id,
        start=started_at,
        meter_start=meter_start,
        auth_method=auth_method,
        auth_status=authorization.status,
        reservation=reservation,
        roaming_partner_id=roaming_partner_id,
        authorization_reference=authorization.authorization_reference,
        # The station may already deliver energy to an unauthorized tag; keep the record,
        # but nobody is invoiced for it without review. An operator's remote start is free.
        billable=authorization.accepted and auth_method != AuthMethod.REMOTE,
        corrections=corrections,
    )
    _hold_if_implausible(session)
    if session.needs_review:
        session.save(update_fields=["needs_review", "review_reason"])
        _announce_hold(session)
    if transaction_id is None:
        # The primary key is unique across the platform, so it serves as the 1.6 integer id.
        session.transaction_id = str(session.pk)
        session.save(update_fields=["transaction_id"])
    if remote_start is not None:
        remote_start.session = session
        remote_start.save(update_fields=["session"])
    emit(
        events.SESSION_STARTED,
        organization_id=organization_id,
        station_id=station.pk,
        connector_id=connector.pk,
        session_id=session.pk,
    )
    return SessionStart(session=session, authorization=authorization, created=True)


def _supersede_active_sessions(connector, started_at: datetime) -> None:
    """Close sessions the station lost on this connector, so only the new one stays active."""
    for lost in ChargingSession.objects.select_for_update(no_key=True).filter(
        connector=connector, state=SessionState.ACTIVE
    ):
        lost.state = SessionState.FAILED
        lost.stop_reason = SUPERSEDED
        lost.stop = max(lost.start, started_at)
        lost.save(update_fields=["state", "stop_reason", "stop", "updated"])
        logger.warning(
            "Session %s on %s superseded by a new start; the station lost it.", lost.pk, connector
        )


def _unclaimed_remote_start(station: ChargingStation, connector, id_tag: str) -> RemoteStart | None:
    """The oldest remote start this start is the result of, if no session claimed it yet."""
    # The claim (RemoteStart.session) is set in the same transaction as the session; the
    # station row lock taken by start_session serializes the starts of one station, so one
    # remote start marks one session.
    # Pending counts too: the station may send its start before the gateway has stored its
    # Accepted answer, and a remote start it rejects is never followed by one.
    return (
        RemoteStart.objects.filter(
            station=station,
            status__in=(RemoteStartStatus.PENDING, RemoteStartStatus.ACCEPTED),
            created_at__gte=timezone.now() - REMOTE_START_WINDOW,
            session__isnull=True,
            id_tag=normalize_uid(id_tag or ""),
        )
        .filter(Q(connector__isnull=True) | Q(connector=connector))
        .order_by("created_at", "pk")
        .first()
    )


def _remote_start_by_id(station: ChargingStation, remote_start_id: int) -> RemoteStart | None:
    """The station's remote start with this id, unless a session claimed it already."""
    # The station names the request it carries out: no card, connector or time window to
    # match, and whatever it answered (or failed to answer) in time, it did start it.
    remote_start = RemoteStart.objects.filter(
        pk=remote_start_id, station=station, session__isnull=True
    ).first()
    if remote_start is None:
        logger.warning(
            "Station %s carried out remote start %s, which is unknown or claimed already.",
            station.ocpp_id,
            remote_start_id,
        )
    return remote_start


def request_remote_start(
    station: ChargingStation,
    *,
    id_tag: str,
    connector=None,
    requested_by=None,
    roaming_partner=None,
) -> RemoteStart:
    """Record a remote start before it is sent; the session it leads to claims it."""
    # An operator's remote start leads to a remote session, never billed; a roaming partner's
    # to a roaming session of its customer, billed at its tariff (see start_session).
    return RemoteStart.objects.create(
        station=station,
        connector=connector,
        id_tag=normalize_uid(id_tag),
        requested_by=requested_by,
        roaming_partner=roaming_partner,
    )


def record_remote_start_answer(remote_start: RemoteStart, status: str) -> RemoteStart:
    """Keep what the station answered; a remote start it did not accept is never claimed."""
    remote_start.status = status
    # An UPDATE of the status alone: the claim may have been written meanwhile.
    RemoteStart.objects.filter(pk=remote_start.pk).update(status=status)
    return remote_start


def _use_reservation(
    station: ChargingStation,
    reservation_id: int,
    id_tag: str,
    authorization: AuthorizationResult,
) -> Reservation | None:
    """Mark the station's reservation with that OCPP id used, if it is one of this station's."""
    reservation = (
        Reservation.objects.select_for_update(no_key=True)
        .filter(pk=reservation_id, station=station)
        .first()
    )
    if reservation is None:
        logger.warning(
            "Station %s started on unknown reservation %s.", station.ocpp_id, reservation_id
        )
        return None
    uid = normalize_uid(id_tag or "")
    same_card = uid == normalize_uid(reservation.id_tag)
    # A card of the same group (parentIdTag) may use the reservation (OCPP 1.6, 5.13).
    same_parent = bool(reservation.parent_id_tag) and normalize_uid(
        authorization.parent_id_tag
    ) == normalize_uid(reservation.parent_id_tag)
    if not (same_card or same_parent):
        # The station decides who may use its reservation; we record what it did.
        logger.warning(
            "Station %s started reservation %s with id tag %s, which is neither its card nor "
            "of its parent id tag.",
            station.ocpp_id,
            reservation_id,
            id_tag,
        )
    reservation.status = ReservationStatus.USED
    reservation.save(update_fields=["status", "updated"])
    return reservation


@transaction.atomic
def reserve_for_partner(
    station: ChargingStation,
    *,
    roaming_partner,
    partner_reservation_id: str,
    id_tag: str,
    expiry: datetime,
    connector=None,
    parent_id_tag: str = "",
) -> Reservation:
    """A roaming partner's reservation: its id again at the station replaces the reservation."""
    # The station is told our id (the primary key), never the partner's, so no partner can
    # replace or cancel another's reservation (OCPI RESERVE_NOW).
    reservation = (
        Reservation.objects.select_for_update(no_key=True)
        .filter(
            station=station,
            roaming_partner=roaming_partner,
            roaming_reservation_id=partner_reservation_id,
            status__in=(ReservationStatus.PENDING, ReservationStatus.ACTIVE),
        )
        .first()
    )
    if reservation is None:
        reservation = Reservation(
            station=station,
            roaming_partner=roaming_partner,
            roaming_reservation_id=partner_reservation_id,
        )
    reservation.connector = connector
    reservation.id_token = None
    reservation.id_tag = normalize_uid(id_tag)
    reservation.parent_id_tag = normalize_uid(parent_id_tag or "")
    reservation.expiry = expiry
    reservation.status = ReservationStatus.PENDING
    reservation.save()
    return reservation


def create_reservation(
    station: ChargingStation,
    *,
    card,
    expiry: datetime,
    connector=None,
    parent_id_tag: str | None = None,
    created_by=None,
) -> Reservation:
    """A pending reservation of a connector (None: any of the station's) for one card."""
    if parent_id_tag is None:
        # The card's own group, so a card of the same group may use the reservation (TC_053).
        parent_id_tag = card.parent_id_tag
    return Reservation.objects.create(
        station=station,
        connector=connector,
        id_token=card,
        id_tag=card.uid,
        parent_id_tag=normalize_uid(parent_id_tag),
        expiry=expiry,
        created_by=created_by,
    )


def record_reservation_answer(reservation: Reservation, *, held: bool | None) -> Reservation:
    """The station holds the reservation (True) or refused it; None (no answer) keeps it pending."""
    # Left pending, it ends at its expiry like any other (expire_reservations).
    if held is not None:
        reservation.status = ReservationStatus.ACTIVE if held else ReservationStatus.REJECTED
    reservation.save(update_fields=["status", "updated"])
    return reservation


def cancel_reservation(reservation: Reservation) -> Reservation:
    """The station dropped the reservation: it is cancelled."""
    reservation.status = ReservationStatus.CANCELLED
    reservation.save(update_fields=["status", "updated"])
    return reservation


def expire_reservations(now: datetime | None = None) -> int:
    """Mark reservations whose expiry has passed expired; returns how many changed."""
    now = now or timezone.now()
    # Pending ones too: a ReserveNow that got no answer ends at its expiry all the same.
    return Reservation.objects.filter(
        status__in=(ReservationStatus.PENDING, ReservationStatus.ACTIVE), expiry__lte=now
    ).update(status=ReservationStatus.EXPIRED, updated=now)


@transaction.atomic
def stop_billing(session: ChargingSession, *, user, reason: str) -> ChargingSession:
    """Stop billing a session: never invoiced; if already priced, a credit corrects its CDR."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Stopping billing needs a reason.")
    # The lock orders this against the rating task, which locks the session too: either the
    # CDR is written after this (and totals zero) or before it (and this writes the credit).
    locked = ChargingSession.objects.select_for_update(no_key=True).get(pk=session.pk)
    if locked.billing_stopped:
        raise BillingStopRefused("Billing of this session is already stopped.")
    locked.billable = False
    locked.billing_stopped = True
    locked.billing_stopped_by = user
    locked.billing_stopped_reason = reason
    locked.billing_stopped_at = timezone.now()
    locked.save(
        update_fields=[
            "billable",
            "billing_stopped",
            "billing_stopped_by",
            "billing_stopped_reason",
            "billing_stopped_at",
            "updated",
        ]
    )
    # Billing's credit for a charge already rated (sessions_app.hooks): in this transaction.
    for hook in billing_stop_hooks:
        hook(locked)
    emit(
        events.SESSION_BILLING_STOPPED,
        organization_id=locked.organization_id,
        session_id=locked.pk,
    )
    return locked


def _locked_for_review(session: ChargingSession) -> ChargingSession:
    """The session locked against rating, if it is held for review; else ReviewRefused."""
    # The lock orders this against the rating task, which locks the same row.
    locked = ChargingSession.objects.select_for_update(no_key=True).get(pk=session.pk)
    if not locked.needs_review:
        raise ReviewRefused(_("This session is not held for review."))
    return locked


def _person(user):
    """The database user behind a request, or None for an organization API key."""
    # An API key (organizations.api.authentication) is no database user; its name goes in the
    # record.
    if getattr(user, "api_key", None) is not None or not getattr(user, "pk", None):
        return None
    return user


def _who(user) -> str:
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return f"API key {api_key.name}"
    return user.get_username() if getattr(user, "pk", None) else ""


def _settle_review(locked: ChargingSession, outcome: str, user, extra_fields: list[str]) -> None:
    """Record who settled the review and when, then have the session rated after commit."""
    locked.needs_review = False
    locked.review_outcome = outcome
    locked.reviewed_by = _person(user)
    locked.reviewed_at = timezone.now()
    locked.save(
        update_fields=[
            "needs_review",
            "review_outcome",
            "reviewed_by",
            "reviewed_at",
            "updated",
            *extra_fields,
        ]
    )
    # Billing rates it after commit; its sweep catches a rating that was not enqueued.
    emit(
        events.SESSION_REVIEWED,
        organization_id=locked.organization_id,
        session_id=locked.pk,
        outcome=outcome,
    )


@transaction.atomic
def release_session(session: ChargingSession, *, user) -> ChargingSession:
    """Release a session held for review: it is rated as recorded."""
    locked = _locked_for_review(session)
    _settle_review(locked, ReviewOutcome.RELEASED, user, [])
    return locked


@transaction.atomic
def correct_session(
    session: ChargingSession,
    *,
    user,
    meter_start: int,
    meter_stop: int,
    start: datetime | None = None,
    stop: datetime | None = None,
) -> ChargingSession:
    """Correct a held session's registers (and times), keeping the old values, then rate it."""
    locked = _locked_for_review(session)
    start = start or locked.start
    stop = stop or locked.stop
    if meter_start < 0 or meter_stop < meter_start:
        raise ReviewRefused(_("Meter stop must be at least meter start, and neither negative."))
    if stop is None or stop < start:
        raise ReviewRefused(_("The session must stop after it starts."))
    now = timezone.now()
    who = _who(user)
    changes = {"meter_start": meter_start, "meter_stop": meter_stop, "start": start, "stop": stop}
    for field, value in changes.items():
        old = getattr(locked, field)
        if old != value:
            locked.corrections.append(
                {
                    "field": field,
                    "was": old.isoformat() if isinstance(old, datetime) else old,
                    "used": value.isoformat() if isinstance(value, datetime) else value,
                    "by": who,
                    "at": now.isoformat(),
                }
            )
            setattr(locked, field, value)
    locked.energy_wh = meter_stop - meter_start
    _settle_review(
        locked,
        ReviewOutcome.CORRECTED,
        user,
        ["meter_start", "meter_stop", "start", "stop", "energy_wh", "corrections"],
    )
    return locked


@dataclass(frozen=True)
class MeterReport:
    """One station message's sampled values, version-neutral."""

    station: ChargingStation
    connector_number: int
    samples: Sequence[SampledValue]
    transaction_id: str | None = None


def record_meter_values(
    station: ChargingStation,
    *,
    connector_number: int,
    samples: Sequence[SampledValue],
    transaction_id: str | None = None,
) -> ChargingSession | None:
    """Store sampled values; with a known transaction, attach them and update the session."""
    report = MeterReport(station, connector_number, samples, transaction_id)
    return record_meter_reports([report])[0]


@transaction.atomic
def record_meter_reports(reports: Sequence[MeterReport]) -> list[ChargingSession | None]:
    """Store the meter values of many messages with one query per table; sessions in order."""
    sessions = _sessions_of(reports)
    found = [
        sessions.get((r.station.pk, r.transaction_id)) if r.transaction_id is not None else None
        for r in reports
    ]
    rows = []
    for report, session in zip(reports, found, strict=True):
        if report.transaction_id is not None and session is None:
            # Never an error to the station: the values are still worth keeping.
            logger.warning(
                "Station %s sent meter values for unknown transaction %s; kept on the station.",
                report.station.ocpp_id,
                report.transaction_id,
            )
        rows.extend(_meter_rows(report, session))
    _insert_meter_rows(rows)
    _update_live_readings(
        [(s, r.samples) for r, s in zip(reports, found, strict=True) if s is not None]
    )
    return found


def _sessions_of(reports: Sequence[MeterReport]) -> dict[tuple[int, str], ChargingSession]:
    """The sessions the reports name, keyed by (station id, transaction id), in one query."""
    wanted = {(r.station.pk, str(r.transaction_id)) for r in reports if r.transaction_id}
    if not wanted:
        return {}
    candidates = ChargingSession.objects.filter(
        station_id__in={station for station, _ in wanted},
        transaction_id__in={tx for _, tx in wanted},
    ).only("pk", "station_id", "transaction_id", "state", "meter_start")
    return {
        (session.station_id, session.transaction_id): session
        for session in candidates
        if (session.station_id, session.transaction_id) in wanted
    }


METER_COLUMNS = (
    "station_id",
    "session_id",
    "connector_number",
    "timestamp",
    "measurand",
    "phase",
    "unit",
    "context",
    "location",
    "value",
    "signed_data",
)


def _meter_rows(report: MeterReport, session: ChargingSession | None) -> list[tuple]:
    """Rows in METER_COLUMNS order."""
    station_id, session_id = report.station.pk, session.pk if session else None
    return [
        (
            station_id,
            session_id,
            report.connector_number,
            sample.timestamp,
            sample.measurand,
            sample.phase,
            sample.unit,
            sample.context,
            sample.location,
            sample.value,
            sample.signed_data,
        )
        for sample in report.samples
    ]


def _insert_meter_rows(rows: list[tuple]) -> None:
    """Insert meter rows; a sample stored already (a retransmission) is skipped."""
    insert_rows_ignoring_conflicts(MeterValue, METER_COLUMNS, rows)


def _update_live_readings(readings: list[tuple[ChargingSession, Sequence[SampledValue]]]) -> None:
    """Update running sessions' energy and power from the newest readings of the messages."""
    latest: dict[int, list] = {}  # session id -> [energy Wh or None, power W or None]
    for session, samples in readings:
        if session.state != SessionState.ACTIVE:
            continue
        entry = latest.setdefault(session.pk, [None, None])
        register_wh = _latest_total(samples, ENERGY_IMPORT_REGISTER, _TO_WH)
        if register_wh is not None:
            energy_wh = max(0, register_wh - session.meter_start)
            entry[0] = energy_wh if entry[0] is None else max(entry[0], energy_wh)
        power_w = _latest_total(samples, POWER_ACTIVE_IMPORT, _TO_W)
        if power_w is not None:
            entry[1] = power_w
    changed = [(pk, wh, w) for pk, (wh, w) in latest.items() if wh is not None or w is not None]
    if not changed:
        return
    # Registers only count up: an older reading arriving late must not lower the energy.
    update_from_values(
        ChargingSession,
        [("id", "bigint"), ("wh", "bigint"), ("w", "integer"), ("now", "timestamptz"),
         ("state", "varchar")],
        [(pk, wh, w, timezone.now(), SessionState.ACTIVE) for pk, wh, w in changed],
        "energy_wh = CASE WHEN v.wh > t.energy_wh THEN v.wh ELSE t.energy_wh END, "
        "last_power_w = COALESCE(v.w, t.last_power_w), updated = v.now",
        "t.state = v.state",
    )  # fmt: skip


def _latest_total(samples: Sequence[SampledValue], measurand: str, factors: dict) -> int | None:
    """The newest total of a measurand in base units: the phase-less value, else L1+L2+L3."""
    usable = [
        s
        for s in samples
        if s.measurand == measurand
        and s.value is not None
        and s.unit in factors
        and s.location != "EV"
    ]
    # Outlet (or unspecified) is what the vehicle got; Inlet also counts the station's losses.
    candidates = [s for s in usable if s.location in ("", "Outlet")] or usable
    if not candidates:
        return None
    latest = max(s.timestamp for s in candidates)
    newest = [s for s in candidates if s.timestamp == latest]
    totals = [s for s in newest if not s.phase]
    if totals:
        return round(totals[-1].value * factors[totals[-1].unit])
    per_phase = {}
    for sample in newest:
        # "L1" and "L1-N" are the same phase; a station sending both must not count it twice.
        phase = sample.phase.removesuffix("-N")
        if phase in _PHASES:
            per_phase[phase] = sample.value * factors[sample.unit]
    return round(sum(per_phase.values())) if per_phase else None


def energy_readings(session: ChargingSession) -> list[tuple[datetime, int]]:
    """The session's energy register readings in Wh, one per timestamp, oldest first."""
    rows = (
        MeterValue.objects.filter(session=session, measurand=ENERGY_IMPORT_REGISTER)
        .order_by("timestamp", "pk")
        .values_list("timestamp", "value", "phase", "unit", "location")
    )
    by_time: dict[datetime, list[SampledValue]] = {}
    for timestamp, value, phase, unit, location in rows:
        by_time.setdefault(timestamp, []).append(
            SampledValue(timestamp, value, phase=phase, unit=unit, location=location)
        )
    # The same collapse as live readings: a phase-less total, else L1+L2+L3; Outlet first.
    readings = []
    for timestamp, samples in by_time.items():
        total = _latest_total(samples, ENERGY_IMPORT_REGISTER, _TO_WH)
        if total is not None:
            readings.append((timestamp, total))
    return readings


@transaction.atomic
def stop_session(
    station: ChargingStation,
    *,
    transaction_id: str,
    stopped_at: datetime,
    meter_stop: int | None,
    reason: str,
    id_tag: str | None = None,
    samples: Sequence[SampledValue] = (),
    corrections: Sequence[dict] = (),
) -> SessionStop:
    """Close a station's session with its final reading; unknown or repeated stops write nothing."""
    # The stop needs no concurrency check: the card is ending a transaction, not starting one.
    authorization = authorize(station, id_tag) if id_tag else None
    session = (
        ChargingSession.objects.select_for_update(of=("self",), no_key=True)
        .select_related("connector")
        .filter(station=station, transaction_id=str(transaction_id))
        .first()
    )
    if session is None:
        logger.warning(
            "Station %s stopped unknown transaction %s; answered, nothing recorded.",
            station.ocpp_id,
            transaction_id,
        )
        return SessionStop(session=None, closed=False, authorization=authorization)
    # A session superseded by a later start still takes its real end from the station's
    # queue (the stop of a transaction lost in a power failure may arrive after the new start).
    if not (session.state == SessionState.ACTIVE or _superseded(session)):
        logger.warning(
            "Station %s stopped transaction %s again (session %s is %s); nothing changed.",
            station.ocpp_id,
            transaction_id,
            session.pk,
            session.state,
        )
        return SessionStop(session=session, closed=False, authorization=authorization)

    session.stop = stopped_at
    session.corrections = [*session.corrections, *corrections]
    session.stop_reason = reason
    session.state = SessionState.COMPLETED
    if meter_stop is not None:
        session.meter_stop = meter_stop
        session.energy_wh = max(0, meter_stop - session.meter_start)
    was_held = session.needs_review
    _hold_if_implausible(session)
    if session.needs_review and not was_held:
        _announce_hold(session)
    session.save(
        update_fields=[
            "stop",
            "stop_reason",
            "state",
            "meter_stop",
            "energy_wh",
            "corrections",
            "needs_review",
            "review_reason",
            "updated",
        ]
    )
    _insert_meter_rows(
        _meter_rows(MeterReport(station, session.connector.connector_id, samples), session)
    )
    # Billing rates it after commit; a broker outage leaves it to billing's sweep, never fails
    # the stop.
    emit(
        events.SESSION_STOPPED,
        organization_id=session.organization_id,
        station_id=station.pk,
        connector_id=session.connector_id,
        session_id=session.pk,
    )
    return SessionStop(session=session, closed=True, authorization=authorization)


def record_reservation_ended(station: ChargingStation, reservation_id: int, status: str) -> bool:
    """The station dropped an open reservation: expired or cancelled; False if it held none."""
    # A conditional UPDATE: a reservation used meanwhile (the start locks it) stays used.
    return bool(
        Reservation.objects.filter(
            pk=reservation_id,
            station=station,
            status__in=(ReservationStatus.PENDING, ReservationStatus.ACTIVE),
        ).update(status=status, updated=timezone.now())
    )


# --- transaction events (OCPP 2.0.1 TransactionEvent) -----------------------------------------

TRANSACTION_BEGIN = "Transaction.Begin"
TRANSACTION_END = "Transaction.End"


@dataclass(frozen=True)
class TransactionEventReport:
    """One event a station reported about its transaction, version-neutral."""

    transaction_id: str
    event_type: str  # a TransactionEventType
    seq_no: int
    timestamp: datetime
    trigger_reason: str
    payload: dict  # the event as the station sent it
    # None: the event does not say on which connector (the station does not know the EVSE yet).
    connector_number: int | None = None
    # None: the event carries no id token.
    id_tag: str | None = None
    # The token ends the transaction (a stop authorization); it is not the one charging.
    stop_token: bool = False
    charging_state: str = ""
    stop_reason: str = ""
    remote_start_id: int | None = None
    reservation_id: int | None = None
    offline: bool = False
    number_of_phases_used: int | None = None
    cable_max_current: int | None = None
    time_spent_charging: int | None = None
    samples: Sequence[SampledValue] = ()
    corrections: Sequence[dict] = ()


@dataclass(frozen=True)
class TransactionEventOutcome:
    """What an event did: its session and row, the token's authorization, whether it ended it."""

    # None for a station of the unassigned pool, whose transactions are not recorded.
    session: ChargingSession | None
    event: TransactionEvent | None
    # The answer for the event's id token; None when it carried none.
    authorization: AuthorizationResult | None
    # Seen before (same transaction and seqNo): nothing changed, `event.response` is the answer.
    retransmission: bool = False
    closed: bool = False


@transaction.atomic
def record_transaction_event(
    station: ChargingStation, report: TransactionEventReport
) -> TransactionEventOutcome:
    """Record an event on its transaction's session (made if unknown); a retransmission is not."""
    # Events may come late, twice, with gaps or out of order (a station replays what it queued
    # offline). The session is the one ChargingSession 1.6 writes too; its energy comes from
    # register readings, never from adding events up, so no replay counts anything twice.
    session = _locked_session(station, report.transaction_id)
    created = False
    authorization = None
    if session is None:
        started = start_session(
            station,
            connector_number=report.connector_number or _unnamed_connector_number(station),
            id_tag=report.id_tag or "",
            started_at=_start_of(report),
            meter_start=0,
            reservation_id=report.reservation_id,
            transaction_id=report.transaction_id,
            remote_start_id=report.remote_start_id,
            corrections=report.corrections,
        )
        if started.session is None:
            return TransactionEventOutcome(None, None, INVALID if report.id_tag else None)
        created = started.created
        if created:
            session = started.session
            authorization = started.authorization if report.id_tag is not None else None
            if report.event_type != TransactionEventType.STARTED:
                logger.warning(
                    "Station %s: transaction %s first heard of in a %s event (seqNo %s).",
                    station.ocpp_id,
                    report.transaction_id,
                    report.event_type,
                    report.seq_no,
                )
        else:
            # Another copy of this event made the session meanwhile.
            session = _locked_session(station, report.transaction_id)
    if not created:
        event = session.transaction_events.filter(seq_no=report.seq_no).first()
        if event is not None:
            return TransactionEventOutcome(session, event, None, retransmission=True)

    active = session.state == SessionState.ACTIVE
    # A session superseded by a later start still takes its readings and end (as in 1.6).
    still_open = active or _superseded(session)
    changed: set[str] = set()
    if not created:
        if report.id_tag is not None:
            authorization = _authorize_in_transaction(station, session, report, changed)
        if active:
            _follow_event(station, session, report, authorization, changed)
    if created or not session.transaction_events.filter(seq_no__gt=report.seq_no).exists():
        # Only the newest event says how things stand now.
        _note_latest_state(session, report, changed)
    # Whether earlier events brought readings; asked only where it matters.
    had_readings = (
        not created
        and (report.event_type == TransactionEventType.ENDED or _has_register(report.samples))
        and _has_register_readings(session)
    )
    if still_open:
        _move_registers(session, report.samples, had_readings, changed)
    if changed:
        session.save(update_fields=[*sorted(changed), "updated"])
    _insert_meter_rows(
        _meter_rows(MeterReport(station, session.connector.connector_id, report.samples), session)
    )

    closed = False
    if report.event_type == TransactionEventType.ENDED:
        stopped = stop_session(
            station,
            transaction_id=report.transaction_id,
            stopped_at=report.timestamp,
            meter_stop=_meter_stop(session, report.samples, had_readings) if still_open else None,
            reason=report.stop_reason,
            # A session made from this very event carries its corrections already.
            corrections=() if created else report.corrections,
        )
        session, closed = stopped.session, stopped.closed
    event = TransactionEvent.objects.create(
        session=session,
        seq_no=report.seq_no,
        event_type=report.event_type,
        trigger_reason=report.trigger_reason,
        charging_state=report.charging_state,
        offline=report.offline,
        timestamp=report.timestamp,
        id_tag=report.id_tag or "",
        connector_number=report.connector_number,
        payload=report.payload,
    )
    return TransactionEventOutcome(session, event, authorization, closed=closed)


# The session columns a plain Updated event may change (see record_running_updates), typed for
# one UPDATE … FROM (VALUES …).
_RUNNING_UPDATE_COLUMNS = (
    ("id", "bigint"),
    ("charging_state", "varchar"),
    ("number_of_phases_used", "integer"),
    ("cable_max_current", "integer"),
    ("time_spent_charging", "integer"),
    ("last_power_w", "integer"),
    ("meter_start", "bigint"),
    ("energy_wh", "bigint"),
    ("updated", "timestamptz"),
)


def _plain_update(report: TransactionEventReport) -> bool:
    """An Updated event that can only add readings and state to a running session."""
    return (
        report.event_type == TransactionEventType.UPDATED
        and report.id_tag is None
        and report.remote_start_id is None
        and report.reservation_id is None
    )


@transaction.atomic
def record_running_updates(
    events: Sequence[tuple[ChargingStation, TransactionEventReport]],
) -> dict[int, TransactionEvent]:
    """Record many stations' plain Updated events in a few statements; index → the event row."""
    # The bulk of a 2.0.1 fleet's traffic: a running session's periodic readings. Each such
    # event in order (the newest of its session, on its connector) is written here with the
    # others of the batch; anything else (the first or a repeated event, a token, a move, an
    # end) is left out of the answer for record_transaction_event to handle one by one.
    candidates = {i: pair for i, pair in enumerate(events) if _plain_update(pair[1])}
    if not candidates:
        return {}
    # Two IN lists and the pairs sorted out here: one OR per event makes a slow plan.
    sessions = {
        (session.station_id, session.transaction_id): session
        for session in ChargingSession.objects.select_for_update(of=("self",), no_key=True)
        .select_related("connector")
        .filter(
            station__in={station.pk for station, _ in candidates.values()},
            transaction_id__in={report.transaction_id for _, report in candidates.values()},
            state=SessionState.ACTIVE,
        )
    }
    newest = dict(
        TransactionEvent.objects.filter(session__in=[s.pk for s in sessions.values()])
        .values("session_id")
        .annotate(top=Max("seq_no"))
        .values_list("session_id", "top")
    )
    chosen: dict[int, tuple[ChargingStation, TransactionEventReport, ChargingSession]] = {}
    taken: set[int] = set()
    for index, (station, report) in candidates.items():
        session = sessions.get((station.pk, report.transaction_id))
        if (
            session is None
            or session.pk in taken
            or session.pk not in newest
            or report.seq_no <= newest[session.pk]
            or report.connector_number not in (None, session.connector.connector_id)
        ):
            continue
        taken.add(session.pk)
        chosen[index] = (station, report, session)
    if not chosen:
        return {}
    with_registers = [s.pk for _, r, s in chosen.values() if _has_register(r.samples)]
    had_readings = set(
        MeterValue.objects.filter(
            session__in=with_registers, measurand=ENERGY_IMPORT_REGISTER, value__isnull=False
        )
        .values_list("session_id", flat=True)
        .distinct()
        if with_registers
        else ()
    )
    now = timezone.now()
    rows, rows_events, changed_sessions = [], [], []
    for station, report, session in chosen.values():
        changed: set[str] = set()
        _note_latest_state(session, report, changed)
        _move_registers(session, report.samples, session.pk in had_readings, changed)
        if changed:
            session.updated = now
            changed_sessions.append(session)
        rows += _meter_rows(
            MeterReport(station, session.connector.connector_id, report.samples), session
        )
        rows_events.append(
            TransactionEvent(
                session=session,
                seq_no=report.seq_no,
                event_type=report.event_type,
                trigger_reason=report.trigger_reason,
                charging_state=report.charging_state,
                offline=report.offline,
                timestamp=report.timestamp,
                id_tag="",
                connector_number=report.connector_number,
                payload=report.payload,
                # A plain update is answered with nothing, now and on a retransmission.
                response={},
            )
        )
    # bulk_update builds a CASE per row and field in Python: slower than the events themselves.
    update_from_values(
        ChargingSession,
        _RUNNING_UPDATE_COLUMNS,
        [
            tuple(getattr(session, name if name != "id" else "pk") for name, _ in
                  _RUNNING_UPDATE_COLUMNS)
            for session in changed_sessions
        ],
        # The rows were read under lock and changed here: their values are the whole truth.
        ", ".join(f"{name} = v.{name}" for name, _ in _RUNNING_UPDATE_COLUMNS[1:]),
    )  # fmt: skip
    _insert_meter_rows(rows)
    created = TransactionEvent.objects.bulk_create(rows_events)
    return dict(zip(chosen, created, strict=True))


def remember_event_answer(event: TransactionEvent, answer: dict) -> None:
    """Keep the answer given to an event, so that a retransmission of it gets the same."""
    TransactionEvent.objects.filter(pk=event.pk).update(response=answer)


def _superseded(session: ChargingSession) -> bool:
    """Closed because a newer start came on its connector: the station may still end it."""
    return session.state == SessionState.FAILED and session.stop_reason == SUPERSEDED


def _locked_session(station: ChargingStation, transaction_id: str) -> ChargingSession | None:
    """The station's session of a transaction, locked against its other events, or None."""
    return (
        ChargingSession.objects.select_for_update(of=("self",), no_key=True)
        .select_related("connector")
        .filter(station=station, transaction_id=transaction_id)
        .first()
    )


def _unnamed_connector_number(station: ChargingStation) -> int:
    """Where a transaction goes until the station names its EVSE: a connector not charging."""
    # A later event that names the EVSE moves the session there (see _follow_event).
    numbers = Connector.objects.filter(station=station).order_by("connector_id")
    free = numbers.exclude(charging_sessions__state=SessionState.ACTIVE)
    number = free.values_list("connector_id", flat=True).first()
    if number is None:
        number = numbers.values_list("connector_id", flat=True).first()
    return number or 1


def _start_of(report: TransactionEventReport) -> datetime:
    """When the transaction began, as far as the first event heard of it tells."""
    if report.event_type == TransactionEventType.STARTED:
        return report.timestamp
    # Its Started event is lost or still queued: the oldest reading it carries is closest.
    return min([report.timestamp, *(sample.timestamp for sample in report.samples)])


def _authorize_in_transaction(
    station: ChargingStation,
    session: ChargingSession,
    report: TransactionEventReport,
    changed: set[str],
) -> AuthorizationResult:
    """Answer the event's id token; one that charges (not one that stops) goes on the session."""
    charges = not report.stop_token or not session.id_tag
    active = session.state == SessionState.ACTIVE
    # The session's own connector is left out of the concurrency count: it is this transaction.
    if charges and active:
        authorization = authorize_driver(station, report.id_tag, connector=session.connector)
    else:
        authorization = authorize(station, report.id_tag, connector=session.connector)
    same = normalize_uid(report.id_tag) == normalize_uid(session.id_tag)
    # A finished session keeps the token it was rated with.
    if charges and active and not (same and session.auth_status == authorization.status):
        session.id_tag = report.id_tag
        session.id_token = authorization.id_token
        session.auth_status = authorization.status
        if authorization.roaming_partner_id is not None:
            # A roaming partner's token: its customer charges, billed at its tariff.
            session.roaming_partner_id = authorization.roaming_partner_id
            session.authorization_reference = authorization.authorization_reference
            if session.auth_method == AuthMethod.RFID:
                session.auth_method = AuthMethod.ROAMING
            changed.update({"roaming_partner", "authorization_reference", "auth_method"})
        session.billable = (
            authorization.accepted
            and session.auth_method != AuthMethod.REMOTE
            and not session.billing_stopped
        )
        changed.update({"id_tag", "id_token", "auth_status", "billable"})
    return authorization


def _follow_event(
    station: ChargingStation,
    session: ChargingSession,
    report: TransactionEventReport,
    authorization: AuthorizationResult | None,
    changed: set[str],
) -> None:
    """What a later event of a running session adds: its connector, remote start, reservation."""
    if report.event_type == TransactionEventType.STARTED and report.timestamp < session.start:
        # The Started event came after another event of the transaction made the session.
        session.start = report.timestamp
        changed.add("start")
    number = report.connector_number
    if number is not None and number != session.connector.connector_id:
        if session.transaction_events.filter(connector_number__isnull=False).exists():
            logger.warning(
                "Station %s reported transaction %s on connector %s, not %s; kept on %s.",
                station.ocpp_id,
                report.transaction_id,
                number,
                session.connector.connector_id,
                session.connector.connector_id,
            )
        else:
            # The station names the EVSE only now (authorized before the cable was plugged in).
            connector = get_or_create_connector(station, number)
            _supersede_active_sessions(connector, report.timestamp)
            session.connector = connector
            changed.add("connector")
    if report.remote_start_id is not None and not _claims_remote_start(session):
        # A remote start for a transaction the cable had begun already (2.0.1 F01).
        remote_start = _remote_start_by_id(station, report.remote_start_id)
        if remote_start is not None:
            remote_start.session = session
            remote_start.save(update_fields=["session"])
            if remote_start.roaming_partner_id is not None:
                # A partner's START_SESSION: its customer's session, billable once authorized.
                session.auth_method = AuthMethod.ROAMING
                session.roaming_partner_id = remote_start.roaming_partner_id
                session.billable = (
                    session.auth_status == AuthorizationStatus.ACCEPTED
                    and not session.billing_stopped
                )
                changed.update({"auth_method", "roaming_partner", "billable"})
            else:
                session.auth_method = AuthMethod.REMOTE
                session.billable = False
                changed.update({"auth_method", "billable"})
    if report.reservation_id is not None and session.reservation_id is None:
        result = authorization or AuthorizationResult.for_token(
            session.auth_status, session.id_token
        )
        session.reservation = _use_reservation(
            station, report.reservation_id, session.id_tag, result
        )
        changed.add("reservation")


def _claims_remote_start(session: ChargingSession) -> bool:
    """Whether a remote start claimed the session already (its later events repeat the id)."""
    if session.auth_method == AuthMethod.REMOTE:
        return True
    if session.auth_method != AuthMethod.ROAMING:
        return False
    return RemoteStart.objects.filter(session=session).exists()


def _note_latest_state(
    session: ChargingSession, report: TransactionEventReport, changed: set[str]
) -> None:
    """Keep what the newest event says of the transaction: charging state, phases, cable."""
    for name, value in (
        ("charging_state", report.charging_state),
        ("number_of_phases_used", report.number_of_phases_used),
        ("cable_max_current", report.cable_max_current),
        ("time_spent_charging", report.time_spent_charging),
    ):
        if value not in (None, "") and getattr(session, name) != value:
            setattr(session, name, value)
            changed.add(name)


def _has_register(samples: Sequence[SampledValue]) -> bool:
    return any(s.measurand == ENERGY_IMPORT_REGISTER and s.value is not None for s in samples)


def _has_register_readings(session: ChargingSession) -> bool:
    """Whether earlier events of the session brought energy register readings."""
    return MeterValue.objects.filter(
        session=session, measurand=ENERGY_IMPORT_REGISTER, value__isnull=False
    ).exists()


def _register_totals(samples: Sequence[SampledValue]) -> list[tuple[datetime, int, set[str]]]:
    """(time, register in Wh, contexts) of each moment the samples read the register, in order."""
    by_time: dict[datetime, list[SampledValue]] = {}
    for sample in samples:
        if sample.measurand == ENERGY_IMPORT_REGISTER:
            by_time.setdefault(sample.timestamp, []).append(sample)
    totals = []
    for moment in sorted(by_time):
        total = _latest_total(by_time[moment], ENERGY_IMPORT_REGISTER, _TO_WH)
        if total is not None:
            totals.append((moment, total, {s.context for s in by_time[moment]}))
    return totals


def _move_registers(
    session: ChargingSession,
    samples: Sequence[SampledValue],
    had_readings: bool,
    changed: set[str],
) -> None:
    """Set meter start and energy from an event's readings: the 1.6 meaning, never added up."""
    # meter_start is the Transaction.Begin reading, else the first one seen; meter_start plus
    # energy_wh is the highest register seen, so a late, older reading lowers nothing.
    totals = _register_totals(samples)
    power_w = _latest_total(samples, POWER_ACTIVE_IMPORT, _TO_W)
    if power_w is not None:
        session.last_power_w = power_w
        changed.add("last_power_w")
    if not totals:
        return
    begin = next((wh for _, wh, contexts in totals if TRANSACTION_BEGIN in contexts), None)
    if begin is None:
        begin = session.meter_start if had_readings else totals[0][1]
    highest = max(wh for _, wh, _ in totals)
    if had_readings:
        highest = max(highest, session.meter_start + session.energy_wh)
    session.meter_start = begin
    session.energy_wh = max(0, highest - begin)
    changed.update({"meter_start", "energy_wh"})


def _meter_stop(
    session: ChargingSession, samples: Sequence[SampledValue], had_readings: bool
) -> int | None:
    """The register at the end: the Transaction.End reading, else the highest one seen."""
    totals = _register_totals(samples)
    end = [wh for _, wh, contexts in totals if TRANSACTION_END in contexts]
    if end:
        return end[-1]
    if totals or had_readings:
        return session.meter_start + session.energy_wh
    return None
