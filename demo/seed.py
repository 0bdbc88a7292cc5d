"""Demo data for a first look: one organization with sites, stations, cards, tariffs and bills."""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from alerts.services import install_default_rules
from availability.choices import MaintenanceKind
from availability.models import MaintenanceRecord
from baselines.models import ConfigurationBaseline
from baselines.notation import parse_settings
from baselines.services import save_baseline
from billing.choices import AssignmentScope, CdrKind, TariffType
from billing.invoicing import close_due_periods
from billing.models import ChargeDetailRecord, Invoice, PaymentAccount, Tariff, TariffAssignment
from billing.services import rate_session
from cards.choices import IdTokenStatus, IdTokenType
from cards.models import AccessGroup, IdToken
from core.timezones import zone_of
from firmware.models import FirmwareImage
from firmware.services import create_image
from fleet.models import Campaign
from fleet.services import create_campaign
from organizations.choices import Role
from organizations.models import Membership, Organization
from roaming import activity as roaming_activity
from roaming.choices import PartnerRole, PartnerStatus
from roaming.models import PartnerCdr, PartnerLocation, RoamingPartner, RoamingProfile
from sessions_app.choices import AuthMethod, SessionState
from sessions_app.models import ChargingSession, MeterValue
from stations.choices import ConnectorType, OcppVersion, SecurityProfile
from stations.exceptions import StationAssignmentError
from stations.models import ChargingStation, Connector, Evse, Site
from stations.services import assign_station

DEMO_ORG_NAME = "Demo Charging GmbH"
DEMO_ORG_SLUG = "demo"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-charging-2026"
# Support staff work in the Django admin across organizations; tenants never get that.
DEMO_SUPPORT_USERNAME = "support"
DEMO_SUPPORT_PASSWORD = "demo-support-2026"
DEMO_EMAIL_DOMAIN = "demo-charging.example"
DEMO_TARIFF_NAME = "Standard"
DEMO_ROAMING_TARIFF_NAME = "Roaming"
DEMO_FIRMWARE_VERSION = "2.1.0"
# OCPI 2.2.1 tariff elements, prices excl. tax; the first element that applies prices each
# stretch of a session. Night energy 22:00–06:00 is cheaper; the session fee comes from the
# day element (it applies at any time); once a session is 4 hours old, every minute the car
# stands without charging costs (a blocking fee against cars left at the charger).
DEMO_TARIFF_ELEMENTS = [
    {
        "price_components": [{"type": "ENERGY", "price": "0.29", "step_size": 1}],
        "restrictions": {"start_time": "22:00", "end_time": "06:00"},
    },
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.39", "step_size": 1},
            {"type": "FLAT", "price": "0.49", "step_size": 1},
        ]
    },
    {
        "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
        "restrictions": {"min_duration": 4 * 3600},
    },
]
# What the demo eMSP's customers pay at the roaming site (published to the partner).
DEMO_ROAMING_ELEMENTS = [
    {"price_components": [{"type": "ENERGY", "price": "0.49", "step_size": 1}]},
    {
        "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
        "restrictions": {"min_duration": 4 * 3600},
    },
]
# What a driver without a card pays at the Scan2Pay site (OCPI AD_HOC_PAYMENT): a dearer kWh,
# a session fee, and the same blocking fee after 4 hours.
DEMO_SCAN2PAY_TARIFF_NAME = "Scan2Pay"
DEMO_SCAN2PAY_ELEMENTS = [
    {
        "price_components": [
            {"type": "ENERGY", "price": "0.49", "step_size": 1},
            {"type": "FLAT", "price": "0.99", "step_size": 1},
        ]
    },
    {
        "price_components": [{"type": "PARKING_TIME", "price": "6.00", "step_size": 60}],
        "restrictions": {"min_duration": 4 * 3600},
    },
]
DEMO_TAX_RATE = Decimal("19")
# Completed sessions on each of the last HISTORY_DAYS days, so analytics, CDRs and invoices
# have something to show.
HISTORY_DAYS = 30
SESSIONS_PER_DAY = 3
HISTORY_SESSIONS = HISTORY_DAYS * SESSIONS_PER_DAY
# A session starts between 04:00 (early ones begin on the night price) and 18:30 local time
# and lasts at most 5 hours, so even yesterday's sessions ended before today began.
LONGEST_SESSION_MINUTES = 300
# About one in ROAMING_SHARE sessions at the roaming site is a roaming partner's customer.
ROAMING_SHARE = 3
# How the demo organization appears in OCPI (its EVSE ids are DE*DEM*…).
DEMO_PARTY = ("DE", "DEM")
# The demo's roaming partner is a hub that speaks for an eMSP, whose drivers charge at the
# roaming site, and a CPO, at whose locations the demo's drivers charge now and then. It is
# not connected (no partner answers at a demo URL): it waits for a real one on its page.
DEMO_HUB = ("DE", "DMO")
DEMO_HUB_NAME = "Demo Roaming Hub"
DEMO_HUB_EMSP = {"role": "EMSP", "country_code": "DE", "party_id": "DMO"}
DEMO_HUB_CPO = {"role": "CPO", "country_code": "NL", "party_id": "DCN"}
DEMO_HUB_ROLES = [
    {**DEMO_HUB_EMSP, "business_details": {"name": "Demo eMobility Provider"}},
    {**DEMO_HUB_CPO, "business_details": {"name": "Demo Charge Network"}},
]
# Where the demo's drivers charged at the hub's CPO: (OCPI location id, name, city).
DEMO_PARTNER_LOCATIONS = (
    ("NLDCN-AMS-01", "Amsterdam Zuidas", "Amsterdam"),
    ("NLDCN-UTR-01", "Utrecht Centraal", "Utrecht"),
)
# About one day in PARTNER_CDR_SHARE one of the demo's drivers charged at the hub's CPO, at
# its price per kWh excl. VAT, with the Dutch VAT rate.
PARTNER_CDR_SHARE = 4
PARTNER_PRICE_PER_KWH = Decimal("0.59")
PARTNER_VAT_RATE = Decimal("21")
METER_INTERVAL = timedelta(minutes=15)
OCPP_PATH = "/ocpp/"
OCPP_SUBPROTOCOL = OcppVersion.V16.value


