"""Portal: the payments list (filters, sorting, CSV), a payment's page, refunds over localstripe,
and the payment account, for each role and for an outsider."""

import csv
import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import payments
from billing.choices import PaymentStatus, RefundStatus
from billing.models import Payment, PaymentAccount, PaymentEvent, PaymentRefund
from organizations.choices import Role
from tests.billing.test_payments import authorized
from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

PAYMENTS = "billing/payments/"
EXPORT = "billing/payments/export.csv"
ACCOUNT = "billing/payment-account/"
# 09:00 in Berlin on March 2nd and 3rd.
MAR_2 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MAR_3 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def make_payment(org, *, created=None, **fields) -> Payment:
    """A payment row as the payment services leave it (no provider needed to show it)."""
    fields.setdefault("status", PaymentStatus.CAPTURED)
    fields.setdefault("amount_authorized", Decimal("20.00"))
    fields.setdefault("amount_captured", Decimal("20.00"))
    payment = Payment.objects.create(
        organization=org,
        provider="stripe",
        reference=f"pi_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
        purpose=fields.pop("purpose", "ad_hoc"),
        currency="EUR",
        **fields,
    )
    if created is not None:
        Payment.objects.filter(pk=payment.pk).update(created=created)
        payment.refresh_from_db()
    return payment


def page(org, payment, suffix="") -> str:
    return org_url(org, f"{PAYMENTS}{payment.pk}/{suffix}")


def listed(response) -> list[int]:
    return [payment.pk for payment in response.context["payments"]]


@pytest.fixture
def account(org, stripe_fake):
    return PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)


@pytest.fixture
def captured(org, account, stripe_fake):
    """20 EUR collected through localstripe, nothing paid back yet."""
    return payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))


# --- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_sees_the_payments_under_the_billing_tab(org, other_org, role):
    ours = make_payment(org)
    make_payment(other_org)

    response = portal_client(org, role).get(org_url(org, PAYMENTS))

    assert response.status_code == 200
    assert listed(response) == [ours.pk]
    html = response.content.decode()
    assert f'href="{org_url(org, PAYMENTS)}" aria-current="page"' in html
    assert page(org, ours) in html


def test_the_list_filters_by_status_and_purpose(org):
    wanted = make_payment(org, purpose="session")
    make_payment(org, purpose="ad_hoc")
    make_payment(org, purpose="session", status=PaymentStatus.FAILED, amount_captured=0)

    response = portal_client(org).get(
        org_url(org, PAYMENTS), {"status": "captured", "purpose": "session"}
    )

    assert listed(response) == [wanted.pk]
    assert "1 payment matches these filters." in response.content.decode()


