"""`manage.py seed_demo` builds the documented demo data, idempotently, in one tenant."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import jsonschema_rs
import ocpp.v16
import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import RequestFactory
from django.utils import timezone

from billing.choices import AssignmentScope, CdrKind, TariffType
from billing.engine import Usage, price_session
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    PaymentAccount,
    Tariff,
    TariffAssignment,
)
from cards.models import AccessGroup, IdToken
from demo.seed import (
    DEMO_PASSWORD,
    DEMO_SUPPORT_PASSWORD,
    DEMO_SUPPORT_USERNAME,
    DEMO_TARIFF_ELEMENTS,
    DEMO_USERNAME,
    STATIONS,
)
from organizations.choices import Role
from organizations.models import Membership, Organization
from roaming.models import PartnerCdr, RoamingActivity, RoamingPartner
from sessions_app.models import ChargingSession, MeterValue
from stations.choices import SecurityProfile
from stations.models import ChargingStation, Connector, Evse, Site
from tests.factories import (
    AccessGroupFactory,
    ChargingStationFactory,
    IdTokenFactory,
    TariffFactory,
)

pytestmark = pytest.mark.django_db


def log_in(username, password):
    """authenticate() as a login page calls it: with the request (django-axes requires one)."""
    request = RequestFactory().post("/accounts/login/")
    return authenticate(request, username=username, password=password)


DEMO_MODELS = (
    Organization,
    Membership,
    Site,
    ChargingStation,
    Evse,
    Connector,
    AccessGroup,
    IdToken,
    Tariff,
    TariffAssignment,
    RoamingPartner,
    ChargingSession,
    MeterValue,
    ChargeDetailRecord,
    BillingPeriod,
    Invoice,
    InvoiceLine,
)
# Mid-March: the history reaches back into February, whose billing period has ended.
MID_MARCH = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
MARCH_START_IN_BERLIN = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The demo hashes five passwords per run; PBKDF2 would make this module crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def demo_org():
    return Organization.objects.get(slug="demo")


def primary_keys():
    """Every row's primary key per model, plus the many-to-many links, to compare runs."""
    keys = {
        model.__name__: set(model.objects.values_list("pk", flat=True)) for model in DEMO_MODELS
    }
    keys["User"] = set(get_user_model().objects.values_list("pk", flat=True))
    keys["site groups"] = set(Site.access_groups.through.objects.values_list("pk", flat=True))
    keys["card groups"] = set(IdToken.access_groups.through.objects.values_list("pk", flat=True))
    return keys


def test_seed_demo_creates_the_demo_organization():
    seed()
    org = demo_org()
    assert (org.name, org.currency, org.timezone) == ("Demo Charging GmbH", "EUR", "Europe/Berlin")
    assert Organization.objects.count() == 1


def test_seed_demo_creates_an_owner_who_is_a_tenant_user_not_admin_staff():
    seed()
    user = get_user_model().objects.get(username=DEMO_USERNAME)
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.role) == (demo_org(), Role.OWNER)
    assert not user.is_staff
    assert not user.is_superuser


def test_seed_demo_keeps_a_support_superuser_for_the_django_admin():
    seed()
    seed()
    support = get_user_model().objects.get(username=DEMO_SUPPORT_USERNAME)
    assert support.is_superuser and support.is_staff
    assert support.check_password(DEMO_SUPPORT_PASSWORD)
    assert not Membership.objects.filter(user=support).exists()


def test_demo_admin_authenticates_with_the_default_password():
    seed()
    assert log_in(DEMO_USERNAME, DEMO_PASSWORD) is not None


def test_seeded_stations_identify_within_ocpp_16_boot_notification_limits():
    seed()
    schema = json.loads(
        (Path(ocpp.v16.__file__).parent / "schemas" / "BootNotification.json").read_text()
    )
    validator = jsonschema_rs.validator_for(schema)
    stations = ChargingStation.objects.filter(ocpp_id__startswith="DEMO-CS-")
    assert stations.count() == len(STATIONS)
    for station in stations:
        boot = {
            "chargePointVendor": station.vendor,
            "chargePointModel": station.model,
            "chargePointSerialNumber": station.serial_number,
        }
        errors = [error.message for error in validator.iter_errors(boot)]
        assert errors == [], (station.ocpp_id, errors)


def test_seed_demo_creates_two_sites_one_with_roaming():
    seed()
    sites = Site.objects.for_org(demo_org())
    assert sites.count() == 2
    assert sites.filter(roaming_enabled=True).count() == 1
    assert all(site.latitude and site.longitude and site.street for site in sites)


