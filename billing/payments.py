"""Payment services: hold, collect, release and pay back money through a provider."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import services
from billing.choices import CdrKind, PaymentProvider, PaymentPurpose, PaymentStatus, RefundStatus
from billing.models import (
    ChargeDetailRecord,
    Payment,
    PaymentAccount,
    PaymentEvent,
    PaymentRefund,
)
from billing.providers import (
    Balance,
    Intent,
    PaymentGateway,
    PaymentsNotConfigured,
    Payout,
    ProviderError,
    WebhookEvent,
    gateway_for,
    representable,
    smallest_unit,
)
from sessions_app.models import ChargingSession
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
CENT = Decimal("0.01")
# A status only moves forward: a late or replayed answer never takes a payment back.
RANK = {
    PaymentStatus.PENDING: 0,
    PaymentStatus.FAILED: 0,
    PaymentStatus.AUTHORIZED: 1,
    PaymentStatus.CAPTURED: 2,
    PaymentStatus.CANCELED: 2,
}


class PaymentRefused(Exception):
    """A payment operation the rules forbid (more than held or collected, wrong status)."""


def payment_account_of(organization) -> PaymentAccount:
    """The organization's enabled payment account; PaymentsNotConfigured when there is none."""
    account = PaymentAccount.objects.filter(organization=organization, enabled=True).first()
    if account is None:
        raise PaymentsNotConfigured(f"{organization} takes no payments")
    return account


def ready_account(organization) -> PaymentAccount | None:
    """The organization's account if a payment could be taken on it now (keys set), else None."""
    try:
        account = payment_account_of(organization)
        gateway_for(account.provider, account.account_id)
    except PaymentsNotConfigured:
        return None
    return account


def gateway_of(payment: Payment) -> PaymentGateway:
    """The adapter that made a payment, for the account it was made on."""
    return gateway_for(payment.provider, payment.account_id)


class NoConnectedAccount(PaymentsNotConfigured):
    """The organization is paid on the platform's own account: no balance of its own."""


def payouts_of(organization, limit: int = 20) -> tuple[Balance, list[Payout]]:
    """The organization's balance at its provider and its latest payouts (read live, not kept)."""
    account = payment_account_of(organization)
    if not account.account_id:
        # The platform's account holds every such organization's money: none of it is theirs.
        raise NoConnectedAccount(f"{organization} has no connected account")
    gateway = gateway_for(account.provider, account.account_id)
    return gateway.balance(), gateway.payouts(limit)


def authorize_payment(
    *,
    organization,
    amount: Decimal,
    purpose: str,
    email: str = "",
    session=None,
    payment_method: str = "",
    customer: str = "",
    metadata: dict | None = None,
) -> tuple[Payment, Intent | None]:
    """Ask the provider to hold an amount; the payment row exists before the provider is asked."""
    account = payment_account_of(organization)
    gateway = gateway_for(account.provider, account.account_id)
    if amount <= 0:
        raise PaymentRefused(_("An authorization must hold more than nothing."))
    # Written and committed first: a crash or a lost answer leaves a row whose idempotency key
    # and request find the same provider payment again (resume_authorization) instead of
    # holding money twice.
    payment = Payment.objects.create(
        organization=organization,
        provider=account.provider,
        account_id=account.account_id,
        idempotency_key=uuid.uuid4().hex,
        purpose=purpose,
        currency=account.currency,
        amount_authorized=amount,
        session=session,
        email=email,
        request={
            "metadata": {
                "organization": organization.pk,
                "purpose": purpose,
                **{key: str(value) for key, value in (metadata or {}).items()},
            },
            "payment_method": payment_method,
            "customer": customer,
        },
    )
    return _ask_authorization(gateway, payment)


