"""Stripe through its official library: PaymentIntents with manual capture, refunds, webhooks."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import stripe
from django.conf import settings

from billing.choices import PaymentStatus, RefundStatus
from billing.providers.base import (
    THREE_DECIMAL,
    ZERO_DECIMAL,
    Balance,
    Intent,
    PaymentGateway,
    PaymentsNotConfigured,
    Payout,
    ProviderError,
    RefundResult,
    WebhookEvent,
    WebhookSignatureInvalid,
    smallest_unit,
)

INTENT_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.CANCELED,
}
DEFINITE_ERRORS = (
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.IdempotencyError,
)
REFUND_STATUS = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in the smallest unit Stripe counts for the currency (cents, yen, fils)."""
    currency = currency.upper()
    if currency in THREE_DECIMAL:
        # Counted in thousandths whose last digit must be 0: hundredths, times ten.
        return 10 * int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return int((amount / smallest_unit(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(minor: int, currency: str) -> Decimal:
    """A Stripe amount back in the currency's units."""
    currency = currency.upper()
    if currency in THREE_DECIMAL:
        return Decimal(minor) / 1000
    return Decimal(minor) if currency in ZERO_DECIMAL else Decimal(minor) / 100


class StripeGateway(PaymentGateway):
    """Stripe for the platform's account or, with Connect, an organization's connected account."""

    provider = "stripe"

    def __init__(self, account_id: str = ""):
        if not settings.STRIPE_SECRET_KEY:
            raise PaymentsNotConfigured("STRIPE_SECRET_KEY is not set")
        addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses=addresses or {},
            max_network_retries=2,
        )
        self.account_id = account_id

    def _options(self, idempotency_key: str = "") -> dict:
        options = {}
        if self.account_id:
            options["stripe_account"] = self.account_id
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        return options

    def authorize(
        self, *, amount, currency, idempotency_key, metadata, payment_method="", customer=""
    ) -> Intent:
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "capture_method": "manual",
            "metadata": {key: str(value) for key, value in metadata.items()},
        }
        if customer:
            params["customer"] = customer
        if payment_method:
            # A saved card, charged while its holder is away.
            params.update(payment_method=payment_method, confirm=True, off_session=True)
        with _translated_errors():
            intent = self.client.v1.payment_intents.create(
                params=params, options=self._options(idempotency_key)
            )
        return intent_of(intent)

    def retrieve(self, reference) -> Intent:
        with _translated_errors():
            intent = self.client.v1.payment_intents.retrieve(reference, options=self._options())
        return intent_of(intent)

    def capture(self, reference, *, amount, idempotency_key) -> Intent:
        with _translated_errors():
            current = self.client.v1.payment_intents.retrieve(reference, options=self._options())
            intent = self.client.v1.payment_intents.capture(
                reference,
                params={"amount_to_capture": to_minor(amount, current.currency)},
                options=self._options(idempotency_key),
            )
        read = intent_of(intent)
        if read.status == PaymentStatus.CAPTURED and read.amount_captured is None:
            # Stripe answers amount_received; a server that leaves it out captured what we asked.
            read = Intent(**{**read.__dict__, "amount_captured": amount})
        return read

    def cancel(self, reference, *, idempotency_key) -> Intent:
        with _translated_errors():
            intent = self.client.v1.payment_intents.cancel(
                reference, options=self._options(idempotency_key)
            )
        return intent_of(intent)

    def refund(self, reference, *, amount, idempotency_key, reason) -> RefundResult:
        with _translated_errors():
            current = self.client.v1.payment_intents.retrieve(reference, options=self._options())
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": reference,
                    "amount": to_minor(amount, current.currency),
                    "metadata": {"reason": reason[:500]},
                },
                options=self._options(idempotency_key),
            )
        data = refund.to_dict()
        return RefundResult(
            reference=data["id"],
            status=REFUND_STATUS.get(data.get("status"), RefundStatus.PENDING),
            amount=from_minor(data["amount"], data["currency"]),
            failure=data.get("failure_reason") or "",
        )

    def payouts(self, limit) -> list[Payout]:
        with _translated_errors():
            answer = self.client.v1.payouts.list(params={"limit": limit}, options=self._options())
        rows = [
            Payout(
                reference=data["id"],
                amount=from_minor(data["amount"], data["currency"]),
                currency=data["currency"].upper(),
                status=data.get("status") or "",
                created=datetime.fromtimestamp(data["created"], UTC),
                arrival_date=datetime.fromtimestamp(data["arrival_date"], UTC).date(),
                failure=data.get("failure_message") or "",
            )
            for data in (payout.to_dict() for payout in answer.data)
        ]
        # Stripe lists newest first; a server that does not is sorted here.
        return sorted(rows, key=lambda p: (p.created, p.reference), reverse=True)[:limit]

    def balance(self) -> Balance:
        with _translated_errors():
            answer = self.client.v1.balance.retrieve(options=self._options()).to_dict()

        def per_currency(funds) -> dict:
            # Stripe answers a list of funds per currency; localstripe one object.
            if isinstance(funds, dict):
                funds = [funds]
            totals = {}
            for fund in funds or []:
                currency = fund["currency"].upper()
                totals[currency] = totals.get(currency, 0) + from_minor(fund["amount"], currency)
            return totals

        return Balance(
            available=per_currency(answer.get("available")),
            pending=per_currency(answer.get("pending")),
        )

    def parse_webhook(self, body, headers) -> WebhookEvent:
        # Stripe signs events of the platform's account and of connected accounts at two
        # endpoints with two secrets; either may deliver here.
        secrets = [
            secret
            for secret in (settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_CONNECT_WEBHOOK_SECRET)
            if secret
        ]
        if not secrets:
            raise PaymentsNotConfigured("STRIPE_WEBHOOK_SECRET is not set")
        event = None
        for secret in secrets:
            try:
                event = stripe.Webhook.construct_event(
                    body, headers.get("Stripe-Signature", ""), secret
                )
                break
            except (stripe.SignatureVerificationError, ValueError) as error:
                failure = error
        if event is None:
            raise WebhookSignatureInvalid(str(failure))
        data = event.to_dict()
        obj = (data.get("data") or {}).get("object") or {}
        intent = intent_of_data(obj) if obj.get("object") == "payment_intent" else None
        return WebhookEvent(event_id=data["id"], type=data["type"], payload=data, intent=intent)


