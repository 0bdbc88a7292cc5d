"""/api/v1/payments/, their refunds (over localstripe) and the payment account: roles, tenancy."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from billing import payments
from billing.choices import PaymentStatus, RefundStatus
from billing.models import Payment, PaymentAccount, PaymentRefund
from organizations.choices import Role
from tests.apiclients import client_as, client_for, key_client, member
from tests.billing.test_payments import authorized
from tests.factories import ChargingSessionFactory, ChargingStationFactory, make_api_key

pytestmark = pytest.mark.django_db

LIST = "/api/v1/payments/"
REFUNDS = "/api/v1/payment-refunds/"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def refund_url(payment) -> str:
    return f"{LIST}{payment.pk}/refund/"


def account_url(org) -> str:
    return f"/api/v1/organizations/{org.pk}/payment-account/"


def make_payment(org, **fields) -> Payment:
    """A payment row as the payment services leave it (no provider needed to read it)."""
    fields.setdefault("status", PaymentStatus.CAPTURED)
    fields.setdefault("amount_authorized", Decimal("20.00"))
    fields.setdefault("amount_captured", Decimal("20.00"))
    return Payment.objects.create(
        organization=org,
        provider="stripe",
        reference=f"pi_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
        purpose=fields.pop("purpose", "ad_hoc"),
        currency="EUR",
        **fields,
    )


@pytest.fixture
def account(org, stripe_fake):
    return PaymentAccount.objects.create(organization=org, currency="EUR", enabled=True)


@pytest.fixture
def captured(org, account, stripe_fake):
    """20 EUR collected through localstripe, nothing paid back yet."""
    return payments.capture_payment(authorized(org, stripe_fake).pk, Decimal("20"))


@pytest.fixture
def admin_api(org):
    return client_as(org, Role.ADMIN)


# --- refunds ----------------------------------------------------------------------------------


def test_an_admin_refunds_part_of_a_captured_payment_at_the_provider(
    org, captured, stripe_fake, admin_user
):
    response = client_for(admin_user).post(
        refund_url(captured), {"amount": "5.50", "reason": "Cable fault"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == RefundStatus.SUCCEEDED
    assert body["reference"].startswith("re_")
    assert (body["amount"], body["currency"], body["reason"]) == ("5.5000", "EUR", "Cable fault")
    assert (body["payment"], body["organization"]) == (captured.pk, org.pk)
    assert body["created_by"] == admin_user.username
    captured.refresh_from_db()
    assert captured.amount_refunded == Decimal("5.50")
    charge = stripe_fake.intent(captured.reference)["latest_charge"]
    assert 550 in [refund["amount"] for refund in charge["refunds"]["data"]]


def test_the_refunded_payment_answers_what_is_left_to_pay_back(org, captured, admin_api):
    admin_api.post(refund_url(captured), {"amount": "5", "reason": "Broken"}, format="json")

    body = admin_api.get(f"{LIST}{captured.pk}/").json()

    assert (body["amount_refunded"], body["refundable"]) == ("5.0000", "15.0000")
    assert "idempotency_key" not in body


def test_a_refund_of_more_than_is_left_is_a_conflict_and_pays_nothing_back(
    captured, admin_api, stripe_fake
):
    response = admin_api.post(
        refund_url(captured), {"amount": "20.01", "reason": "Too much"}, format="json"
    )

    assert response.status_code == 409
    assert "20.00 EUR" in response.json()["detail"]
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=captured.pk).amount_refunded == 0
    charge = stripe_fake.intent(captured.reference)["latest_charge"]
    assert charge["amount"] - charge["amount_refunded"] == 2000, "all 20 EUR still collected"


def test_a_payment_that_was_not_captured_cannot_be_refunded(org, account, stripe_fake, admin_api):
    held = authorized(org, stripe_fake)

    response = admin_api.post(refund_url(held), {"amount": "1", "reason": "Early"}, format="json")

    assert response.status_code == 409
    assert "captured" in response.json()["detail"]
    assert not PaymentRefund.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"amount", "reason"}),
        ({"amount": "-1", "reason": "Broken"}, {"amount"}),
        ({"amount": "0", "reason": "Broken"}, {"amount"}),
        ({"amount": "1.005", "reason": "Broken"}, {"amount"}),
        ({"amount": "lots", "reason": "Broken"}, {"amount"}),
        ({"amount": "1", "reason": "   "}, {"reason"}),
        ({"amount": "1", "reason": "x" * 256}, {"reason"}),
    ],
)
def test_an_invalid_refund_is_400_naming_the_fields_and_writes_nothing(
    org, admin_api, body, fields
):
    payment = make_payment(org)

    response = admin_api.post(refund_url(payment), body, format="json")

    assert response.status_code == 400
    assert set(response.json()) == fields
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).amount_refunded == 0


def test_a_provider_failure_is_502_and_the_amount_stays_refundable(captured, admin_api):
    # localstripe refuses a payment it does not know.
    Payment.objects.filter(pk=captured.pk).update(reference="pi_unknown")

    response = admin_api.post(
        refund_url(captured), {"amount": "5", "reason": "Refused upstream"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["detail"]
    assert Payment.objects.get(pk=captured.pk).amount_refunded == 0
    assert PaymentRefund.objects.get().status == RefundStatus.FAILED


def test_without_provider_keys_a_refund_is_refused_before_anything_is_written(
    org, admin_api, settings
):
    settings.STRIPE_SECRET_KEY = ""
    payment = make_payment(org)

    response = admin_api.post(refund_url(payment), {"amount": "5", "reason": "x"}, format="json")

    assert response.status_code == 409
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).amount_refunded == 0


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_only_admins_refund(org, role):
    payment = make_payment(org)

    response = client_as(org, role).post(
        refund_url(payment), {"amount": "5", "reason": "x"}, format="json"
    )

    assert response.status_code == 403
    assert not PaymentRefund.objects.exists()


def test_an_admin_api_key_refunds_without_naming_a_person(org, captured):
    _key, secret = make_api_key(org, role=Role.ADMIN, name="ERP")

    response = key_client(secret).post(
        refund_url(captured), {"amount": "2", "reason": "Goodwill"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["created_by"] is None


def test_an_outsider_cannot_see_or_refund_a_payment(org, other_org, outsider_user):
    payment = make_payment(org)
    outsider = client_for(outsider_user)

    assert outsider.get(f"{LIST}{payment.pk}/").status_code == 404
    response = outsider.post(refund_url(payment), {"amount": "5", "reason": "x"}, format="json")

    assert response.status_code == 404
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get(pk=payment.pk).amount_refunded == 0


# --- lists --------------------------------------------------------------------------------------


def test_the_list_shows_the_organizations_payments_only(org, other_org):
    ours = make_payment(org)
    make_payment(other_org)

    response = client_as(org).get(LIST)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ours.pk]


def test_the_list_filters_by_status_and_purpose(org):
    wanted = make_payment(org, purpose="session")
    make_payment(org, purpose="ad_hoc")
    make_payment(org, purpose="session", status=PaymentStatus.FAILED, amount_captured=0)

    response = client_as(org).get(LIST, {"status": "captured", "purpose": "session"})

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_the_list_refuses_an_unknown_status(org):
    response = client_as(org).get(LIST, {"status": "paid"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_the_list_sorts_by_the_captured_amount(org):
    small = make_payment(org, amount_captured=Decimal("3"))
    large = make_payment(org, amount_captured=Decimal("15"))

    response = client_as(org).get(LIST, {"ordering": "-amount_captured"})

    assert [row["id"] for row in response.json()["results"]] == [large.pk, small.pk]


def test_the_payment_list_keeps_its_query_budget(org, django_assert_max_num_queries):
    for _ in range(10):
        session = ChargingSessionFactory(station=ChargingStationFactory(organization=org))
        make_payment(org, session=session)
    api = client_as(org)

    with django_assert_max_num_queries(6):
        response = api.get(LIST)

    assert len(response.json()["results"]) == 10


def test_the_refund_list_filters_by_payment_and_keeps_its_query_budget(
    org, other_org, django_assert_max_num_queries
):
    wanted = make_payment(org)
    for payment in (wanted, wanted, make_payment(org), make_payment(other_org)):
        PaymentRefund.objects.create(
            payment=payment,
            idempotency_key=uuid.uuid4().hex,
            amount=Decimal("1"),
            reason="Broken",
            created_by=member((org, Role.ADMIN)),
        )
    api = client_as(org)

    with django_assert_max_num_queries(6):
        everything = api.get(REFUNDS).json()["results"]
    filtered = api.get(REFUNDS, {"payment": wanted.pk}).json()["results"]

    assert len(everything) == 3, "the outsider's refund is not listed"
    assert [row["payment"] for row in filtered] == [wanted.pk, wanted.pk]


def test_an_outsider_sees_no_refund(org, outsider_user):
    refund = PaymentRefund.objects.create(
        payment=make_payment(org), idempotency_key="k", amount=Decimal("1"), reason="Broken"
    )
    outsider = client_for(outsider_user)

    assert outsider.get(f"{REFUNDS}{refund.pk}/").status_code == 404
    assert outsider.get(REFUNDS).json()["results"] == []


# --- the payment account ----------------------------------------------------------------------


def test_the_account_reads_as_disabled_until_one_is_saved(org):
    response = client_as(org, Role.OPERATOR).get(account_url(org))

    assert response.status_code == 200
    assert response.json()["enabled"] is False
    assert not PaymentAccount.objects.exists()


def test_an_admin_sets_the_account_of_the_organization_in_the_url(org, admin_api):
    body = {
        "currency": "EUR",
        "enabled": True,
        # Read-only: the URL names the organization, the platform's staff the connected account.
        "organization": 999999,
        "account_id": "acct_1SomeoneElses",
    }

    first = admin_api.put(account_url(org), body, format="json")
    again = admin_api.put(account_url(org), {**body, "currency": "CHF"}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    account = PaymentAccount.objects.get()
    assert (account.organization, account.account_id, account.enabled) == (org, "", True)
    assert account.currency == "CHF"


def test_an_admin_cannot_name_a_connected_account_another_organization_has(
    org, other_org, admin_api
):
    PaymentAccount.objects.create(organization=other_org, account_id="acct_1Theirs")
    body = {"account_id": "acct_1Theirs", "currency": "EUR", "enabled": True}

    assert admin_api.put(account_url(org), body, format="json").status_code == 200

    assert PaymentAccount.objects.get(organization=org).account_id == ""


@pytest.mark.parametrize("value", ["euro", "XAU"])
def test_an_invalid_currency_is_400_and_nothing_is_saved(org, admin_api, value):
    body = {"currency": value, "enabled": True}

    response = admin_api.put(account_url(org), body, format="json")

    assert response.status_code == 400
    assert "currency" in response.json()
    assert not PaymentAccount.objects.exists()


def test_operators_read_the_account_and_only_admins_change_it(org):
    PaymentAccount.objects.create(organization=org, account_id="acct_1Old")
    body = {"account_id": "acct_1New", "currency": "EUR", "enabled": True}

    assert client_as(org, Role.VIEWER).get(account_url(org)).status_code == 403
    operator = client_as(org, Role.OPERATOR)
    assert operator.get(account_url(org)).json()["account_id"] == "acct_1Old"
    assert operator.put(account_url(org), body, format="json").status_code == 403
    assert PaymentAccount.objects.get().account_id == "acct_1Old"


def test_an_outsider_neither_reads_nor_sets_the_account(org, outsider_user):
    PaymentAccount.objects.create(organization=org, account_id="acct_1Ours")
    outsider = client_for(outsider_user)
    body = {"account_id": "acct_1Theirs", "currency": "EUR", "enabled": True}

    assert outsider.get(account_url(org)).status_code == 404
    assert outsider.put(account_url(org), body, format="json").status_code == 404
    assert PaymentAccount.objects.get().account_id == "acct_1Ours"


def test_a_refund_sent_twice_with_one_idempotency_key_pays_back_once(
    captured, admin_api, stripe_fake
):
    body = {"amount": "4.00", "reason": "Cable fault"}
    first = admin_api.post(
        refund_url(captured), body, format="json", HTTP_IDEMPOTENCY_KEY="erp-4711"
    )
    again = admin_api.post(
        refund_url(captured), body, format="json", HTTP_IDEMPOTENCY_KEY="erp-4711"
    )
    other = admin_api.post(
        refund_url(captured), body, format="json", HTTP_IDEMPOTENCY_KEY="erp-4712"
    )

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 201)
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert PaymentRefund.objects.count() == 2
    assert Payment.objects.get(pk=captured.pk).amount_refunded == Decimal("8.00")
