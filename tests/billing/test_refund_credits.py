"""Refunds take their amount off the session's charge as credit CDRs; invoices carry them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing import payments
from billing.choices import CdrKind, PaymentPurpose
from billing.invoicing import close_period
from billing.models import ChargeDetailRecord, InvoiceLine, PaymentAccount, PaymentRefund
from billing.services import credit_left, rate_session
from organizations.choices import Role
from sessions_app.models import ChargingSession
from sessions_app.selectors import cost_of, with_cost
from sessions_app.services import stop_billing
from tests.billing.test_rating import assign, element, finished_session, make_tariff
from tests.factories import MembershipFactory, UserFactory
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(org, station, stripe_fake):
    """A session rated 3.90 + 0.74 tax, its 4.64 paid through Stripe."""
    PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)
    assign(make_tariff(org, element(energy="0.39"), tax_rate="19"))
    session = finished_session(station, energy_wh=10_000)
    charge = rate_session(session.pk)
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("10"), purpose=PaymentPurpose.SESSION, session=session
    )
    stripe_fake.pay(payment.reference)
    payments.sync_payment(payment.pk)
    payment = payments.capture_payment(payment.pk, charge.total_incl_tax)
    return session, charge, payment


def credits_of(session):
    return list(
        ChargeDetailRecord.objects.filter(session=session, kind=CdrKind.CREDIT).order_by("pk")
    )


def test_a_partial_refund_writes_a_credit_of_that_amount_taxed_as_the_charge(paid):
    session, charge, payment = paid
    refund = payments.refund_payment(payment.pk, Decimal("1.19"), "Slow charging")

    [credit] = credits_of(session)
    assert refund.credit == credit
    assert credit.corrects == charge
    assert (credit.total_incl_tax, credit.tax_amount, credit.total_excl_tax) == (
        Decimal("-1.19"),
        Decimal("-0.19"),
        Decimal("-1.00"),
    )
    assert credit.reason == "Refund: Slow charging"
    assert credit_left(charge) == Decimal("3.45")


def test_the_session_costs_what_is_left_after_a_refund(paid):
    session, _, payment = paid
    payments.refund_payment(payment.pk, Decimal("1.64"), "Slow charging")

    priced = with_cost(ChargingSession.objects.filter(pk=session.pk)).get()
    assert cost_of(priced) == Decimal("3.00")


def test_refunds_and_a_billing_stop_never_credit_more_than_the_charge(paid):
    session, charge, payment = paid
    payments.refund_payment(payment.pk, Decimal("1.00"), "First")
    payments.refund_payment(payment.pk, Decimal("2.00"), "Second")

    stop_billing(session, user=UserFactory(username="dispatcher-ben"), reason="Broken plug")

    credits = credits_of(session)
    assert [c.total_incl_tax for c in credits] == [
        Decimal("-1.00"),
        Decimal("-2.00"),
        Decimal("-1.64"),
    ]
    assert sum(c.total_incl_tax for c in credits) == -charge.total_incl_tax
    assert credit_left(charge) == 0


def test_a_full_refund_after_a_billing_stop_writes_no_second_credit(paid):
    session, charge, payment = paid
    stop_billing(session, user=UserFactory(username="dispatcher-ben"), reason="Broken plug")

    refund = payments.refund_payment(payment.pk, charge.total_incl_tax, "Money back too")

    assert refund.credit is None
    assert len(credits_of(session)) == 1
    assert credit_left(charge) == 0


def test_a_refund_of_a_payment_without_a_charge_writes_no_credit(org, stripe_fake):
    PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)
    payment, _ = payments.authorize_payment(
        organization=org, amount=Decimal("9"), purpose=PaymentPurpose.SUBSCRIPTION
    )
    stripe_fake.pay(payment.reference)
    payments.sync_payment(payment.pk)
    payments.capture_payment(payment.pk, Decimal("9"))

    refund = payments.refund_payment(payment.pk, Decimal("9"), "Cancelled plan")

    assert refund.credit is None
    assert not ChargeDetailRecord.objects.filter(kind=CdrKind.CREDIT).exists()


def test_the_invoice_carries_the_refund_credit_named_after_its_session(org, paid):
    session, _, payment = paid
    payments.refund_payment(payment.pk, Decimal("1.19"), "Slow charging")

    close_period(org, session.start - timedelta(days=1), timezone.now() + timedelta(minutes=1))

    lines = list(InvoiceLine.objects.filter(cdr__session=session).order_by("pk"))
    assert [line.amount_incl_tax for line in lines] == [Decimal("4.64"), Decimal("-1.19")]
    assert lines[1].description.startswith("Credit for charging session at ")
    assert lines[1].description.endswith("10.000 kWh")
    assert sum(line.amount_incl_tax for line in lines) == Decimal("3.45")
    assert PaymentRefund.objects.get().credit.invoice_lines.get() == lines[1]


def test_the_payment_page_and_the_api_name_the_refunds_credit_record(org, paid):
    _, _, payment = paid
    refund = payments.refund_payment(payment.pk, Decimal("1.19"), "Slow charging")

    page = portal_client(org, Role.VIEWER).get(org_url(org, f"billing/payments/{payment.pk}/"))
    assert f"CDR {refund.credit_id} (-1.19 EUR)" in page.content.decode()
    api = APIClient()
    api.force_authenticate(MembershipFactory(organization=org, role=Role.VIEWER).user)
    answer = api.get(f"/api/v1/payment-refunds/{refund.pk}/")
    assert answer.json()["credit"] == refund.credit_id


def test_the_credits_of_a_whole_charge_carry_its_tax_exactly(paid):
    session, charge, payment = paid
    for amount in ("1.55", "1.55", "1.54"):
        payments.refund_payment(payment.pk, Decimal(amount), "In parts")

    credits = credits_of(session)
    assert sum(c.total_incl_tax for c in credits) == -charge.total_incl_tax
    assert sum(c.tax_amount for c in credits) == -charge.tax_amount
    assert sum(c.total_excl_tax for c in credits) == -charge.total_excl_tax
