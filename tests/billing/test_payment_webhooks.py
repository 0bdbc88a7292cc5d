"""Stripe's webhooks, as localstripe signs and sends them to our endpoint on a live server."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import requests
from django.urls import reverse

from billing import payments
from billing.choices import PaymentPurpose, PaymentStatus
from billing.models import Payment, PaymentAccount, PaymentEvent
from tests.stripefake import WEBHOOK_SECRET, wait_for


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict:
    """Headers of a delivery signed as Stripe documents it (t=..., v1=HMAC-SHA256)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={digest}", "Content-Type": "application/json"}


@pytest.fixture
def endpoint(live_server, stripe_fake, org):
    PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)
    url = live_server.url + reverse("payments:stripe-webhook")
    stripe_fake.send_webhooks_to(url)
    return url


def captured_at_stripe(org, stripe_fake) -> Payment:
    """A payment held by us, then captured on Stripe's side (from its dashboard, say)."""
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("30"), purpose=PaymentPurpose.AD_HOC
    )
    stripe_fake.pay(payment.reference)
    payments.sync_payment(payment.pk)
    answer = requests.post(
        f"{stripe_fake.url}/v1/payment_intents/{payment.reference}/capture",
        data={"amount_to_capture": 1800},
        auth=("sk_test_platform", ""),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return payment


@pytest.mark.django_db(transaction=True)
def test_a_signed_webhook_moves_the_payment_on(endpoint, stripe_fake, org):
    payment = captured_at_stripe(org, stripe_fake)
    event = wait_for(lambda: PaymentEvent.objects.filter(payment=payment).first())
    assert event is not None, "localstripe's payment_intent.succeeded never arrived"
    assert event.type == "payment_intent.succeeded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED


@pytest.mark.django_db(transaction=True)
def test_a_replayed_webhook_changes_nothing(endpoint, stripe_fake, org):
    payment = captured_at_stripe(org, stripe_fake)
    event = wait_for(lambda: PaymentEvent.objects.filter(payment=payment).first())
    assert event is not None
    before = Payment.objects.get(pk=payment.pk)
    body = json.dumps(event.payload).encode()
    answer = requests.post(endpoint, data=body, headers=signed(body), timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"received": True, "replay": True}
    assert PaymentEvent.objects.count() == 1
    after = Payment.objects.get(pk=payment.pk)
    assert (after.status, after.amount_captured, after.updated) == (
        before.status,
        before.amount_captured,
        before.updated,
    )


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_is_not_signed_with_our_secret_is_refused(endpoint, stripe_fake, org):
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("30"), purpose=PaymentPurpose.AD_HOC
    )
    forged = {
        "id": "evt_forged",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": payment.reference,
                "object": "payment_intent",
                "amount": 3000,
                "amount_received": 3000,
                "currency": "eur",
                "status": "succeeded",
            }
        },
    }
    body = json.dumps(forged).encode()
    for headers in (
        signed(body, secret="whsec_someone_else"),
        {"Content-Type": "application/json"},
        signed(body, at=int(time.time()) - 3600),
        {**signed(b"{}"), "Content-Type": "application/json"},
    ):
        answer = requests.post(endpoint, data=body, headers=headers, timeout=10)
        assert answer.status_code == 400, headers
    assert not PaymentEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert payment.amount_captured == 0


@pytest.mark.django_db(transaction=True)
def test_a_late_webhook_never_takes_a_payment_back(endpoint, stripe_fake, org):
    payment = captured_at_stripe(org, stripe_fake)
    wait_for(lambda: PaymentEvent.objects.filter(payment=payment).exists())
    stale = {
        "id": "evt_stale",
        "object": "event",
        "type": "payment_intent.amount_capturable_updated",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": payment.reference,
                "object": "payment_intent",
                "amount": 3000,
                "amount_capturable": 3000,
                "currency": "eur",
                "status": "requires_capture",
            }
        },
    }
    body = json.dumps(stale).encode()
    answer = requests.post(endpoint, data=body, headers=signed(body), timeout=10)
    assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED


def test_without_a_webhook_secret_deliveries_are_asked_again_later(client, settings, db):
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = b"{}"
    answer = client.post(reverse("payments:stripe-webhook"), body, content_type="application/json")
    assert answer.status_code == 503
    assert not PaymentEvent.objects.exists()


def test_a_delivery_signed_with_the_connect_endpoints_secret_is_read_too(client, db, org, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_CONNECT_WEBHOOK_SECRET = "whsec_connect_endpoint"
    event = {
        "id": "evt_connect",
        "object": "event",
        "type": "account.updated",
        "account": "acct_1Operator",
        "created": int(time.time()),
        "data": {"object": {"id": "acct_1Operator", "object": "account"}},
    }
    body = json.dumps(event).encode()

    for secret, expected in (("whsec_connect_endpoint", 200), ("whsec_someone_else", 400)):
        answer = client.post(
            reverse("payments:stripe-webhook"),
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signed(body, secret=secret)["Stripe-Signature"],
        )
        assert answer.status_code == expected
    assert list(PaymentEvent.objects.values_list("event_id", flat=True)) == ["evt_connect"]
