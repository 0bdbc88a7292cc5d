"""Payments through the official stripe library against localstripe, a real fake of Stripe."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import requests
from django.utils import timezone

from billing import payments, tasks
from billing.choices import PaymentPurpose, PaymentStatus, RefundStatus
from billing.models import Payment, PaymentAccount, PaymentRefund
from billing.providers import PaymentsNotConfigured, ProviderError, RefundResult, StripeGateway
from billing.providers.stripe_adapter import from_minor, to_minor

DECLINED_AT_CHARGE = "4000000000000341"

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(org, stripe_fake):
    return PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)


def authorized(org, stripe_fake, amount="25.00", card="4242424242424242"):
    """A payment the payer confirmed with a card on the hosted page."""
    payment, intent = payments.authorize_payment(
        organization=org, amount=Decimal(amount), purpose=PaymentPurpose.AD_HOC
    )
    assert intent.client_secret, "the payer's page needs the client secret"
    stripe_fake.pay(payment.reference, card)
    return payments.sync_payment(payment.pk)


def test_an_authorization_is_waiting_for_the_payer_until_the_card_is_confirmed(
    org, account, stripe_fake
):
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("25.00"), purpose=PaymentPurpose.AD_HOC
    )
    assert payment.status == PaymentStatus.PENDING
    assert payment.reference.startswith("pi_")
    held = stripe_fake.intent(payment.reference)
    assert (held["amount"], held["currency"], held["capture_method"]) == (2500, "eur", "manual")
    assert held["metadata"]["payment"] == str(payment.pk)


def test_a_confirmed_card_holds_the_amount_and_nothing_is_collected_yet(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    assert payment.status == PaymentStatus.AUTHORIZED
    assert payment.amount_authorized == Decimal("25.00")
    assert payment.amount_captured == 0
    assert stripe_fake.intent(payment.reference)["status"] == "requires_capture"


def test_capture_collects_the_final_amount_and_releases_the_rest(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    captured = payments.capture_payment(payment.pk, Decimal("12.34"))
    assert captured.status == PaymentStatus.CAPTURED
    assert captured.amount_captured == Decimal("12.34")
    at_stripe = stripe_fake.intent(payment.reference)
    assert at_stripe["status"] == "succeeded"
    charge = at_stripe["latest_charge"]
    assert charge["amount"] - charge["amount_refunded"] == 1234


def test_capture_never_collects_more_than_was_held(org, account, stripe_fake):
    payment = authorized(org, stripe_fake, amount="20.00")
    captured = payments.capture_payment(payment.pk, Decimal("31.50"))
    assert captured.amount_captured == Decimal("20.00")
    charge = stripe_fake.intent(payment.reference)["latest_charge"]
    assert charge["amount"] - charge["amount_refunded"] == 2000


def test_capturing_nothing_releases_the_hold(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    released = payments.capture_payment(payment.pk, Decimal("0"))
    assert released.status == PaymentStatus.CANCELED
    assert released.amount_captured == 0
    assert stripe_fake.intent(payment.reference)["status"] == "canceled"


def test_a_declined_card_holds_nothing_and_nothing_can_be_captured(org, account, stripe_fake):
    payment = authorized(org, stripe_fake, card=DECLINED_AT_CHARGE)
    assert payment.status == PaymentStatus.FAILED
    assert "declined" in payment.failure
    with pytest.raises(payments.PaymentRefused):
        payments.capture_payment(payment.pk, Decimal("5"))
    assert stripe_fake.intent(payment.reference)["status"] == "requires_payment_method"
    assert Payment.objects.get(pk=payment.pk).amount_captured == 0


def test_cancel_releases_the_hold(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    released = payments.cancel_payment(payment.pk)
    assert released.status == PaymentStatus.CANCELED
    assert released.canceled_at is not None
    assert stripe_fake.intent(payment.reference)["status"] == "canceled"


def test_a_canceled_payment_is_never_captured_afterwards(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    payments.cancel_payment(payment.pk)
    with pytest.raises(payments.PaymentRefused):
        payments.capture_payment(payment.pk, Decimal("10"))
    assert stripe_fake.intent(payment.reference)["status"] == "canceled"


def test_capturing_twice_collects_once(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    payments.capture_payment(payment.pk, Decimal("10"))
    again = payments.capture_payment(payment.pk, Decimal("15"))
    assert again.amount_captured == Decimal("10")
    charge = stripe_fake.intent(payment.reference)["latest_charge"]
    assert charge["amount"] - charge["amount_refunded"] == 1000


def test_a_partial_refund_pays_back_part_and_the_rest_stays_refundable(
    org, account, stripe_fake, admin_user
):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    refund = payments.refund_payment(payment.pk, Decimal("5.50"), "Cable fault", admin_user)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.reference.startswith("re_")
    assert refund.created_by == admin_user
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("5.50")
    assert payment.refundable == Decimal("14.50")
    charge = stripe_fake.intent(payment.reference)["latest_charge"]
    refunded = [r["amount"] for r in charge["refunds"]["data"]]
    assert 550 in refunded


def test_a_refund_is_never_more_than_what_is_left_to_pay_back(org, account, stripe_fake):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    payments.refund_payment(payment.pk, Decimal("15"), "Partly broken")
    with pytest.raises(payments.PaymentRefused):
        payments.refund_payment(payment.pk, Decimal("5.01"), "Too much")
    assert PaymentRefund.objects.filter(payment=payment).count() == 1
    assert Payment.objects.get(pk=payment.pk).amount_refunded == Decimal("15")


def test_a_refund_needs_a_reason_and_a_captured_payment(org, account, stripe_fake):
    payment = authorized(org, stripe_fake)
    with pytest.raises(payments.PaymentRefused):
        payments.refund_payment(payment.pk, Decimal("1"), "Not captured yet")
    captured = payments.capture_payment(payment.pk, Decimal("3"))
    with pytest.raises(payments.PaymentRefused):
        payments.refund_payment(captured.pk, Decimal("1"), "   ")
    assert not PaymentRefund.objects.exists()


def test_a_refund_the_provider_refuses_is_refundable_again(org, account, stripe_fake):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    # Stripe answers 404 for a payment it does not know: a definite refusal.
    Payment.objects.filter(pk=payment.pk).update(reference="pi_unknown")
    with pytest.raises(ProviderError):
        payments.refund_payment(payment.pk, Decimal("5"), "Refused upstream")
    payment.refresh_from_db()
    assert payment.amount_refunded == 0
    assert PaymentRefund.objects.get().status == RefundStatus.FAILED


def test_an_organization_without_a_payment_account_takes_no_payments(org, stripe_fake):
    with pytest.raises(PaymentsNotConfigured):
        payments.authorize_payment(
            organization=org, amount=Decimal("5"), purpose=PaymentPurpose.AD_HOC
        )
    assert not Payment.objects.exists()


def test_without_the_platforms_key_payments_are_off(org, account, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentsNotConfigured):
        payments.authorize_payment(
            organization=org, amount=Decimal("5"), purpose=PaymentPurpose.AD_HOC
        )
    assert not Payment.objects.exists()


def test_a_disabled_account_takes_no_payments(org, account):
    account.enabled = False
    account.save()
    with pytest.raises(PaymentsNotConfigured):
        payments.authorize_payment(
            organization=org, amount=Decimal("5"), purpose=PaymentPurpose.AD_HOC
        )


def test_every_call_that_moves_money_names_the_connected_account_and_an_idempotency_key(
    org, account, stripe_fake
):
    account.account_id = "acct_1Operator"
    account.save()
    sent = []
    original = requests.Session.request

    def recording(session, method, url, **kwargs):
        sent.append((method.upper(), url.split("/v1/", 1)[-1], dict(kwargs.get("headers") or {})))
        return original(session, method, url, **kwargs)

    with mock.patch.object(requests.Session, "request", recording):
        payment = authorized(org, stripe_fake)
        payments.capture_payment(payment.pk, Decimal("10"))
        payments.refund_payment(payment.pk, Decimal("2"), "Test")
    ours = [
        (method, path, headers) for method, path, headers in sent if "Stripe-Account" in headers
    ]
    moving = [(path, h) for method, path, h in ours if method == "POST"]
    assert [path.rsplit("/", 1)[-1] for path, _ in moving] == [
        "payment_intents",
        "capture",
        "refunds",
    ]
    assert {h["Stripe-Account"] for _, _, h in ours} == {"acct_1Operator"}
    keys = [h.get("Idempotency-Key") for _, h in moving]
    assert keys[0] == payment.idempotency_key
    assert keys[1] == f"{payment.idempotency_key}-capture"
    assert keys[2] == PaymentRefund.objects.get().idempotency_key


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "back"),
    [
        (Decimal("12.34"), "EUR", 1234, Decimal("12.34")),
        (Decimal("0.005"), "EUR", 1, Decimal("0.01")),
        (Decimal("1500"), "JPY", 1500, Decimal("1500")),
        (Decimal("99.99"), "sek", 9999, Decimal("99.99")),
    ],
)
def test_amounts_go_to_stripe_in_the_currencys_smallest_unit(amount, currency, minor, back):
    assert to_minor(amount, currency) == minor
    assert from_minor(minor, currency) == back


def test_the_sweep_reads_back_a_payment_whose_webhook_never_came(org, account, stripe_fake):
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("25"), purpose=PaymentPurpose.AD_HOC
    )
    stripe_fake.pay(payment.reference)
    Payment.objects.filter(pk=payment.pk).update(updated=timezone.now() - timedelta(minutes=11))
    assert tasks.reconcile_payments() == 1
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.AUTHORIZED


def test_the_sweep_leaves_a_payment_heard_of_recently_alone(org, account, stripe_fake):
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("25"), purpose=PaymentPurpose.AD_HOC
    )
    stripe_fake.pay(payment.reference)
    assert tasks.reconcile_payments() == 0
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_the_sweep_releases_a_hold_whose_payer_walked_away(org, account, stripe_fake, settings):
    settings.PAYMENT_PENDING_MINUTES = 30
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("25"), purpose=PaymentPurpose.AD_HOC
    )
    long_ago = timezone.now() - timedelta(minutes=31)
    Payment.objects.filter(pk=payment.pk).update(created=long_ago, updated=long_ago)
    assert tasks.reconcile_payments() == 1
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELED
    assert stripe_fake.intent(payment.reference)["status"] == "canceled"


def test_the_sweep_never_releases_an_authorized_hold(org, account, stripe_fake, settings):
    payment = authorized(org, stripe_fake)
    long_ago = timezone.now() - timedelta(hours=5)
    Payment.objects.filter(pk=payment.pk).update(created=long_ago, updated=long_ago)
    tasks.reconcile_payments()
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.AUTHORIZED
    assert stripe_fake.intent(payment.reference)["status"] == "requires_capture"


def test_a_refund_stripe_answers_failed_is_refundable_again(org, account, stripe_fake, monkeypatch):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    monkeypatch.setattr(
        StripeGateway,
        "refund",
        lambda self, reference, **kw: RefundResult(
            "re_failed", RefundStatus.FAILED, kw["amount"], "lost_card"
        ),
    )

    refund = payments.refund_payment(payment.pk, Decimal("5"), "Broken plug")

    assert (refund.status, refund.failure, refund.reference) == (
        RefundStatus.FAILED,
        "lost_card",
        "re_failed",
    )
    assert Payment.objects.get(pk=payment.pk).amount_refunded == 0
    assert refund.credit is None


def test_a_refund_stripe_never_answered_stays_counted_and_the_sweep_asks_again_once(
    org, account, stripe_fake, settings
):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing answers there

    with pytest.raises(ProviderError) as raised:
        payments.refund_payment(payment.pk, Decimal("3"), "Broken plug")
    assert not raised.value.definite
    refund = PaymentRefund.objects.get()
    assert (refund.status, refund.reference) == (RefundStatus.PENDING, "")
    assert Payment.objects.get(pk=payment.pk).amount_refunded == Decimal("3")

    settings.STRIPE_API_BASE = reachable
    PaymentRefund.objects.filter(pk=refund.pk).update(
        created=timezone.now() - timedelta(minutes=11)
    )
    tasks.reconcile_payments()
    tasks.reconcile_payments()

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.reference.startswith("re_")
    charge = stripe_fake.intent(payment.reference)["latest_charge"]
    assert [r["amount"] for r in charge["refunds"]["data"]].count(300) == 1
    assert Payment.objects.get(pk=payment.pk).amount_refunded == Decimal("3")


def test_a_refund_finer_than_the_currencys_unit_is_refused(org, account, stripe_fake):
    payment = payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))
    with pytest.raises(payments.PaymentRefused):
        payments.refund_payment(payment.pk, Decimal("1.005"), "Rounding")
    assert not PaymentRefund.objects.exists()


def test_later_calls_go_to_the_account_a_payment_was_made_on(org, account, stripe_fake):
    account.account_id = "acct_1First"
    account.save()
    payment = authorized(org, stripe_fake)
    account.account_id = "acct_1Second"
    account.save()
    assert payments.gateway_of(payment).account_id == "acct_1First"


def test_an_authorization_whose_answer_never_came_is_asked_again_with_the_same_key(
    org, account, stripe_fake, settings
):
    reachable = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing answers there
    payment, intent = payments.authorize_payment(
        organization=org, amount=Decimal("25"), purpose=PaymentPurpose.AD_HOC
    )
    assert intent is None
    assert (payment.status, payment.reference) == (PaymentStatus.PENDING, "")
    assert payment.amount_authorized == Decimal("25")

    settings.STRIPE_API_BASE = reachable
    Payment.objects.filter(pk=payment.pk).update(created=timezone.now() - timedelta(minutes=11))
    tasks.reconcile_payments()

    payment.refresh_from_db()
    assert payment.reference.startswith("pi_")
    at_stripe = stripe_fake.intent(payment.reference)
    assert (at_stripe["amount"], at_stripe["metadata"]["payment"]) == (2500, str(payment.pk))


def test_a_declined_saved_card_fails_the_authorization_at_once(org, account, stripe_fake):
    card = stripe_fake.card(DECLINED_AT_CHARGE)
    payment, intent = payments.authorize_payment(
        organization=org,
        amount=Decimal("25"),
        purpose=PaymentPurpose.SESSION,
        payment_method=card,
    )
    assert intent is None
    assert payment.status == PaymentStatus.FAILED
    assert payment.amount_authorized == 0