@dataclass(frozen=True)
class SiteSpec:
    """A demo site, keyed by name within the demo organization."""

    name: str
    street: str
    postal_code: str
    city: str
    latitude: str
    longitude: str
    roaming_enabled: bool
    scan2pay_enabled: bool
    grid_capacity_kw: str


@dataclass(frozen=True)
class ConnectorSpec:
    """A demo connector; it sits alone on the EVSE with the same number."""

    connector_type: str
    max_power_kw: str


@dataclass(frozen=True)
class StationSpec:
    """A demo station, keyed by its OCPP identity."""

    number: int
    site: str
    vendor: str
    model: str
    connectors: tuple[ConnectorSpec, ...]

    @property
    def ocpp_id(self) -> str:
        return f"DEMO-CS-{self.number:02d}"

    @property
    def password(self) -> str:
        return f"demo-station-{self.number:02d}"

    @property
    def serial_number(self) -> str:
        return f"DEMO-SN-{self.number:06d}"

    def evse_id(self, evse_number: int) -> str:
        """The EMI3 EVSE id of one of this station's EVSEs."""
        return f"DE*DEM*E{self.number:04d}*{evse_number}"


@dataclass(frozen=True)
class CardSpec:
    """A demo RFID card, keyed by uid within the demo organization."""

    uid: str
    label: str
    holder_name: str
    group: str

    @property
    def holder_email(self) -> str:
        local = self.holder_name.lower().replace(" ", ".").replace("ü", "ue").replace("ö", "oe")
        return f"{local}@{DEMO_EMAIL_DOMAIN}"