def test_seed_demo_creates_four_stations_with_two_connectors_each_on_its_own_evse():
    seed()
    org = demo_org()
    stations = ChargingStation.objects.for_org(org)
    assert sorted(stations.values_list("ocpp_id", flat=True)) == [
        "DEMO-CS-01",
        "DEMO-CS-02",
        "DEMO-CS-03",
        "DEMO-CS-04",
    ]
    assert {station.site.name for station in stations} == set(
        Site.objects.for_org(org).values_list("name", flat=True)
    )
    assert all(station.vendor and station.model and station.serial_number for station in stations)
    connectors = Connector.objects.for_org(org).select_related("evse")
    assert connectors.count() == 8
    assert len({connector.evse_id for connector in connectors}) == 8
    first_evse = Evse.objects.for_org(org).get(station__ocpp_id="DEMO-CS-01", evse_number=1)
    assert first_evse.evse_id == "DE*DEM*E0001*1"


def test_each_station_uses_basic_auth_with_its_demo_password():
    seed()
    for number in range(1, 5):
        station = ChargingStation.objects.get(ocpp_id=f"DEMO-CS-{number:02d}")
        assert station.security_profile == SecurityProfile.BASIC
        assert station.check_password(f"demo-station-{number:02d}")


def test_seed_demo_restores_a_changed_station_password():
    seed()
    station = ChargingStation.objects.get(ocpp_id="DEMO-CS-01")
    station.set_password("changed-by-someone")
    station.save()
    seed()
    station.refresh_from_db()
    assert station.check_password("demo-station-01")


def test_seed_demo_authorizes_both_access_groups_on_both_sites():
    seed()
    org = demo_org()
    groups = AccessGroup.objects.for_org(org)
    assert sorted(groups.values_list("name", flat=True)) == ["Employees", "Visitors"]
    for site in Site.objects.for_org(org):
        assert set(site.access_groups.all()) == set(groups)


def test_seed_demo_creates_ten_cards_split_across_the_groups():
    seed()
    cards = IdToken.objects.for_org(demo_org())
    assert cards.count() == 10
    assert all(card.access_groups.count() == 1 for card in cards)
    assert cards.filter(access_groups__name="Employees").exists()
    assert cards.filter(access_groups__name="Visitors").exists()
    assert all(card.holder_name and card.holder_email and card.label for card in cards)


def test_seed_demo_assigns_the_day_and_night_tariff_as_organization_default():
    seed()
    org = demo_org()
    assignment = TariffAssignment.objects.for_org(org).get(scope=AssignmentScope.ORGANIZATION)
    tariff = assignment.tariff
    assert (tariff.name, tariff.elements, tariff.tax_rate) == (
        "Standard",
        DEMO_TARIFF_ELEMENTS,
        Decimal("19"),
    )


def test_the_demo_tariff_charges_night_energy_less_a_fee_and_idle_time_after_four_hours():
    seed()
    tariff = Tariff.objects.get(organization__slug="demo", name="Standard")
    # 18:00–23:00 in Berlin: 8 kWh by 20:00 and 2 kWh 22:00–22:20, idle otherwise.
    start = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    usage = Usage(
        start=start,
        stop=start + timedelta(hours=5),
        meter_start_wh=0,
        meter_stop_wh=10_000,
        readings=(
            (start + timedelta(hours=2), 8_000),
            (start + timedelta(hours=4), 8_000),
            (start + timedelta(hours=4, minutes=20), 10_000),
        ),
        time_zone="Europe/Berlin",
    )

    price = price_session(tariff.definition(), usage)

    # 8 kWh × 0.39 = 3.12; 2 kWh × 0.29 = 0.58; fee 0.49; idle after 22:00 (4 h in): the
    # 40 minutes 22:20–23:00 × 6.00 per hour = 4.00 (idle 20:00–22:00 is within the 4 hours).
    assert (
        price.amount_of("ENERGY"),
        price.amount_of("FLAT"),
        price.amount_of("PARKING_TIME"),
    ) == (
        Decimal("3.70"),
        Decimal("0.49"),
        Decimal("4.00"),
    )