def resume_authorization(payment_id: int) -> Payment:
    """Ask again for an authorization whose answer never came (same key: held once)."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.reference or payment.status != PaymentStatus.PENDING:
        return payment
    return _ask_authorization(gateway_of(payment), payment)[0]


def _ask_authorization(gateway: PaymentGateway, payment: Payment):
    """Send a payment's authorization; a refusal fails it, silence leaves it to be asked again."""
    request = payment.request
    try:
        intent = gateway.authorize(
            amount=payment.amount_authorized,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            metadata={"payment": payment.pk, **request.get("metadata", {})},
            payment_method=request.get("payment_method", ""),
            customer=request.get("customer", ""),
        )
    except ProviderError as error:
        if error.definite or error.declined:
            Payment.objects.filter(pk=payment.pk).update(
                status=PaymentStatus.FAILED,
                amount_authorized=ZERO,
                failure=error.message[:500],
                updated=timezone.now(),
            )
        else:
            # Stripe may hold the money already: pending, and asked again by the sweep.
            Payment.objects.filter(pk=payment.pk).update(
                failure=error.message[:500], updated=timezone.now()
            )
        payment.refresh_from_db()
        return payment, None
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        locked.reference = intent.reference
        _apply_intent(locked, intent)
    return locked, intent


def sync_payment(payment_id: int) -> Payment:
    """Read a payment back from its provider (after the payer's page returned, or a sweep)."""
    payment = Payment.objects.get(pk=payment_id)
    if not payment.reference:
        return payment
    intent = gateway_of(payment).retrieve(payment.reference)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment_id)
        _apply_intent(locked, intent)
    return locked


def capture_payment(payment_id: int, amount: Decimal) -> Payment:
    """Collect at most what is held (the rest is released); nothing at all cancels instead."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status == PaymentStatus.CAPTURED:
            return payment
        if payment.status != PaymentStatus.AUTHORIZED:
            raise PaymentRefused(
                _("Only an authorized payment can be captured; this one is: %(status)s.")
                % {"status": payment.get_status_display()}
            )
    amount = min(max(amount, ZERO), payment.amount_authorized)
    if amount == 0:
        return cancel_payment(payment_id)
    intent = gateway_of(payment).capture(
        payment.reference, amount=amount, idempotency_key=f"{payment.idempotency_key}-capture"
    )
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment_id)
        _apply_intent(locked, intent)
    return locked


def cancel_payment(payment_id: int, *, only_unconfirmed: bool = False) -> Payment:
    """Release what is held; a payment already released or collected stays as it is."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.status in (PaymentStatus.CANCELED, PaymentStatus.CAPTURED):
        return payment
    if only_unconfirmed and payment.status == PaymentStatus.AUTHORIZED:
        # The sweep's release of an abandoned payment: the payer confirmed meanwhile.
        return payment
    if not payment.reference:
        Payment.objects.filter(pk=payment_id).update(
            status=PaymentStatus.CANCELED, canceled_at=timezone.now(), updated=timezone.now()
        )
        payment.refresh_from_db()
        return payment
    intent = gateway_of(payment).cancel(
        payment.reference, idempotency_key=f"{payment.idempotency_key}-cancel"
    )
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment_id)
        _apply_intent(locked, intent)
    return locked


def refund_payment(
    payment_id: int, amount: Decimal, reason: str, user=None, *, request_key: str = ""
) -> PaymentRefund:
    """Pay back part or all of what was collected; never more than is left to pay back."""
    if request_key:
        # The same request again (a retry, a double click): the refund it made, unchanged.
        done = PaymentRefund.objects.filter(payment_id=payment_id, request_key=request_key).first()
        if done is not None:
            return done
    reason = reason.strip()
    if not reason:
        raise PaymentRefused(_("A refund needs a reason."))
    if Payment.objects.filter(pk=payment_id, provider=PaymentProvider.TERMINAL).exists():
        raise PaymentRefused(
            _("A payment made at a station's terminal is refunded by that terminal's provider.")
        )
    # Looked up first: without a provider nothing may be counted as paid back.
    gateway = gateway_of(Payment.objects.get(pk=payment_id))
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != PaymentStatus.CAPTURED:
            raise PaymentRefused(
                _("Only a captured payment can be refunded; this one is: %(status)s.")
                % {"status": payment.get_status_display()}
            )
        if amount <= 0 or amount > payment.refundable:
            raise PaymentRefused(
                _("A refund must be more than 0 and at most %(amount)s %(currency)s.")
                % {"amount": payment.refundable.quantize(CENT), "currency": payment.currency}
            )
        if not representable(amount, payment.currency):
            raise PaymentRefused(
                _("%(currency)s has no smaller unit than %(unit)s: round the amount.")
                % {"currency": payment.currency, "unit": smallest_unit(payment.currency)}
            )
        # Counted at once, before the provider is asked: two refunds at the same time can
        # never pay back more than was collected.
        if request_key:
            done = PaymentRefund.objects.filter(payment=payment, request_key=request_key).first()
            if done is not None:
                # Its twin got the lock first.
                return done
        refund = PaymentRefund.objects.create(
            payment=payment,
            idempotency_key=uuid.uuid4().hex,
            request_key=request_key,
            amount=amount,
            reason=reason[:255],
            created_by=user,
        )
        payment.amount_refunded += amount
        payment.save(update_fields=["amount_refunded", "updated"])
    return _ask_refund(gateway, refund)


