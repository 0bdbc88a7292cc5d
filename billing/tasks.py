"""Celery tasks of billing: they take ids and call a service."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from billing import invoicing, payments, services
from billing.choices import CdrKind, PaymentProvider, PaymentStatus, RefundStatus
from billing.models import ChargeDetailRecord, Payment, PaymentRefund
from billing.providers import PaymentsNotConfigured, ProviderError
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession

logger = logging.getLogger(__name__)

# A stop enqueues its rating at once; the sweep leaves a session that long to that path first.
SWEEP_GRACE = timedelta(minutes=2)
# Sessions rated per sweep run: one run stays short even after a long broker outage.
SWEEP_BATCH = 500


@shared_task(acks_late=True)
def rate_session(session_id: int) -> int | None:
    """Price a finished session and write its charge detail record (idempotent)."""
    cdr = services.rate_session(session_id)
    return cdr.pk if cdr else None


@shared_task(acks_late=True)
def close_billing_periods() -> int:
    """Close every ended billing period into invoices; returns how many were closed (idempotent)."""
    return len(invoicing.close_due_periods())


@shared_task(acks_late=True)
def rate_unrated_sessions() -> int:
    """Rate finished sessions that have no charge record yet; returns how many it rated."""
    # The safety net of the enqueue after each stop (core.enqueue): a broker outage loses that
    # message, never the session. rate_session is idempotent, so a race with it is harmless.
    rated = 0
    for session_id in unrated_session_ids(timezone.now() - SWEEP_GRACE)[:SWEEP_BATCH]:
        try:
            if services.rate_session(session_id) is not None:
                rated += 1
        except Exception:
            # One session the engine cannot price must not keep the others unrated.
            logger.exception("rate_unrated_sessions: session %s could not be rated", session_id)
    if rated:
        logger.warning("rate_unrated_sessions: rated %d sessions whose rating was lost", rated)
    return rated


def unrated_session_ids(closed_before):
    """Ids of completed sessions closed before that moment without a charge record, oldest first."""
    # ratable(): finished and not held for review (a review's outcome enqueues the rating).
    # Completed only: a session failed by a newer start (Superseded) is rated when its real
    # stop arrives, not with the stand-in stop time it was given.
    charged = ChargeDetailRecord.objects.filter(session=OuterRef("pk"), kind=CdrKind.CHARGE)
    return (
        ChargingSession.objects.ratable()
        .filter(state=SessionState.COMPLETED, updated__lt=closed_before)
        .filter(~Exists(charged))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# A payment the provider should have reported on by now (a webhook lost or not configured).
PAYMENT_QUIET = timedelta(minutes=10)
PAYMENT_BATCH = 200


@shared_task(acks_late=True)
def reconcile_payments() -> int:
    """Read back open payments nothing was heard of; release holds whose payer walked away."""
    # Webhooks are the fast path; this is the net under them. A pending payment (the payer
    # never confirmed) past its deadline is canceled, so no amount stays held for nobody.
    now = timezone.now()
    abandoned_before = now - timedelta(minutes=settings.PAYMENT_PENDING_MINUTES)
    open_payments = (
        Payment.objects.filter(
            status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED, PaymentStatus.FAILED],
            updated__lt=now - PAYMENT_QUIET,
        )
        .exclude(reference="")
        # A station's terminal settled its payments itself: nothing to read back.
        .exclude(provider=PaymentProvider.TERMINAL)
        .order_by("updated")
        .values_list("pk", "status", "created")[:PAYMENT_BATCH]
    )
    changed = 0
    for payment_id, status, created in open_payments:
        try:
            payment = payments.sync_payment(payment_id)
            if payment.status in (PaymentStatus.PENDING, PaymentStatus.FAILED) and (
                created < abandoned_before
            ):
                payment = payments.cancel_payment(payment_id, only_unconfirmed=True)
        except (ProviderError, PaymentsNotConfigured) as error:
            logger.warning("reconcile_payments: payment %s: %s", payment_id, error)
            continue
        if payment.status != status:
            changed += 1
        else:
            # Touched, so the next run reads the oldest other payments first.
            Payment.objects.filter(pk=payment_id).update(updated=now)
    # Authorizations whose answer never came (a day at most: Stripe keeps idempotency keys
    # for 24 hours): asked again with the same key and request, then treated as above.
    for payment_id in (
        Payment.objects.filter(
            status=PaymentStatus.PENDING,
            reference="",
            created__lt=now - PAYMENT_QUIET,
            created__gt=now - timedelta(hours=23),
        )
        .exclude(provider=PaymentProvider.TERMINAL)
        .values_list("pk", flat=True)[:PAYMENT_BATCH]
    ):
        try:
            payment = payments.resume_authorization(payment_id)
            if payment.reference and payment.created < abandoned_before:
                payments.cancel_payment(payment_id, only_unconfirmed=True)
            changed += 1
        except (ProviderError, PaymentsNotConfigured) as error:
            logger.warning("reconcile_payments: payment %s: %s", payment_id, error)
    for refund_id in PaymentRefund.objects.filter(
        status=RefundStatus.PENDING, reference="", created__lt=now - PAYMENT_QUIET
    ).values_list("pk", flat=True)[:PAYMENT_BATCH]:
        # A refund whose answer never came: asked again with its own idempotency key.
        try:
            payments.retry_refund(refund_id)
            changed += 1
        except (ProviderError, PaymentsNotConfigured) as error:
            logger.warning("reconcile_payments: refund %s: %s", refund_id, error)
    return changed
