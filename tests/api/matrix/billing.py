"""Matrix rows of the billing API: tariffs, assignments, CDRs, invoices, billing periods,
payments, their refunds and the payment account."""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAccount,
    PaymentRefund,
    TariffAssignment,
)
from organizations.choices import Role
from roaming.models import RoamingPartner
from sessions_app.choices import SessionState
from tests.api.matrix import WHEN, WORLD_BUILDERS, Endpoint
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
    UserFactory,
    energy_elements,
)


def more_tariffs(world, n):
    for _ in range(n):
        tariff = TariffFactory(organization=world.org)
        # Each with an assignment, so the prefetch of assignments is under the budget too.
        station = ChargingStationFactory(organization=world.org, site=world.site)
        TariffAssignment.objects.create(
            organization=world.org, tariff=tariff, scope="station", station=station
        )


def more_assignments(world, n):
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        TariffAssignment.objects.create(
            organization=world.org, tariff=world.tariff, scope="station", station=station
        )


def more_cdrs(world, n):
    for number in range(n):
        # Each on its own station, card, partner and stopper, so a query per row would show.
        card = IdTokenFactory(organization=world.org)
        partner = RoamingPartner.objects.create(
            organization=world.org,
            name=f"Partner {number}",
            country_code="NL",
            party_id=f"C{number:02d}",
        )
        session = ChargingSessionFactory(
            station=ChargingStationFactory(organization=world.org),
            id_token=card,
            start=WHEN,
            stop=WHEN,
            state=SessionState.COMPLETED,
        )
        ChargeDetailRecord.objects.create(
            organization=world.org,
            session=session,
            id_token=card,
            roaming_partner=partner,
            tariff=world.tariff,
            currency="EUR",
            billing_stopped_by=UserFactory(),
            accounted_at=WHEN,
        )


def more_billing_periods(world, n):
    first = world.billing_period.start
    for number in range(1, n + 1):
        BillingPeriod.objects.create(
            organization=world.org,
            start=first - timedelta(days=number),
            end=first - timedelta(days=number - 1),
        )


def more_invoices(world, n):
    last = Invoice.objects.filter(organization=world.org).order_by("-sequence").first()
    for sequence in range(last.sequence + 1, last.sequence + 1 + n):
        partner = RoamingPartner.objects.create(
            organization=world.org,
            name=f"Partner {sequence}",
            country_code="NL",
            party_id=f"I{sequence:02d}",
        )
        invoice = Invoice.objects.create(
            organization=world.org,
            billing_period=world.billing_period,
            sequence=sequence,
            number=f"M-{sequence:04d}",
            roaming_partner=partner,
            period_start=WHEN.replace(day=1),
            period_end=WHEN.replace(month=4, day=1),
            currency="EUR",
        )
        # A CDR may be on one invoice only: each line gets its own.
        session = ChargingSessionFactory(
            station=world.station, start=WHEN, stop=WHEN, state=SessionState.COMPLETED
        )
        cdr = ChargeDetailRecord.objects.create(
            organization=world.org, session=session, currency="EUR", accounted_at=WHEN
        )
        InvoiceLine.objects.create(
            invoice=invoice, cdr=cdr, description="Charging", unit_price=Decimal("0.39")
        )


@dataclass
class PaymentRows:
    """A captured payment of the world's organization with one refund, and its account."""

    account: PaymentAccount
    payment: Payment
    refund: PaymentRefund


def make_payment(world, **fields) -> Payment:
    fields.setdefault("session", world.session)
    return Payment.objects.create(
        organization=world.org,
        provider="stripe",
        reference=f"pi_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
        purpose="session",
        status="captured",
        currency="EUR",
        amount_authorized=Decimal("20.00"),
        amount_captured=Decimal("12.00"),
        amount_refunded=Decimal("2.00"),
        **fields,
    )


def make_refund(payment, **fields) -> PaymentRefund:
    return PaymentRefund.objects.create(
        payment=payment,
        reference=f"re_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
        amount=Decimal("2.00"),
        reason="Cable fault",
        status="succeeded",
        **fields,
    )


def build_payment_rows(world) -> PaymentRows:
    """The world's payment rows: its account, a captured payment and a refund of it."""
    payment = make_payment(world)
    return PaymentRows(
        account=PaymentAccount.objects.create(organization=world.org, enabled=True),
        payment=payment,
        refund=make_refund(payment, created_by=world.users[Role.ADMIN]),
    )


WORLD_BUILDERS["payment_rows"] = build_payment_rows


def payment_rows(world) -> PaymentRows:
    """The world's payment rows (made now if the world was built before they were known)."""
    if getattr(world, "payment_rows", None) is None:
        world.payment_rows = build_payment_rows(world)
    return world.payment_rows


def more_payments(world, n):
    for _ in range(n):
        # Each for its own session, so a query per row would show.
        session = ChargingSessionFactory(
            station=ChargingStationFactory(organization=world.org),
            start=WHEN,
            stop=WHEN,
            state=SessionState.COMPLETED,
        )
        make_payment(world, session=session)


def more_payment_refunds(world, n):
    for _ in range(n):
        # Each of its own payment and by its own person: both are fetched with the refund.
        make_refund(make_payment(world), created_by=UserFactory())


def tariff_body(world):
    return {
        "name": "Night",
        "currency": "EUR",
        "elements": energy_elements("0.2900"),
        "tax_rate": "19.00",
    }


