"""Matrix rows of the billing API: tariffs, tariff assignments, CDRs, invoices."""

from decimal import Decimal

from billing.models import ChargeDetailRecord, Invoice, InvoiceLine, TariffAssignment
from organizations.choices import Role
from sessions_app.choices import SessionState
from tests.api.matrix import WHEN, Endpoint
from tests.factories import ChargingSessionFactory, ChargingStationFactory, TariffFactory


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
    for _ in range(n):
        # Each on its own station, so a query per station or site would show.
        session = ChargingSessionFactory(
            station=ChargingStationFactory(organization=world.org),
            start=WHEN,
            stop=WHEN,
            state=SessionState.COMPLETED,
        )
        ChargeDetailRecord.objects.create(
            organization=world.org, session=session, tariff=world.tariff, currency="EUR"
        )


def more_invoices(world, n):
    last = Invoice.objects.filter(organization=world.org).order_by("-sequence").first()
    for sequence in range(last.sequence + 1, last.sequence + 1 + n):
        invoice = Invoice.objects.create(
            organization=world.org,
            sequence=sequence,
            number=f"M-{sequence:04d}",
            id_token=world.id_token,
            period_start=WHEN.replace(day=1),
            period_end=WHEN.replace(month=4, day=1),
            currency="EUR",
        )
        InvoiceLine.objects.create(
            invoice=invoice, cdr=world.cdr, description="Charging", unit_price=Decimal("0.39")
        )


def tariff_body(world):
    return {"name": "Night", "currency": "EUR", "price_per_kwh": "0.2900", "tax_rate": "19.00"}


ENDPOINTS = [
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
        body=lambda w: {"price_per_kwh": "0.4500"},
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
]