def test_seed_demo_opens_scan2pay_at_the_public_hub_with_an_ad_hoc_tariff(client, settings):
    seed()
    org = demo_org()
    site = Site.objects.for_org(org).get(scan2pay_enabled=True)
    assignment = TariffAssignment.objects.for_org(org).get(site=site)
    assert assignment.tariff.type == TariffType.AD_HOC_PAYMENT
    assert PaymentAccount.objects.for_org(org).get().enabled
    connector = Connector.objects.filter(station__site=site).first()

    # Without the platform's Stripe keys (make run) no price is offered: nobody could pay it.
    assert "0.5831 EUR per kWh" not in client.get(f"/pay/{connector.pay_code}/").content.decode()
    settings.STRIPE_SECRET_KEY = "sk_test_platform"
    response = client.get(f"/pay/{connector.pay_code}/")

    assert response.status_code == 200
    assert "0.5831 EUR per kWh" in response.content.decode()


def test_seed_demo_publishes_a_roaming_tariff_to_the_demo_partner():
    seed()
    partner = RoamingPartner.objects.get(organization__slug="demo")
    assert partner.tariff.name == "Roaming"
    assert partner.tariff.organization == demo_org()
    assert not TariffAssignment.objects.filter(tariff=partner.tariff).exists()


def test_every_demo_session_is_rated_once_with_its_meter_readings():
    seed()
    sessions = ChargingSession.objects.filter(organization__slug="demo")
    charges = ChargeDetailRecord.objects.filter(organization__slug="demo", kind=CdrKind.CHARGE)
    assert charges.count() == sessions.count() == 90
    assert not charges.filter(total_incl_tax__lte=0).exists()
    assert MeterValue.objects.filter(session__in=sessions).count() > sessions.count()


def test_roaming_sessions_of_the_demo_are_priced_with_the_partners_tariff():
    seed()
    partner = RoamingPartner.objects.get(organization__slug="demo")
    roaming = ChargeDetailRecord.objects.filter(roaming_partner=partner)
    assert roaming.exists()
    assert set(roaming.values_list("tariff", flat=True)) == {partner.tariff_id}
    assert set(roaming.values_list("session__station__site__roaming_enabled", flat=True)) == {True}


def test_the_demo_history_shows_night_prices_and_blocking_fees(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MID_MARCH)
    seed()
    standard = Tariff.objects.get(organization__slug="demo", name="Standard")
    used = {
        (line["component"], line["tariff_element"])
        for components in ChargeDetailRecord.objects.filter(tariff=standard).values_list(
            "components", flat=True
        )
        for line in components
    }
    assert {("ENERGY", 0), ("ENERGY", 1), ("FLAT", 1), ("PARKING_TIME", 2)} <= used


def test_seed_demo_closes_the_ended_month_into_invoices_and_leaves_the_running_one_open(
    monkeypatch,
):
    monkeypatch.setattr(timezone, "now", lambda: MID_MARCH)
    seed()
    org = demo_org()
    period = BillingPeriod.objects.for_org(org).get()
    assert (period.start, period.end) == (
        datetime(2026, 1, 31, 23, 0, tzinfo=UTC),
        MARCH_START_IN_BERLIN,
    )
    records = ChargeDetailRecord.objects.for_org(org)
    february = records.filter(accounted_at__lt=MARCH_START_IN_BERLIN)
    assert february.exists()
    assert set(InvoiceLine.objects.values_list("cdr", flat=True)) == set(
        february.values_list("pk", flat=True)
    )
    assert Invoice.objects.for_org(org).count() == period.invoice_count > 0


def test_a_later_run_adds_the_new_days_and_keeps_what_was_rated(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: MID_MARCH)
    seed()
    before = list(ChargeDetailRecord.objects.order_by("pk").values())
    monkeypatch.setattr(timezone, "now", lambda: MID_MARCH + timedelta(days=2))
    seed()
    sessions = ChargingSession.objects.filter(organization__slug="demo")
    assert sessions.count() == 96
    assert list(ChargeDetailRecord.objects.order_by("pk").values())[: len(before)] == before
    assert ChargeDetailRecord.objects.filter(kind=CdrKind.CHARGE).count() == 96


def test_running_seed_demo_twice_changes_no_rows():
    seed()
    before = primary_keys()
    seed()
    assert primary_keys() == before


def test_password_option_sets_the_demo_admin_password():
    seed("--password", "another-demo-secret-7")
    assert log_in(DEMO_USERNAME, "another-demo-secret-7") is not None
    assert log_in(DEMO_USERNAME, DEMO_PASSWORD) is None


def test_password_option_rejects_a_weak_password_and_writes_nothing():
    with pytest.raises(CommandError, match="Password rejected"):
        seed("--password", "123")
    assert not Organization.objects.exists()