def test_the_list_filters_by_the_organizations_local_days(org):
    org.timezone = "Europe/Berlin"
    org.save()
    # 00:30 on March 3rd in Berlin, still March 2nd in UTC.
    just_after_midnight = make_payment(org, created=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    make_payment(org, created=MAR_2)

    response = portal_client(org).get(
        org_url(org, PAYMENTS), {"date_from": "2026-03-03", "date_to": "2026-03-03"}
    )

    assert listed(response) == [just_after_midnight.pk]


def test_an_invalid_filter_is_400_and_says_which(org):
    response = portal_client(org).get(org_url(org, PAYMENTS), {"status": "paid"})

    assert response.status_code == 400
    assert "Some filters are not valid" in response.content.decode()


def test_the_list_sorts_by_its_column_headers(org):
    small = make_payment(org, amount_captured=Decimal("3"))
    large = make_payment(org, amount_captured=Decimal("15"))
    client = portal_client(org)

    descending = client.get(org_url(org, PAYMENTS), {"ordering": "-amount_captured"})
    ascending = client.get(org_url(org, PAYMENTS), {"ordering": "amount_captured"})

    assert listed(descending) == [large.pk, small.pk]
    assert listed(ascending) == [small.pk, large.pk]


def test_the_list_keeps_its_query_budget(org, django_assert_max_num_queries):
    for _ in range(12):
        session = ChargingSessionFactory(station=ChargingStationFactory(organization=org))
        make_payment(org, session=session)
    client = portal_client(org)
    client.get(org_url(org, PAYMENTS))  # warms the session and the user's preferences

    with django_assert_max_num_queries(12):
        response = client.get(org_url(org, PAYMENTS))

    assert len(listed(response)) == 12


def test_the_csv_export_has_the_filtered_payments_in_the_lists_order(org, other_org):
    make_payment(org, created=MAR_2, amount_captured=Decimal("5"))
    make_payment(org, created=MAR_3, amount_captured=Decimal("7.5"))
    make_payment(org, status=PaymentStatus.FAILED, amount_captured=0)
    make_payment(other_org)

    response = portal_client(org).get(
        org_url(org, EXPORT), {"status": "captured", "ordering": "amount_captured"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["amount_captured"] for row in rows] == ["5.0000", "7.5000"]
    assert rows[0]["created"] == "2026-03-02T08:00:00+00:00"


def test_the_csv_export_refuses_an_invalid_filter(org):
    response = portal_client(org).get(org_url(org, EXPORT), {"date_from": "yesterday"})

    assert response.status_code == 400


def test_an_outsider_gets_404_for_the_list_and_the_export(org, outsider_user, client):
    make_payment(org)
    client.force_login(outsider_user)

    assert client.get(org_url(org, PAYMENTS)).status_code == 404
    assert client.get(org_url(org, EXPORT)).status_code == 404


# --- a payment's page -------------------------------------------------------------------------


def test_the_page_shows_amounts_session_events_and_refunds(org):
    session = ChargingSessionFactory(station=ChargingStationFactory(organization=org))
    payment = make_payment(org, session=session, amount_refunded=Decimal("4.00"))
    PaymentRefund.objects.create(
        payment=payment,
        idempotency_key=uuid.uuid4().hex,
        amount=Decimal("4.00"),
        reason="Cable fault",
        status=RefundStatus.SUCCEEDED,
    )
    PaymentEvent.objects.create(
        provider="stripe", event_id="evt_1", type="payment_intent.succeeded", payment=payment
    )

    response = portal_client(org).get(page(org, payment))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd data-amount="captured">20.00 EUR</dd>' in html
    assert '<dd data-amount="refundable">16.00 EUR</dd>' in html
    assert org_url(org, f"sessions/{session.pk}/") in html
    assert "Cable fault" in html
    assert "evt_1" in html and "payment_intent.succeeded" in html


@pytest.mark.parametrize(("role", "form"), [(r, r in (Role.ADMIN, Role.OWNER)) for r in ROLES])
def test_only_admins_get_the_refund_form(org, role, form):
    payment = make_payment(org)

    response = portal_client(org, role).get(page(org, payment))

    assert response.status_code == 200
    assert (page(org, payment, "refund/") in response.content.decode()) is form


def test_a_payment_of_another_organization_is_404(org, other_org):
    theirs = make_payment(other_org)

    response = portal_client(org, Role.OWNER).get(org_url(org, f"{PAYMENTS}{theirs.pk}/"))

    assert response.status_code == 404


# --- refunds ----------------------------------------------------------------------------------


def test_an_admin_refunds_part_of_a_payment_at_the_provider(org, captured, stripe_fake):
    client = portal_client(org, Role.ADMIN)

    response = client.post(
        page(org, captured, "refund/"), {"amount": "7.25", "reason": "Cable fault"}, follow=True
    )

    assert response.redirect_chain == [(page(org, captured), 302)]
    assert "7.25 EUR paid back." in response.content.decode()
    refund = PaymentRefund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (
        Decimal("7.25"),
        RefundStatus.SUCCEEDED,
        "Cable fault",
    )
    assert refund.created_by == response.wsgi_request.user
    assert Payment.objects.get(pk=captured.pk).amount_refunded == Decimal("7.25")
    charge = stripe_fake.intent(captured.reference)["latest_charge"]
    assert 725 in [r["amount"] for r in charge["refunds"]["data"]]


def test_a_refund_of_more_than_is_left_is_a_form_error_and_pays_nothing(org, captured):
    response = portal_client(org, Role.ADMIN).post(
        page(org, captured, "refund/"), {"amount": "20.01", "reason": "Too much"}
    )

    assert response.status_code == 400
    assert "A refund must be more than 0 and at most 20.00 EUR." in response.content.decode()
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=captured.pk).amount_refunded == 0


def test_an_invalid_refund_form_is_400_and_writes_nothing(org):
    payment = make_payment(org)

    response = portal_client(org, Role.ADMIN).post(
        page(org, payment, "refund/"), {"amount": "-3", "reason": ""}
    )

    assert response.status_code == 400
    form = response.context["refund_form"]
    assert set(form.errors) == {"amount", "reason"}
    assert not PaymentRefund.objects.exists()


def test_a_provider_failure_keeps_what_was_typed_and_the_amount_refundable(org, captured):
    # localstripe refuses a payment it does not know.
    Payment.objects.filter(pk=captured.pk).update(reference="pi_unknown")

    response = portal_client(org, Role.ADMIN).post(
        page(org, captured, "refund/"), {"amount": "6.40", "reason": "Refused upstream"}
    )

    assert response.status_code == 502
    html = response.content.decode()
    assert "The payment provider refused the refund" in html
    assert 'value="6.40"' in html and 'value="Refused upstream"' in html
    assert Payment.objects.get(pk=captured.pk).amount_refunded == 0
    assert PaymentRefund.objects.get().status == RefundStatus.FAILED


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_viewers_and_operators_cannot_refund(org, role):
    payment = make_payment(org)

    response = portal_client(org, role).post(
        page(org, payment, "refund/"), {"amount": "5", "reason": "x"}
    )

    assert response.status_code == 403
    assert not PaymentRefund.objects.exists()


def test_an_outsider_can_neither_see_nor_refund_a_payment(org, outsider_user, client):
    payment = make_payment(org)
    client.force_login(outsider_user)

    assert client.get(page(org, payment)).status_code == 404
    response = client.post(page(org, payment, "refund/"), {"amount": "5", "reason": "x"})

    assert response.status_code == 404
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).amount_refunded == 0