def _ask_refund(gateway: PaymentGateway, refund: PaymentRefund) -> PaymentRefund:
    """Ask the provider for a counted refund; its answer decides, silence keeps it pending."""
    payment = refund.payment
    try:
        result = gateway.refund(
            payment.reference,
            amount=refund.amount,
            idempotency_key=refund.idempotency_key,
            reason=refund.reason,
        )
    except ProviderError as error:
        if error.definite:
            _refund_failed(refund, error.message)
        # Otherwise the provider may have paid it: it stays counted and pending, and the
        # sweep asks again with the same idempotency key, so it is never paid twice.
        raise
    PaymentRefund.objects.filter(pk=refund.pk).update(reference=result.reference)
    if result.status == RefundStatus.FAILED:
        _refund_failed(refund, result.failure)
    elif result.status == RefundStatus.SUCCEEDED:
        PaymentRefund.objects.filter(pk=refund.pk).update(status=RefundStatus.SUCCEEDED)
        _credit_refund(refund)
    refund.refresh_from_db()
    return refund


def retry_refund(refund_id: int) -> PaymentRefund:
    """Ask again for a refund whose answer never came (same idempotency key: paid once)."""
    refund = PaymentRefund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING or refund.reference:
        return refund
    return _ask_refund(gateway_of(refund.payment), refund)


def _credit_refund(refund: PaymentRefund) -> None:
    """A credit CDR of the refunded amount against the charge the payment paid for."""
    payment = refund.payment
    charge = payment.cdr
    if charge is None and payment.session_id is not None:
        charge = ChargeDetailRecord.objects.filter(
            session_id=payment.session_id, kind=CdrKind.CHARGE
        ).first()
    if charge is None:
        return
    if charge.currency != payment.currency:
        # A credit is in its charge's currency: another currency's amount cannot go there.
        logger.warning(
            "refund %s (%s) not credited against CDR %s (%s): currencies differ",
            refund.pk,
            payment.currency,
            charge.pk,
            charge.currency,
        )
        return
    credit = services.credit_charge(charge, refund.amount, f"Refund: {refund.reason}")
    if credit is not None:
        PaymentRefund.objects.filter(pk=refund.pk).update(credit=credit)


def _refund_failed(refund: PaymentRefund, message: str) -> None:
    """A refund the provider refused: its amount is refundable again (once)."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        row = PaymentRefund.objects.select_for_update().get(pk=refund.pk)
        if row.status == RefundStatus.FAILED:
            return
        row.status = RefundStatus.FAILED
        row.failure = (message or "refused")[:255]
        row.save(update_fields=["status", "failure"])
        payment.amount_refunded = max(payment.amount_refunded - row.amount, ZERO)
        payment.save(update_fields=["amount_refunded", "updated"])


def record_webhook(provider: str, body: bytes, headers) -> tuple[PaymentEvent | None, bool]:
    """Verify and apply a provider's event once; a replay finds its id and changes nothing."""
    event: WebhookEvent = gateway_for(provider).parse_webhook(body, headers)
    with transaction.atomic():
        payment = None
        if event.intent is not None:
            payment = (
                Payment.objects.select_for_update()
                .filter(provider=provider, reference=event.intent.reference)
                .first()
            )
        try:
            with transaction.atomic():
                row = PaymentEvent.objects.create(
                    provider=provider,
                    event_id=event.event_id,
                    type=event.type[:64],
                    payment=payment,
                    payload=event.payload,
                )
        except IntegrityError:
            return None, False
        if payment is not None:
            _apply_intent(payment, event.intent)
    return row, True