HEADQUARTERS = "Zentrale Berlin"
PUBLIC_HUB = "Schnellladepark München"
EMPLOYEES = "Employees"
VISITORS = "Visitors"

SITES = (
    SiteSpec(
        name=HEADQUARTERS,
        street="Friedrichstraße 68",
        postal_code="10117",
        city="Berlin",
        latitude="52.510960",
        longitude="13.389780",
        roaming_enabled=False,
        scan2pay_enabled=False,
        grid_capacity_kw="100.00",
    ),
    SiteSpec(
        name=PUBLIC_HUB,
        street="Landsberger Straße 110",
        postal_code="80339",
        city="München",
        latitude="48.140630",
        longitude="11.536460",
        roaming_enabled=True,
        scan2pay_enabled=True,
        grid_capacity_kw="400.00",
    ),
)

_AC_TWIN = (
    ConnectorSpec(ConnectorType.TYPE2, "22.00"),
    ConnectorSpec(ConnectorType.TYPE2, "22.00"),
)
_DC_FAST = (
    ConnectorSpec(ConnectorType.CCS2, "150.00"),
    ConnectorSpec(ConnectorType.CHADEMO, "50.00"),
)
STATIONS = (
    StationSpec(1, HEADQUARTERS, "MENNEKES", "AMTRON Professional+", _AC_TWIN),
    StationSpec(2, HEADQUARTERS, "MENNEKES", "AMTRON Professional+", _AC_TWIN),
    StationSpec(3, PUBLIC_HUB, "alpitronic", "HYC150", _DC_FAST),
    StationSpec(4, PUBLIC_HUB, "alpitronic", "HYC150", _DC_FAST),
)

GROUPS = {
    EMPLOYEES: "Staff of Demo Charging GmbH; may charge at every site.",
    VISITORS: "Guest cards handed out at reception.",
}

CARDS = (
    CardSpec("04A1B2C3D4E5F6", "Employee 01", "Anna Schmidt", EMPLOYEES),
    CardSpec("04B7C8D9E0F1A2", "Employee 02", "Lukas Müller", EMPLOYEES),
    CardSpec("04C3D4E5F6A7B8", "Employee 03", "Sophie Weber", EMPLOYEES),
    CardSpec("04D9E0F1A2B3C4", "Employee 04", "Jonas Fischer", EMPLOYEES),
    CardSpec("04E5F6A7B8C9D0", "Employee 05", "Marie Wagner", EMPLOYEES),
    CardSpec("04F1A2B3C4D5E6", "Employee 06", "Felix Becker", EMPLOYEES),
    CardSpec("0412A3B4C5D6E7", "Visitor 01", "Lena Hoffmann", VISITORS),
    CardSpec("0423B4C5D6E7F8", "Visitor 02", "Paul Schulz", VISITORS),
    CardSpec("0434C5D6E7F8A9", "Visitor 03", "Emma Koch", VISITORS),
    CardSpec("0445D6E7F8A9BA", "Visitor 04", "Leon Richter", VISITORS),
)