def test_json_output_is_one_object_whose_station_passwords_work():
    demo = json.loads(seed("--json"))
    assert demo["users"] == [
        {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "role": "owner"},
        {"username": DEMO_SUPPORT_USERNAME, "password": DEMO_SUPPORT_PASSWORD, "role": "support"},
    ]
    assert demo["organization"] == {"name": "Demo Charging GmbH", "slug": "demo"}
    assert len(demo["stations"]) == 4
    for described in demo["stations"]:
        station = ChargingStation.objects.get(ocpp_id=described["ocpp_id"])
        assert station.check_password(described["password"])
        assert station.site.name == described["site"]
        assert len(described["connectors"]) == 2


def test_json_output_lists_sites_and_cards_that_exist():
    demo = json.loads(seed("--json"))
    org = demo_org()
    assert {site["id"] for site in demo["sites"]} == set(
        Site.objects.for_org(org).values_list("pk", flat=True)
    )
    assert len(demo["cards"]) == 10
    for card in demo["cards"]:
        token = IdToken.objects.for_org(org).get(uid=card["uid"])
        assert card["groups"] == [group.name for group in token.access_groups.all()]


def test_json_output_reports_the_password_option():
    demo = json.loads(seed("--json", "--password", "another-demo-secret-7"))
    assert demo["users"][0]["password"] == "another-demo-secret-7"


def test_text_output_includes_the_credentials():
    out = seed()
    assert f"{DEMO_USERNAME} / {DEMO_PASSWORD}" in out
    assert "DEMO-CS-01 / demo-station-01" in out


def test_seed_demo_leaves_the_outsider_organization_untouched(other_org):
    group = AccessGroupFactory(organization=other_org, name="Employees")
    card = IdTokenFactory(organization=other_org, uid="04A1B2C3D4E5F6", access_groups=[group])
    station = ChargingStationFactory(organization=other_org, ocpp_id="OUT-1")
    TariffFactory(organization=other_org, name="Standard")
    before = {
        model.__name__: list(model.objects.for_org(other_org).values())
        for model in (AccessGroup, IdToken, ChargingStation, Site, Tariff)
    }
    seed()
    after = {
        model.__name__: list(model.objects.for_org(other_org).values())
        for model in (AccessGroup, IdToken, ChargingStation, Site, Tariff)
    }
    assert after == before
    assert list(card.access_groups.all()) == [group]
    assert station.connectors.count() == 2
    assert not Membership.objects.for_org(other_org).filter(user__username="demo").exists()


def test_seed_demo_refuses_a_station_identity_of_another_organization(other_org):
    ChargingStationFactory(organization=other_org, ocpp_id="DEMO-CS-03")
    with pytest.raises(CommandError, match="DEMO-CS-03"):
        seed()
    assert ChargingStation.objects.get(ocpp_id="DEMO-CS-03").organization == other_org
    assert not Organization.objects.filter(slug="demo").exists()


def test_seed_demo_keeps_what_a_station_reported_at_boot():
    seed()
    ChargingStation.objects.filter(ocpp_id="DEMO-CS-01").update(vendor="EVBox", model="Elvi")
    seed()
    station = ChargingStation.objects.get(ocpp_id="DEMO-CS-01")
    assert (station.vendor, station.model) == ("EVBox", "Elvi")
    assert station.serial_number == "DEMO-SN-000001"


def test_seed_demo_creates_a_month_of_completed_sessions_on_the_demo_stations():
    from sessions_app.models import ChargingSession

    seed()
    sessions = ChargingSession.objects.filter(organization__slug="demo")
    assert sessions.count() == 90
    assert not sessions.filter(state="active").exists()
    assert not sessions.filter(energy_wh__lte=0).exists()
    oldest = sessions.order_by("start").first().start
    assert timezone.now() - oldest <= timedelta(days=31)


def test_seed_demo_rolls_up_its_real_roaming_sessions_only_at_the_roaming_site():
    seed()
    cpo = RoamingActivity.objects.filter(role="CPO")
    assert set(cpo.values_list("site__roaming_enabled", flat=True)) == {True}
    roaming_sessions = ChargingSession.objects.filter(roaming_partner__isnull=False).count()
    assert roaming_sessions > 0
    assert cpo.aggregate(n=Sum("sessions"))["n"] == roaming_sessions
    emsp = RoamingActivity.objects.filter(role="EMSP")
    assert emsp.aggregate(n=Sum("sessions"))["n"] == PartnerCdr.objects.count() > 0