def _apply_intent(payment: Payment, intent: Intent) -> None:
    """Bring a locked payment row to what the provider says, never backwards."""
    now = timezone.now()
    if RANK[intent.status] < RANK[PaymentStatus(payment.status)]:
        return
    fields = {"status", "updated", "failure"}
    if intent.status == PaymentStatus.PENDING and intent.failure:
        payment.status = PaymentStatus.FAILED
    else:
        payment.status = intent.status
    payment.failure = intent.failure[:500]
    if intent.status == PaymentStatus.AUTHORIZED:
        payment.amount_authorized = intent.amount_authorized
        payment.authorized_at = payment.authorized_at or now
        fields |= {"amount_authorized", "authorized_at"}
    elif intent.status == PaymentStatus.CAPTURED:
        if intent.amount_captured is not None:
            # Whatever the provider collected, the row never claims more than was held.
            payment.amount_captured = min(intent.amount_captured, payment.amount_authorized)
        payment.captured_at = payment.captured_at or now
        fields |= {"amount_captured", "captured_at"}
    elif intent.status == PaymentStatus.CANCELED:
        payment.canceled_at = payment.canceled_at or now
        fields |= {"canceled_at"}
    if payment.reference:
        fields.add("reference")
    payment.save(update_fields=sorted(fields))


# OCPP 2.1 PaymentStatusEnumType → where the payment is.
SETTLEMENT_STATUS = {
    "Settled": PaymentStatus.CAPTURED,
    "Canceled": PaymentStatus.CANCELED,
    "Rejected": PaymentStatus.FAILED,
    "Failed": PaymentStatus.FAILED,
}


@dataclass(frozen=True)
class TerminalSettlement:
    """A station's payment terminal reporting a payment (OCPP 2.1 NotifySettlement)."""

    station_id: int
    psp_reference: str
    status: str
    amount: Decimal
    settled_at: datetime
    transaction_id: str = ""
    status_info: str = ""
    receipt_id: str = ""
    receipt_url: str = ""


def record_terminal_settlement(settlement: TerminalSettlement) -> Payment | None:
    """Keep a payment the station's own terminal took, on its session; once per PSP reference."""
    station = ChargingStation.objects.filter(pk=settlement.station_id).first()
    if station is None or station.organization_id is None:
        return None
    session = None
    if settlement.transaction_id:
        session = ChargingSession.objects.filter(
            station=station, transaction_id=settlement.transaction_id
        ).first()
    status = SETTLEMENT_STATUS[settlement.status]
    # The terminal names no currency: the organization's (its tariffs' and invoices').
    currency = station.organization.currency
    amount = max(settlement.amount, ZERO)
    settled = status == PaymentStatus.CAPTURED
    fields = {
        "organization_id": station.organization_id,
        "purpose": PaymentPurpose.AD_HOC,
        "status": status,
        "currency": currency,
        "amount_authorized": amount if settled else ZERO,
        "amount_captured": amount if settled else ZERO,
        "session": session,
        "failure": settlement.status_info[:500] if not settled else "",
        "receipt_id": settlement.receipt_id[:50],
        # Shown as a link to operators: an address of any other scheme is not kept.
        "receipt_url": _web_address(settlement.receipt_url)[:2000],
        "authorized_at": settlement.settled_at if settled else None,
        "captured_at": settlement.settled_at if settled else None,
        "canceled_at": settlement.settled_at if status == PaymentStatus.CANCELED else None,
    }
    reported = Payment.objects.filter(
        organization_id=station.organization_id,
        provider=PaymentProvider.TERMINAL,
        reference=settlement.psp_reference,
    )
    if not settlement.psp_reference:
        # Nothing to know a repeat by: every such report is kept.
        logger.warning("%s reported a settlement without a PSP reference", station.ocpp_id)
        return Payment.objects.create(
            provider=PaymentProvider.TERMINAL, idempotency_key=uuid.uuid4().hex, **fields
        )
    existing = reported.first()
    if existing is not None:
        # A repeated report (the station retried) changes nothing.
        return existing
    try:
        with transaction.atomic():
            return Payment.objects.create(
                provider=PaymentProvider.TERMINAL,
                reference=settlement.psp_reference,
                idempotency_key=uuid.uuid4().hex,
                **fields,
            )
    except IntegrityError:
        # The same report arrived twice at once: the first one is the payment.
        return reported.first()


def _web_address(text: str) -> str:
    """`text` if it is an http(s) URL, else nothing."""
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        return ""
    return text