@transaction.atomic
def seed_demo(password: str = DEMO_PASSWORD) -> dict:
    """Create or refresh the demo organization and return what exists, credentials included."""
    org, _ = Organization.objects.update_or_create(
        slug=DEMO_ORG_SLUG,
        defaults={
            "name": DEMO_ORG_NAME,
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "contact_name": "Demo Admin",
            "contact_email": f"ops@{DEMO_EMAIL_DOMAIN}",
            "contact_phone": "+49 30 12345678",
            "billing_address": "Demo Charging GmbH\nFriedrichstraße 68\n10117 Berlin\nGermany",
            "vat_id": "DE999999999",
        },
    )
    # The defaults a new organization gets (nothing when the demo's rules exist already).
    install_default_rules([org.pk])
    user = _seed_admin(org, password)
    support = _seed_support()
    groups = {
        name: AccessGroup.objects.update_or_create(
            organization=org, name=name, defaults={"description": description}
        )[0]
        for name, description in GROUPS.items()
    }
    sites = {spec.name: _seed_site(org, spec, groups.values()) for spec in SITES}
    stations = [(spec, _seed_station(sites[spec.site], spec)) for spec in STATIONS]
    cards = [(spec, _seed_card(org, spec, groups[spec.group])) for spec in CARDS]
    tariff = _seed_tariff(org, DEMO_TARIFF_NAME, DEMO_TARIFF_ELEMENTS)
    TariffAssignment.objects.update_or_create(
        organization=org, scope=AssignmentScope.ORGANIZATION, defaults={"tariff": tariff}
    )
    roaming_sites = [site for site in sites.values() if site.roaming_enabled]
    partner = _seed_roaming(org, _seed_tariff(org, DEMO_ROAMING_TARIFF_NAME, DEMO_ROAMING_ELEMENTS))
    _seed_history(
        org,
        [station for _, station in stations],
        [card for _, card in cards],
        partner,
        roaming_sites,
    )
    billing = _seed_billing(org)
    _seed_fleet(org, user, [station for _, station in stations])
    _seed_partner_cdrs(org, partner, [card for _, card in cards])
    # The roaming activity comes from the sessions and CDRs above, as in production.
    roaming_activity.roll_up_every_day(org)
    _seed_scan2pay(org, [site for site in sites.values() if site.scan2pay_enabled])
    return {
        "users": [
            {"username": user.username, "password": password, "role": "owner"},
            {"username": support.username, "password": DEMO_SUPPORT_PASSWORD, "role": "support"},
        ],
        "organization": {"name": org.name, "slug": org.slug},
        "sites": [
            {"name": site.name, "id": site.pk, "roaming_enabled": site.roaming_enabled}
            for site in sites.values()
        ],
        "stations": [_describe_station(spec, station) for spec, station in stations],
        "cards": [
            {"uid": card.uid, "label": card.label, "groups": [spec.group]} for spec, card in cards
        ],
        "tariff": {
            "name": tariff.name,
            "currency": tariff.currency,
            "tax_rate": str(tariff.tax_rate),
            "elements": tariff.elements,
        },
        "roaming_partner": {"name": partner.name, "tariff": partner.tariff.name},
        "billing": billing,
    }


def _seed_admin(org: Organization, password: str):
    """The demo owner: a tenant user of the portal and API, never Django-admin staff."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.email = f"{DEMO_USERNAME}@{DEMO_EMAIL_DOMAIN}"
    user.first_name, user.last_name = "Demo", "Admin"
    user.is_active = True
    user.is_staff = False
    user.is_superuser = False
    validate_password(password, user)
    user.set_password(password)
    user.save()
    Membership.objects.update_or_create(user=user, organization=org, defaults={"role": Role.OWNER})
    return user


def _seed_support():
    """The support-staff superuser for the Django admin."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_SUPPORT_USERNAME)
    user.email = f"{DEMO_SUPPORT_USERNAME}@{DEMO_EMAIL_DOMAIN}"
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(DEMO_SUPPORT_PASSWORD)
    user.save()
    return user


def _seed_site(org: Organization, spec: SiteSpec, groups) -> Site:
    site, _ = Site.objects.update_or_create(
        organization=org,
        name=spec.name,
        defaults={
            "street": spec.street,
            "postal_code": spec.postal_code,
            "city": spec.city,
            "country": "DE",
            "latitude": Decimal(spec.latitude),
            "longitude": Decimal(spec.longitude),
            "provider": DEMO_ORG_NAME,
            "roaming_enabled": spec.roaming_enabled,
            "scan2pay_enabled": spec.scan2pay_enabled,
            "grid_capacity_kw": Decimal(spec.grid_capacity_kw),
        },
    )
    site.access_groups.set(groups)
    return site


