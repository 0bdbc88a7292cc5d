"""The organization's balance and payouts, read live from Stripe (localstripe) in portal and API."""

from decimal import Decimal

import pytest
import requests
from rest_framework.test import APIClient

from billing.models import PaymentAccount
from organizations.choices import Role
from tests.factories import MembershipFactory
from tests.portalclients import org_url, portal_client
from tests.stripefake import SECRET_KEY

pytestmark = pytest.mark.django_db
PAGE = "billing/payouts/"


def paid_out(stripe_fake, amount: int, status: str) -> str:
    """A payout Stripe made to the account's bank; its id."""
    answer = requests.post(
        f"{stripe_fake.url}/v1/payouts",
        data={"amount": amount, "currency": "eur", "status": status},
        auth=(SECRET_KEY, ""),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def api_as(org, role):
    client = APIClient()
    client.force_authenticate(MembershipFactory(organization=org, role=role).user)
    return client


@pytest.fixture
def account(org, stripe_fake):
    # Its own connected account: localstripe keeps one set of payouts, ours for these tests.
    return PaymentAccount.objects.create(
        organization=org, account_id="acct_1Own", currency="EUR", enabled=True
    )


def test_operators_see_the_latest_payouts_with_their_status(org, account, stripe_fake):
    first = paid_out(stripe_fake, 12_345, "paid")
    second = paid_out(stripe_fake, 500, "failed")

    page = portal_client(org, Role.OPERATOR).get(org_url(org, PAGE))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-payout="{first}"' in html
    assert "123.45 EUR" in html
    assert f'data-payout="{second}"' in html
    assert "The bank could not process this payout." in html


def test_the_api_answers_the_balance_and_the_payouts_newest_first(org, account, stripe_fake):
    first = paid_out(stripe_fake, 12_345, "paid")
    second = paid_out(stripe_fake, 500, "pending")

    answer = api_as(org, Role.OPERATOR).get(f"/api/v1/organizations/{org.pk}/payouts/")

    assert answer.status_code == 200
    data = answer.json()
    assert (data["configured"], data["own_account"]) == (True, True)
    assert [line["currency"] for line in data["balance"]] == ["EUR"]
    assert {p["reference"] for p in data["payouts"]} == {first, second}
    amounts = {p["reference"]: Decimal(p["amount"]) for p in data["payouts"]}
    assert amounts == {first: Decimal("123.45"), second: Decimal("5.00")}
    created = [p["created"] for p in data["payouts"]]
    assert created == sorted(created, reverse=True)


def test_without_a_payment_account_there_is_nothing_to_show(org, stripe_fake):
    page = portal_client(org, Role.OPERATOR).get(org_url(org, PAGE))
    answer = api_as(org, Role.OPERATOR).get(f"/api/v1/organizations/{org.pk}/payouts/")

    assert "Payments are not set up for this organization" in page.content.decode()
    assert answer.json() == {
        "configured": False,
        "own_account": False,
        "balance": [],
        "payouts": [],
    }


def test_an_organization_paid_on_the_platforms_account_sees_none_of_its_money(
    org, other_org, stripe_fake
):
    for organization in (org, other_org):
        PaymentAccount.objects.create(organization=organization, currency="EUR", enabled=True)
    platform = paid_out(stripe_fake, 99_999, "paid")

    page = portal_client(org, Role.OPERATOR).get(org_url(org, PAGE))
    answer = api_as(org, Role.OPERATOR).get(f"/api/v1/organizations/{org.pk}/payouts/")

    assert platform not in page.content.decode()
    assert "paid on the platform's own payment account" in page.content.decode()
    assert answer.json() == {
        "configured": True,
        "own_account": False,
        "balance": [],
        "payouts": [],
    }


def test_a_provider_failure_is_said_on_the_page_and_is_a_502_in_the_api(
    org, account, stripe_fake, settings
):
    # Nothing listens there: the library's retries fail, as when Stripe is down.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    page = portal_client(org, Role.OPERATOR).get(org_url(org, PAGE))
    answer = api_as(org, Role.OPERATOR).get(f"/api/v1/organizations/{org.pk}/payouts/")

    assert page.status_code == 200
    assert "The payment provider could not be asked just now" in page.content.decode()
    assert answer.status_code == 502


def test_viewers_and_outsiders_see_no_payouts(org, other_org, account, stripe_fake):
    paid_out(stripe_fake, 12_345, "paid")

    assert portal_client(org, Role.VIEWER).get(org_url(org, PAGE)).status_code == 403
    assert (
        api_as(org, Role.VIEWER).get(f"/api/v1/organizations/{org.pk}/payouts/").status_code == 403
    )
    assert portal_client(other_org, Role.ADMIN).get(org_url(org, PAGE)).status_code == 404
    outsider = api_as(other_org, Role.ADMIN)
    assert outsider.get(f"/api/v1/organizations/{org.pk}/payouts/").status_code == 404
