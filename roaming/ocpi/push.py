"""Pushes to partners' receivers: an outbox row per object owed, sent and retried by Celery.

A module registers a builder: given the owed row, it returns the call to make now (method, URL,
body), built from the object's current state, or None when nothing is to be sent any more.
So a push retried an hour later sends what is true then, and ten changes while a partner is
down are one push when it is back.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.events import emit
from roaming.choices import PartnerStatus, PushStatus
from roaming.models import OcpiPush, RoamingPartner, RoamingProfile
from roaming.ocpi.client import OcpiClient, PartnerError

logger = logging.getLogger(__name__)

BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
OWED = (PushStatus.PENDING, PushStatus.RETRYING)
# Emitted (after commit) with the id of each push planned; roaming.subscribers enqueues it.
PUSH_PLANNED = "roaming.push_planned"
DUE_BATCH = 500


@dataclass(frozen=True)
class Call:
    """One request to a partner's receiver."""

    method: str
    url: str
    body: object = None
    # The party the object is for, when the partner is a hub routing to several (2.2.1's
    # OCPI-to-* headers); None: the partner itself.
    to_party: tuple[str, str] | None = None


# builder(push, profile) → Call | None
Builder = Callable[[OcpiPush, RoamingProfile], Call | None]
_builders: dict[str, Builder] = {}


def token_party(body: dict) -> tuple[str, str] | None:
    """The party owning a session's or CDR's token: where a hub routes it."""
    token = body.get("cdr_token") or {}
    if token.get("country_code") and token.get("party_id"):
        return token["country_code"], token["party_id"]
    return None


def register_builder(module: str, builder: Builder) -> None:
    """Say how a module's owed pushes are built (from the module's file, at import)."""
    _builders[module] = builder


def plan(partner: RoamingPartner, module: str, object_key) -> OcpiPush:
    """Owe the partner the current state of an object; sent after the caller's commit."""
    key = str(object_key)
    now = timezone.now()
    owed = OcpiPush.objects.filter(
        partner=partner, module=module, object_key=key, status__in=OWED
    ).first()
    if owed is None:
        try:
            with transaction.atomic():
                owed = OcpiPush.objects.create(
                    organization_id=partner.organization_id,
                    partner=partner,
                    module=module,
                    object_key=key,
                    next_attempt_at=now,
                )
        except IntegrityError:
            # Planned meanwhile by another writer: that row will send the newest state.
            owed = OcpiPush.objects.get(
                partner=partner, module=module, object_key=key, status__in=OWED
            )
    else:
        # Only marked newer: a row backing off keeps its pause (the newest state goes when it
        # is over), and a row being sent right now is sent again when that send ends.
        OcpiPush.objects.filter(pk=owed.pk).update(updated=now)
    # tasks.py imports this module: the deliver task is enqueued by its subscriber.
    emit(PUSH_PLANNED, push_id=owed.pk)
    return owed


def plan_for_partners(organization_id: int, module: str, object_key, partners=None) -> list[int]:
    """Owe an object to every active partner of the organization (or those given)."""
    if partners is None:
        partners = RoamingPartner.objects.filter(
            organization_id=organization_id, status=PartnerStatus.ACTIVE
        )
    return [plan(partner, module, object_key).pk for partner in partners]


def purge_sent(now=None) -> int:
    """Forget pushes sent longer than OCPI_LOG_RETENTION_DAYS ago; how many were removed."""
    # Every report of a published EVSE leaves a row per partner. Without its sent row, the next
    # push of an object goes whole (a PUT) instead of as a PATCH: correct, only larger.
    cutoff = (now or timezone.now()) - timedelta(days=settings.OCPI_LOG_RETENTION_DAYS)
    removed, _ = OcpiPush.objects.filter(status=PushStatus.SENT, updated__lt=cutoff).delete()
    return removed


def due_ids(limit: int = DUE_BATCH) -> list[int]:
    """Owed pushes whose time has come."""
    now = timezone.now()
    return list(
        OcpiPush.objects.filter(status__in=OWED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def backoff(attempts: int) -> timedelta:
    """The pause after the n-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def deliver(push_id: int, *, resend: bool = True) -> str:
    """Send one owed push now; its status afterwards. A failure is retried later."""
    push = _claim(push_id)
    if push is None:
        return ""
    # The request goes out with no transaction open: a partner that calls us back while
    # answering (or a slow one) must not wait on our locks.
    partner = push.partner
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    builder = _builders.get(push.module)
    if partner.status != PartnerStatus.ACTIVE or profile is None or builder is None:
        return _give_up(push, "The partner is not registered, or roaming is not set up.")
    try:
        call = builder(push, profile)
    except Exception as exc:
        logger.exception("building OCPI push %s failed", push.pk)
        return _retry(push, f"{type(exc).__name__}: {exc}")
    if call is None:
        return _finish(push, attempted=False, resend=resend)
    if not call.url:
        return _give_up(push, "The partner has no receiver for this module.")
    try:
        OcpiClient(partner, our_party=(profile.country_code, profile.party_id)).request(
            call.method, call.url, module=push.module, body=call.body, to_party=call.to_party
        )
    except PartnerError as failure:
        return _retry(push, failure.message)
    return _finish(push, attempted=True, resend=resend)


def _claim(push_id: int) -> OcpiPush | None:
    """The owed push, leased to this worker for a while (another worker skips it meanwhile)."""
    with transaction.atomic():
        push = (
            OcpiPush.objects.select_for_update(skip_locked=True)
            .select_related("partner__organization")
            .filter(pk=push_id, status__in=OWED)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
            .first()
        )
        if push is None:
            return None
        # If this worker dies mid-send, the sweep sends it again once the lease is over.
        lease = timezone.now() + timedelta(seconds=settings.OCPI_TIMEOUT * 2 + 30)
        OcpiPush.objects.filter(pk=push.pk).update(next_attempt_at=lease)
        push.claimed_at = push.updated
    return push


def _finish(push: OcpiPush, *, attempted: bool, resend: bool) -> str:
    """Sent (or nothing left to send) — unless the object changed while it was being sent."""
    changes = {"status": PushStatus.SENT, "last_error": "", "updated": timezone.now()}
    if attempted:
        changes["attempts"] = push.attempts + 1
    # A change planned during the send moved `updated` on: the row stays owed and goes again.
    done = OcpiPush.objects.filter(pk=push.pk, updated=push.claimed_at).update(**changes)
    if not done:
        OcpiPush.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
        # Once more now; a third change during that send is left to the sweep.
        return deliver(push.pk, resend=False) if resend else PushStatus.PENDING
    push.status = PushStatus.SENT
    return push.status


def _retry(push: OcpiPush, error: str) -> str:
    push.attempts += 1
    push.last_error = error[:2000]
    if push.attempts >= settings.OCPI_PUSH_MAX_ATTEMPTS:
        push.status = PushStatus.FAILED
    else:
        push.status = PushStatus.RETRYING
        push.next_attempt_at = timezone.now() + backoff(push.attempts)
    push.save(update_fields=["attempts", "last_error", "status", "next_attempt_at", "updated"])
    return push.status


def _give_up(push: OcpiPush, error: str) -> str:
    push.status = PushStatus.FAILED
    push.last_error = error
    push.save(update_fields=["status", "last_error", "updated"])
    return push.status