def _seed_station(site: Site, spec: StationSpec) -> ChargingStation:
    station, _ = ChargingStation.objects.get_or_create(
        ocpp_id=spec.ocpp_id, defaults={"organization": site.organization, "site": site}
    )
    # ocpp_id is unique across tenants: a real station of another organization is never taken.
    try:
        assign_station(station, site)
    except StationAssignmentError as exc:
        raise StationAssignmentError(f"{spec.ocpp_id}: {exc}") from exc
    # What a station reports in its BootNotification wins over the demo's placeholders.
    for field in ("vendor", "model", "serial_number"):
        if not getattr(station, field):
            setattr(station, field, getattr(spec, field))
    station.security_profile = SecurityProfile.BASIC
    station.set_password(spec.password)
    station.save()
    for number, connector_spec in enumerate(spec.connectors, start=1):
        evse, _ = Evse.objects.update_or_create(
            station=station, evse_number=number, defaults={"evse_id": spec.evse_id(number)}
        )
        Connector.objects.update_or_create(
            station=station,
            connector_id=number,
            defaults={
                "evse": evse,
                "connector_type": connector_spec.connector_type,
                "max_power_kw": Decimal(connector_spec.max_power_kw),
            },
        )
    return station


def _seed_card(org: Organization, spec: CardSpec, group: AccessGroup) -> IdToken:
    card, _ = IdToken.objects.update_or_create(
        organization=org,
        uid=spec.uid,
        defaults={
            "type": IdTokenType.ISO14443,
            "label": spec.label,
            "holder_name": spec.holder_name,
            "holder_email": spec.holder_email,
            "status": IdTokenStatus.ACCEPTED,
        },
    )
    card.access_groups.set([group])
    return card


def _describe_station(spec: StationSpec, station: ChargingStation) -> dict:
    return {
        "ocpp_id": station.ocpp_id,
        "password": spec.password,
        "site": station.site.name,
        "security_profile": station.security_profile,
        "connectors": [
            {
                "connector_id": connector.connector_id,
                "evse_id": connector.evse_identity,
                "connector_type": connector.connector_type,
                "max_power_kw": str(connector.max_power_kw),
            }
            for connector in station.connectors.select_related("evse").order_by("connector_id")
        ],
    }


def _seed_tariff(
    org: Organization, name: str, elements: list, tariff_type: str = TariffType.REGULAR
) -> Tariff:
    tariff, _ = Tariff.objects.update_or_create(
        organization=org,
        name=name,
        defaults={
            "type": tariff_type,
            "currency": org.currency,
            "tax_rate": DEMO_TAX_RATE,
            "elements": elements,
            "min_price": None,
            "max_price": None,
            "valid_from": None,
            "valid_to": None,
        },
    )
    return tariff


def _seed_history(
    org: Organization, stations: list, cards: list, partner: RoamingPartner, roaming_sites: list
) -> None:
    """Completed sessions with meter readings on each of the last days; a day's are never redone."""
    # Sessions are keyed by their local day, so a later run adds the days since the last one
    # and leaves the older ones alone: their charge records are immutable and may be invoiced.
    zone = zone_of(org)
    today = timezone.now().astimezone(zone).date()
    connectors = list(
        Connector.objects.filter(station__in=stations)
        .select_related("station")
        .order_by("station__ocpp_id", "connector_id")
    )
    existing = set(
        ChargingSession.objects.filter(
            station__in=stations, transaction_id__startswith="DEMO-"
        ).values_list("transaction_id", flat=True)
    )
    readings = []
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        # One generator per day: the same sessions whenever that day is seeded.
        rng = random.Random(day.toordinal())
        for number in range(1, SESSIONS_PER_DAY + 1):
            transaction_id = f"DEMO-{day:%Y%m%d}-{number}"
            # Drawn even when the session exists, so the day's later draws stay the same.
            plan = _plan_session(rng, day, zone, connectors, cards)
            if transaction_id in existing:
                continue
            session = _create_history_session(org, transaction_id, plan, partner, roaming_sites)
            readings += _history_readings(session, plan)
    # Drawn sessions may overlap on a connector; one sample per connector and moment is kept.
    MeterValue.objects.bulk_create(readings, batch_size=1000, ignore_conflicts=True)