# --- the payment account ----------------------------------------------------------------------


def test_an_admin_saves_the_payment_account_but_not_its_connected_account(org):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, ACCOUNT),
        {"account_id": "acct_1SomeoneElses", "currency": "EUR", "enabled": "on"},
    )

    assert response.status_code == 302
    account = PaymentAccount.objects.get()
    assert (account.organization, account.account_id, account.enabled) == (org, "", True)


def test_an_invalid_currency_is_a_form_error_and_nothing_is_saved(org):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, ACCOUNT), {"currency": "XAU", "enabled": "on"}
    )

    assert response.status_code == 400
    assert "currency" in response.context["form"].errors
    assert not PaymentAccount.objects.exists()


def test_an_operator_reads_the_account_without_a_form_and_cannot_change_it(org):
    PaymentAccount.objects.create(organization=org, account_id="acct_1Old")
    client = portal_client(org, Role.OPERATOR)

    shown = client.get(org_url(org, ACCOUNT))
    posted = client.post(org_url(org, ACCOUNT), {"account_id": "acct_1New", "currency": "EUR"})

    assert shown.status_code == 200
    assert "form" not in shown.context and "acct_1Old" in shown.content.decode()
    assert posted.status_code == 403
    assert PaymentAccount.objects.get().account_id == "acct_1Old"


def test_a_viewer_does_not_see_the_account(org):
    assert portal_client(org, Role.VIEWER).get(org_url(org, ACCOUNT)).status_code == 403


def test_an_outsider_neither_reads_nor_sets_the_account(org, outsider_user, client):
    client.force_login(outsider_user)

    assert client.get(org_url(org, ACCOUNT)).status_code == 404
    response = client.post(org_url(org, ACCOUNT), {"account_id": "acct_1X", "currency": "EUR"})

    assert response.status_code == 404
    assert not PaymentAccount.objects.exists()


def test_the_account_page_says_when_the_platform_has_no_provider_keys(org, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = portal_client(org, Role.ADMIN)
    assert "has no payment provider keys yet" in client.get(org_url(org, ACCOUNT)).content.decode()
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    assert "has no payment provider keys" not in client.get(org_url(org, ACCOUNT)).content.decode()


def test_a_double_clicked_refund_form_pays_back_once(org, captured):
    client = portal_client(org, Role.ADMIN)
    form = client.get(page(org, captured)).context["refund_form"]
    key = form["request_key"].initial
    sent = {"amount": "3.00", "reason": "Double click", "request_key": key}

    first = client.post(page(org, captured, "refund/"), sent)
    second = client.post(page(org, captured, "refund/"), sent)

    assert (first.status_code, second.status_code) == (302, 302)
    assert PaymentRefund.objects.count() == 1
    assert Payment.objects.get(pk=captured.pk).amount_refunded == Decimal("3.00")
