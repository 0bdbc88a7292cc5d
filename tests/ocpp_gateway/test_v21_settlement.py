"""OCPP 2.1 NotifySettlement: a station's own payment terminal reports a payment, kept once."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call

from billing import payments
from billing.choices import PaymentProvider, PaymentStatus
from billing.models import Payment, PaymentRefund
from organizations.choices import Role
from tests.factories import ChargingStationFactory, IdTokenFactory
from tests.ocpp_gateway.conftest import connected_station201
from tests.portalclients import org_url, portal_client

IDENTITY = "CS-21-TERMINAL"
CARD = "04TERMINAL21"
pytestmark = pytest.mark.django_db(transaction=True)


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def terminal_station(org):
    station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
    IdTokenFactory(organization=org, uid=CARD, access_groups=[])
    return station


async def started(cs, transaction_id: str):
    await cs.call(
        call.BootNotification(
            charging_station={"model": "Terminal 21", "vendor_name": "ACME"}, reason="PowerUp"
        )
    )
    await cs.call(
        call.TransactionEvent(
            event_type="Started",
            timestamp=now(),
            trigger_reason="CablePluggedIn",
            seq_no=0,
            transaction_info={"transaction_id": transaction_id, "charging_state": "EVConnected"},
            evse={"id": 1, "connector_id": 1},
        )
    )


async def test_a_settled_terminal_payment_is_kept_on_its_session_once(
    ocpp_server, terminal_station, db_call, org
):
    async with connected_station201(
        ocpp_server, IDENTITY, cls=ChargePoint21, subprotocol="ocpp2.1"
    ) as cs:
        await started(cs, "TX-TERM-1")
        settlement = call.NotifySettlement(
            psp_ref="psp-4711",
            status="Settled",
            settlement_amount=12.3,
            settlement_time=now(),
            transaction_id="TX-TERM-1",
            # The ocpp package spells receipt_url "receiptURL", which its own 2.1 schema refuses:
            # the receipt's address is covered without a socket below.
            receipt_id="R-1",
        )
        first = await cs.call(settlement)
        again = await cs.call(settlement)
    assert first.receipt_url is None and again.receipt_url is None

    [payment] = await db_call(lambda: list(Payment.objects.select_related("session")))
    assert (payment.provider, payment.reference, payment.status) == (
        PaymentProvider.TERMINAL,
        "psp-4711",
        PaymentStatus.CAPTURED,
    )
    assert payment.amount_captured == payment.amount_authorized == Decimal("12.3")
    assert payment.currency == org.currency
    assert payment.session.transaction_id == "TX-TERM-1"
    assert payment.receipt_id == "R-1"


async def test_a_failed_terminal_payment_is_kept_failed_with_the_stations_reason(
    ocpp_server, terminal_station, db_call
):
    async with connected_station201(
        ocpp_server, IDENTITY, cls=ChargePoint21, subprotocol="ocpp2.1"
    ) as cs:
        await started(cs, "TX-TERM-2")
        await cs.call(
            call.NotifySettlement(
                psp_ref="psp-4712",
                status="Rejected",
                settlement_amount=0,
                settlement_time=now(),
                transaction_id="TX-TERM-2",
                status_info="Card declined by issuer",
            )
        )
    payment = await db_call(Payment.objects.get)
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure == "Card declined by issuer"
    assert payment.amount_captured == 0


def test_two_organizations_terminals_may_report_the_same_psp_reference(org, other_org):
    own = ChargingStationFactory(organization=org, ocpp_id="CS-OWN")
    foreign = ChargingStationFactory(organization=other_org, ocpp_id="CS-FOREIGN")
    report = {
        "psp_reference": "psp-shared",
        "status": "Settled",
        "amount": Decimal("5"),
        "settled_at": datetime.now(UTC),
    }
    ours = payments.record_terminal_settlement(payments.TerminalSettlement(own.pk, **report))
    theirs = payments.record_terminal_settlement(payments.TerminalSettlement(foreign.pk, **report))
    again = payments.record_terminal_settlement(payments.TerminalSettlement(own.pk, **report))
    assert again == ours != theirs
    assert sorted(Payment.objects.values_list("organization", flat=True)) == sorted(
        [org.pk, other_org.pk]
    )


def test_settlements_without_a_psp_reference_are_each_kept(org):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-NO-REF")
    for amount in ("5", "5", "7"):
        payments.record_terminal_settlement(
            payments.TerminalSettlement(
                station.pk, "", "Settled", Decimal(amount), datetime.now(UTC)
            )
        )
    assert Payment.objects.filter(reference="").count() == 3


async def test_a_settlement_amount_no_money_column_holds_is_refused(
    ocpp_server, terminal_station, db_call
):
    async with connected_station201(
        ocpp_server, IDENTITY, cls=ChargePoint21, subprotocol="ocpp2.1"
    ) as cs:
        with pytest.raises(PropertyConstraintViolationError):
            await cs.call(
                call.NotifySettlement(
                    psp_ref="psp-huge",
                    status="Settled",
                    settlement_amount=1e9,
                    settlement_time=now(),
                ),
                suppress=False,
            )
    assert not await db_call(Payment.objects.exists)


def test_a_terminal_payment_is_not_refunded_here(org):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-REFUND")
    payment = payments.record_terminal_settlement(
        payments.TerminalSettlement(station.pk, "psp-9", "Settled", Decimal("8"), datetime.now(UTC))
    )
    with pytest.raises(payments.PaymentRefused):
        payments.refund_payment(payment.pk, Decimal("1"), "Wants money back")
    assert not PaymentRefund.objects.exists()
    assert Payment.objects.get().amount_refunded == 0


def test_the_terminals_receipt_is_kept_with_the_payment(org):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-RECEIPT")
    payment = payments.record_terminal_settlement(
        payments.TerminalSettlement(
            station.pk,
            "psp-10",
            "Settled",
            Decimal("8"),
            datetime.now(UTC),
            receipt_id="R-10",
            receipt_url="https://terminal.example/receipts/R-10",
        )
    )
    assert (payment.receipt_id, payment.receipt_url) == (
        "R-10",
        "https://terminal.example/receipts/R-10",
    )


@pytest.mark.parametrize(
    "address", ["javascript:alert(1)", "ftp://terminal.example/r", "not a url", "data:text/html,x"]
)
def test_a_receipt_address_that_is_no_web_address_is_not_kept(org, address):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-BAD-RECEIPT")
    payment = payments.record_terminal_settlement(
        payments.TerminalSettlement(
            station.pk, "psp-11", "Settled", Decimal("8"), datetime.now(UTC), receipt_url=address
        )
    )
    assert payment.receipt_url == ""


def test_the_payment_page_links_the_terminals_receipt(org):
    station = ChargingStationFactory(organization=org, ocpp_id="CS-LINK")
    payment = payments.record_terminal_settlement(
        payments.TerminalSettlement(
            station.pk,
            "psp-12",
            "Settled",
            Decimal("8"),
            datetime.now(UTC),
            receipt_id="R-12",
            receipt_url="https://terminal.example/r/12",
        )
    )
    page = portal_client(org, Role.VIEWER).get(org_url(org, f"billing/payments/{payment.pk}/"))
    assert '<a href="https://terminal.example/r/12" rel="noopener noreferrer">R-12</a>' in (
        page.content.decode()
    )