@dataclass(frozen=True)
class _SessionPlan:
    """A demo session as drawn: where, whose card, when, how long it charged and stood."""

    connector: Connector
    card: IdToken
    start: datetime
    charging_minutes: int
    idle_minutes: int
    power_w: int
    meter_start: int
    roaming_draw: int

    @property
    def energy_wh(self) -> int:
        return self.power_w * self.charging_minutes // 60

    @property
    def stop(self) -> datetime:
        return self.start + timedelta(minutes=self.charging_minutes + self.idle_minutes)


def _plan_session(rng, day: date, zone, connectors: list, cards: list) -> _SessionPlan:
    """One session of the day, drawn from the day's generator."""
    connector = rng.choice(connectors)
    card = rng.choice(cards)
    local_start = datetime.combine(day, time(rng.randint(4, 18), rng.choice((0, 15, 30))))
    charging = rng.randint(20, 240)
    idle = min(rng.choice((0, 0, 10, 30, 90, 150)), LONGEST_SESSION_MINUTES - charging)
    # AC cars draw about half of 22 kW, DC cars about 60 % of the connector's rating.
    max_kw = float(connector.max_power_kw or 11)
    power_w = int(max_kw * (0.5 if max_kw <= 22 else 0.6) * 1000)
    # A battery takes at most about 75 kWh: a fast charger is done sooner, the car stands longer.
    full_after = 75_000 * 60 // power_w
    if charging > full_after:
        idle += charging - full_after
        charging = full_after
    return _SessionPlan(
        connector=connector,
        card=card,
        start=local_start.replace(tzinfo=zone),
        charging_minutes=charging,
        idle_minutes=idle,
        power_w=power_w,
        meter_start=rng.randrange(1_000_000, 90_000_000),
        roaming_draw=rng.randrange(ROAMING_SHARE),
    )


def _create_history_session(org, transaction_id, plan: _SessionPlan, partner, roaming_sites):
    """The finished session of a plan: a card's, or at the roaming site maybe a partner's."""
    roaming = plan.connector.station.site in roaming_sites and plan.roaming_draw == 0
    fields = {
        "organization": org,
        "station": plan.connector.station,
        "connector": plan.connector,
        "transaction_id": transaction_id,
        "start": plan.start,
        "stop": plan.stop,
        "meter_start": plan.meter_start,
        "meter_stop": plan.meter_start + plan.energy_wh,
        "energy_wh": plan.energy_wh,
        "state": SessionState.COMPLETED,
        "stop_reason": "EVDisconnected",
    }
    if roaming:
        # The partner's customer is billed through the partner, not through one of our cards.
        fields |= {
            "roaming_partner": partner,
            "id_tag": f"DE{partner.party_id}{plan.start:%m%d%H%M}",
            "auth_method": AuthMethod.ROAMING,
        }
    else:
        fields |= {"id_token": plan.card, "id_tag": plan.card.uid, "auth_method": AuthMethod.RFID}
    return ChargingSession.objects.create(**fields)


def _history_readings(session: ChargingSession, plan: _SessionPlan) -> list[MeterValue]:
    """The energy register every quarter of an hour: rising while charging, then standing."""
    rows = []
    moment = session.start + METER_INTERVAL
    charging_until = session.start + timedelta(minutes=plan.charging_minutes)
    while moment < session.stop:
        charged = min(moment, charging_until) - session.start
        register = session.meter_start + int(
            plan.energy_wh * charged / timedelta(minutes=plan.charging_minutes)
        )
        rows.append(
            MeterValue(
                station_id=session.station_id,
                session=session,
                connector_number=plan.connector.connector_id,
                timestamp=moment,
                value=Decimal(register),
                unit="Wh",
            )
        )
        moment += METER_INTERVAL
    return rows