def intent_of(intent) -> Intent:
    """Our reading of a Stripe PaymentIntent object."""
    return intent_of_data(intent.to_dict())


def intent_of_data(data: dict) -> Intent:
    """Our reading of a PaymentIntent as a plain dict (an API answer or a webhook's object)."""
    currency = data["currency"].upper()
    status = INTENT_STATUS.get(data.get("status"), PaymentStatus.PENDING)
    capturable = data.get("amount_capturable")
    if status == PaymentStatus.AUTHORIZED:
        held = from_minor(capturable if capturable else data["amount"], currency)
    else:
        held = from_minor(data["amount"], currency)
    received = data.get("amount_received")
    error = data.get("last_payment_error") or {}
    return Intent(
        reference=data["id"],
        status=status,
        currency=currency,
        amount_authorized=held,
        amount_captured=None if received is None else from_minor(received, currency),
        client_secret=data.get("client_secret") or "",
        failure=error.get("message") or "",
    )


class _translated_errors:
    """Turns the library's errors into ProviderError, keeping the bank's decline apart."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or not isinstance(error, stripe.StripeError):
            return False
        if isinstance(error, stripe.CardError):
            raise ProviderError(
                error.user_message or str(error), code=error.code or "", declined=True
            ) from error
        raise ProviderError(
            error.user_message or str(error) or type(error).__name__,
            code=error.code or "",
            # Stripe said no (4xx): nothing was done. No answer, or a 5xx: it may have been.
            definite=isinstance(error, DEFINITE_ERRORS),
        ) from error