ENDPOINTS = [
    Endpoint(
        "payment-list",
        "get",
        lambda w: "/api/v1/payments/",
        Role.VIEWER,
        ours=lambda w: payment_rows(w).payment.pk,
        more=more_payments,
    ),
    Endpoint(
        "payment-detail",
        "get",
        lambda w: f"/api/v1/payments/{payment_rows(w).payment.pk}/",
        Role.VIEWER,
    ),
    Endpoint(
        "payment-refund",
        "post",
        lambda w: f"/api/v1/payments/{payment_rows(w).payment.pk}/refund/",
        Role.ADMIN,
        body=lambda w: {"amount": "1.00", "reason": "Matrix"},
        # No provider keys in the tests: past the role check, the refund is refused (409)
        # before anything is written or any provider is called.
        ok=(409,),
    ),
    Endpoint(
        "paymentrefund-list",
        "get",
        lambda w: "/api/v1/payment-refunds/",
        Role.VIEWER,
        ours=lambda w: payment_rows(w).refund.pk,
        more=more_payment_refunds,
    ),
    Endpoint(
        "paymentrefund-detail",
        "get",
        lambda w: f"/api/v1/payment-refunds/{payment_rows(w).refund.pk}/",
        Role.VIEWER,
    ),
    Endpoint(
        "organization-payment-account",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/payment-account/",
        Role.OPERATOR,
    ),
    Endpoint(
        "organization-payouts",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/payouts/",
        Role.OPERATOR,
    ),
    Endpoint(
        "organization-payment-account",
        "put",
        lambda w: f"/api/v1/organizations/{w.org.pk}/payment-account/",
        Role.ADMIN,
        body=lambda w: {
            "account_id": "acct_1Matrix",
            "currency": "EUR",
            "enabled": True,
        },
    ),
    Endpoint(
        "tariff-list",
        "get",
        lambda w: "/api/v1/tariffs/",
        Role.VIEWER,
        ours=lambda w: w.tariff.pk,
        more=more_tariffs,
    ),
    Endpoint("tariff-detail", "get", lambda w: f"/api/v1/tariffs/{w.tariff.pk}/", Role.VIEWER),
    Endpoint(
        "tariff-detail",
        "patch",
        lambda w: f"/api/v1/tariffs/{w.tariff.pk}/",
        Role.ADMIN,
        body=lambda w: {"elements": energy_elements("0.4500")},
    ),
    Endpoint(
        "tariff-detail",
        "put",
        lambda w: f"/api/v1/tariffs/{w.tariff.pk}/",
        Role.ADMIN,
        body=tariff_body,
    ),
    Endpoint(
        "tariff-detail",
        "delete",
        lambda w: f"/api/v1/tariffs/{w.tariff.pk}/",
        Role.ADMIN,
        ok=(204,),
    ),
    Endpoint(
        "organization-tariff-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/tariffs/",
        Role.VIEWER,
        ours=lambda w: w.tariff.pk,
        more=more_tariffs,
    ),
    Endpoint(
        "organization-tariff-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/tariffs/",
        Role.ADMIN,
        body=tariff_body,
        ok=(201,),
    ),
    Endpoint(
        "tariffassignment-list",
        "get",
        lambda w: "/api/v1/tariff-assignments/",
        Role.VIEWER,
        ours=lambda w: w.tariff_assignment.pk,
        more=more_assignments,
    ),
    Endpoint(
        "tariffassignment-detail",
        "get",
        lambda w: f"/api/v1/tariff-assignments/{w.tariff_assignment.pk}/",
        Role.VIEWER,
    ),
    Endpoint(
        "tariffassignment-detail",
        "delete",
        lambda w: f"/api/v1/tariff-assignments/{w.tariff_assignment.pk}/",
        Role.ADMIN,
        ok=(204,),
    ),
    Endpoint(
        "organization-tariffassignment-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/tariff-assignments/",
        Role.VIEWER,
        ours=lambda w: w.tariff_assignment.pk,
        more=more_assignments,
    ),
    Endpoint(
        "organization-tariffassignment-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/tariff-assignments/",
        Role.ADMIN,
        # The world's site has the tariff already; its station has none.
        body=lambda w: {"tariff": w.tariff.pk, "scope": "station", "station": w.station.pk},
        ok=(201,),
    ),
    Endpoint(
        "chargedetailrecord-list",
        "get",
        lambda w: "/api/v1/charge-detail-records/",
        Role.VIEWER,
        ours=lambda w: w.cdr.pk,
        more=more_cdrs,
    ),
    Endpoint(
        "chargedetailrecord-detail",
        "get",
        lambda w: f"/api/v1/charge-detail-records/{w.cdr.pk}/",
        Role.VIEWER,
    ),
    Endpoint(
        "invoice-list",
        "get",
        lambda w: "/api/v1/invoices/",
        Role.VIEWER,
        ours=lambda w: w.invoice.pk,
        more=more_invoices,
    ),
    Endpoint("invoice-detail", "get", lambda w: f"/api/v1/invoices/{w.invoice.pk}/", Role.VIEWER),
    Endpoint("invoice-pdf", "get", lambda w: f"/api/v1/invoices/{w.invoice.pk}/pdf/", Role.VIEWER),
    Endpoint(
        "tariff-ocpi",
        "get",
        lambda w: f"/api/v1/tariffs/{w.tariff.pk}/ocpi/?country_code=DE&party_id=ABC",
        Role.VIEWER,
    ),
    Endpoint(
        "billingperiod-list",
        "get",
        lambda w: "/api/v1/billing-periods/",
        Role.VIEWER,
        ours=lambda w: w.billing_period.pk,
        more=more_billing_periods,
    ),
    Endpoint(
        "billingperiod-detail",
        "get",
        lambda w: f"/api/v1/billing-periods/{w.billing_period.pk}/",
        Role.VIEWER,
    ),
]