def _seed_fleet(org: Organization, user, stations: list[ChargingStation]) -> None:
    """A firmware image, a draft campaign, a baseline and a maintenance record, once."""
    first = stations[0]
    image = FirmwareImage.objects.for_org(org).filter(version=DEMO_FIRMWARE_VERSION).first()
    if image is None:
        image = create_image(
            organization=org,
            vendor=first.vendor,
            model=first.model,
            version=DEMO_FIRMWARE_VERSION,
            file=ContentFile(b"demo firmware image\n", name="demo-firmware.bin"),
            release_notes="Demo image: fixes the display's brightness at night.",
            uploaded_by=user,
        )
    if not Campaign.objects.for_org(org).exists():
        create_campaign(
            org,
            created_by=user,
            name=f"{first.model} {DEMO_FIRMWARE_VERSION}",
            image=image,
            target_vendor=first.vendor,
            target_model=first.model,
            window_start=time(1, 0),
            window_end=time(5, 0),
        )
    if not ConfigurationBaseline.objects.for_org(org).exists():
        save_baseline(
            ConfigurationBaseline(organization=org, name="Heartbeat", vendor=first.vendor),
            parse_settings("HeartbeatInterval = 300"),
            user=user,
        )
    if not MaintenanceRecord.objects.for_org(org).exists():
        MaintenanceRecord.objects.create(
            organization=org,
            station=first,
            kind=MaintenanceKind.INSPECTION,
            performed_by=user,
            notes="Yearly inspection: cables and housing fine.",
            next_due=timezone.localdate() + timedelta(days=30),
            created_by=user,
        )


def _seed_scan2pay(org: Organization, sites: list[Site]) -> None:
    """Scan2Pay at its sites: an AD_HOC_PAYMENT tariff assigned there, payments enabled."""
    # Card sessions there skip it (billing.services: only Scan2Pay sessions pay ad hoc prices)
    # and keep the organization's default price.
    tariff = _seed_tariff(
        org, DEMO_SCAN2PAY_TARIFF_NAME, DEMO_SCAN2PAY_ELEMENTS, TariffType.AD_HOC_PAYMENT
    )
    for site in sites:
        TariffAssignment.objects.update_or_create(
            organization=org, site=site, defaults={"scope": AssignmentScope.SITE, "tariff": tariff}
        )
    # No connected account: the platform's own (STRIPE_SECRET_KEY empty: payments stay off).
    PaymentAccount.objects.update_or_create(
        organization=org, defaults={"enabled": True, "currency": org.currency}
    )


def _seed_billing(org: Organization) -> dict:
    """Rate every finished demo session not rated yet, then close the billing periods that ended."""
    unrated = (
        ChargingSession.objects.for_org(org)
        .filter(state=SessionState.COMPLETED)
        .exclude(cdrs__kind=CdrKind.CHARGE)
        .order_by("start", "pk")
        .values_list("pk", flat=True)
    )
    for session_id in unrated:
        rate_session(session_id)
    close_due_periods(organizations=Organization.objects.filter(pk=org.pk))
    return {
        "charge_detail_records": ChargeDetailRecord.objects.for_org(org).count(),
        "invoices": Invoice.objects.for_org(org).count(),
    }


def _seed_roaming(org: Organization, tariff: Tariff) -> RoamingPartner:
    """The demo's OCPI profile and its roaming hub, with the tariff published to it."""
    if (
        not RoamingProfile.objects.filter(country_code=DEMO_PARTY[0], party_id=DEMO_PARTY[1])
        .exclude(organization=org)
        .exists()
    ):
        RoamingProfile.objects.get_or_create(
            organization=org,
            defaults={
                "country_code": DEMO_PARTY[0],
                "party_id": DEMO_PARTY[1],
                "name": DEMO_ORG_NAME,
            },
        )
    partner = RoamingPartner.objects.filter(
        organization=org, country_code=DEMO_HUB[0], party_id=DEMO_HUB[1]
    ).first() or RoamingPartner(organization=org, country_code=DEMO_HUB[0], party_id=DEMO_HUB[1])
    partner.name = DEMO_HUB_NAME
    partner.tariff = tariff
    if partner.registered_at is None:
        # Never connected: the demo's description holds. A hub a user connected for real keeps
        # what its credentials said.
        partner.role = PartnerRole.HUB
        partner.roles = DEMO_HUB_ROLES
        partner.status = PartnerStatus.PENDING
    partner.save()
    return partner


def _seed_partner_cdrs(org: Organization, partner: RoamingPartner, cards: list) -> None:
    """CDRs the hub's CPO sent for the demo's drivers at its locations; a day's are never redone."""
    zone = zone_of(org)
    today = timezone.now().astimezone(zone).date()
    cc, party_id = DEMO_HUB_CPO["country_code"], DEMO_HUB_CPO["party_id"]
    for location_id, name, city in DEMO_PARTNER_LOCATIONS:
        PartnerLocation.objects.get_or_create(
            partner=partner,
            country_code=cc,
            party_id=party_id,
            ocpi_id=location_id,
            defaults={
                "organization": org,
                "name": name,
                "city": city,
                "country": "NLD",
                "last_updated": timezone.now(),
                "data": {
                    "country_code": cc,
                    "party_id": party_id,
                    "id": location_id,
                    "name": name,
                    "city": city,
                    "country": "NLD",
                },
            },
        )
    for days_ago in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=days_ago)
        # Its own generator, so the history sessions of the day are drawn as before.
        rng = random.Random(day.toordinal() * 31 + 7)
        if rng.randrange(PARTNER_CDR_SHARE):
            continue
        location_id, name, _city = rng.choice(DEMO_PARTNER_LOCATIONS)
        card = rng.choice(cards)
        start = datetime.combine(day, time(rng.randint(7, 19), rng.choice((0, 20, 40))))
        start = start.replace(tzinfo=zone)
        kwh = Decimal(rng.randint(8_000, 45_000)) / 1000
        end = start + timedelta(minutes=int(kwh * 60 / 11) + rng.randint(5, 30))
        excl = (kwh * PARTNER_PRICE_PER_KWH).quantize(Decimal("0.01"))
        incl = (excl * (1 + PARTNER_VAT_RATE / 100)).quantize(Decimal("0.01"))
        ocpi_id = f"DEMO-CDR-{day:%Y%m%d}"
        PartnerCdr.objects.get_or_create(
            partner=partner,
            country_code=cc,
            party_id=party_id,
            ocpi_id=ocpi_id,
            defaults={
                "organization": org,
                "id_token": card,
                "token_uid": card.uid,
                "session_id": ocpi_id,
                "location_id": location_id,
                "location_name": name,
                "start": start,
                "end": end,
                "kwh": kwh,
                "currency": "EUR",
                "total_cost_excl_vat": excl,
                "total_cost_incl_vat": incl,
                "last_updated": end,
                "data": _partner_cdr_data(
                    ocpi_id, card, location_id, name, start, end, kwh, excl, incl
                ),
            },
        )


def _partner_cdr_data(ocpi_id, card, location_id, name, start, end, kwh, excl, incl) -> dict:
    """The OCPI 2.2.1 CDR as the hub's CPO would have sent it (the fields the portal reads)."""
    return {
        "country_code": DEMO_HUB_CPO["country_code"],
        "party_id": DEMO_HUB_CPO["party_id"],
        "id": ocpi_id,
        "start_date_time": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "end_date_time": end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "cdr_token": {
            "country_code": DEMO_PARTY[0],
            "party_id": DEMO_PARTY[1],
            "uid": card.uid,
            "type": "RFID",
            "contract_id": f"{DEMO_PARTY[0]}-{DEMO_PARTY[1]}-C{card.uid[-8:]}",
        },
        "cdr_location": {"id": location_id, "name": name, "country": "NLD"},
        "currency": "EUR",
        "total_cost": {"excl_vat": float(excl), "incl_vat": float(incl)},
        "total_energy": float(kwh),
        "total_time": round((end - start).total_seconds() / 3600, 4),
        "last_updated": end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
