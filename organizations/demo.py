"""Demo data for a first look: one organization with sites, stations, cards and a tariff."""

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from billing.choices import AssignmentScope
from billing.models import Tariff, TariffAssignment
from organizations.choices import IdTokenStatus, IdTokenType, Role
from organizations.models import AccessGroup, IdToken, Membership, Organization
from roaming.choices import PartnerRole, PartnerStatus
from roaming.models import RoamingActivity, RoamingPartner
from sessions_app.choices import AuthMethod, SessionState
from sessions_app.models import ChargingSession
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
# Completed sessions of the last HISTORY_DAYS days, so analytics and exports have something.
HISTORY_DAYS = 30
HISTORY_SESSIONS = 90
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
    StationSpec(1, HEADQUARTERS, "MENNEKES", "AMTRON Professional+ twin", _AC_TWIN),
    StationSpec(2, HEADQUARTERS, "MENNEKES", "AMTRON Professional+ twin", _AC_TWIN),
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
        },
    )
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
    tariff, _ = Tariff.objects.update_or_create(
        organization=org,
        name=DEMO_TARIFF_NAME,
        defaults={
            "currency": org.currency,
            "price_per_kwh": Decimal("0.39"),
            "price_per_minute_charging": Decimal("0"),
            "price_per_minute_idle": Decimal("0"),
            "session_fee": Decimal("0"),
            "tax_rate": Decimal("19"),
        },
    )
    TariffAssignment.objects.update_or_create(
        organization=org, scope=AssignmentScope.ORGANIZATION, defaults={"tariff": tariff}
    )
    _seed_history(org, [station for _, station in stations], [card for _, card in cards])
    _seed_roaming(org, [site for site in sites.values() if site.roaming_enabled])
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
            "price_per_kwh": str(tariff.price_per_kwh),
            "tax_rate": str(tariff.tax_rate),
        },
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


def _seed_history(org: Organization, stations: list, cards: list) -> None:
    """Completed sessions over the last days: the same on every run, with times moved to now."""
    rng = random.Random(2026)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    connectors = list(Connector.objects.filter(station__in=stations).select_related("station"))
    for number in range(1, HISTORY_SESSIONS + 1):
        connector = rng.choice(connectors)
        card = rng.choice(cards)
        start = now - timedelta(days=rng.randint(1, HISTORY_DAYS), hours=rng.randint(0, 12))
        minutes = rng.randint(20, 240)
        energy_wh = int(minutes / 60 * float(connector.max_power_kw or 11) * 1000 * 0.6)
        ChargingSession.objects.update_or_create(
            station=connector.station,
            transaction_id=f"DEMO-{number:04d}",
            defaults={
                "organization": org,
                "connector": connector,
                "id_token": card,
                "id_tag": card.uid,
                "start": start,
                "stop": start + timedelta(minutes=minutes),
                "meter_start": 1_000_000 + number * 100_000,
                "meter_stop": 1_000_000 + number * 100_000 + energy_wh,
                "energy_wh": energy_wh,
                "state": SessionState.COMPLETED,
                "stop_reason": "EVDisconnected",
                "auth_method": AuthMethod.RFID,
            },
        )


def _seed_roaming(org: Organization, sites: list) -> None:
    """A roaming partner and its daily activity at the roaming sites over the last days."""
    partner, _ = RoamingPartner.objects.update_or_create(
        organization=org,
        country_code="DE",
        party_id="DMO",
        role=PartnerRole.EMSP,
        defaults={"name": "Demo eMobility Provider", "status": PartnerStatus.ACTIVE},
    )
    rng = random.Random(2027)
    today = timezone.localdate()
    for site in sites:
        for days in range(HISTORY_DAYS):
            sessions = rng.randint(0, 6)
            energy_wh = sessions * rng.randint(15_000, 45_000)
            RoamingActivity.objects.update_or_create(
                partner=partner,
                site=site,
                date=today - timedelta(days=days),
                defaults={
                    "organization": org,
                    "sessions": sessions,
                    "energy_wh": energy_wh,
                    "revenue": (Decimal(energy_wh) / 1000 * Decimal("0.49")).quantize(
                        Decimal("0.0001")
                    ),
                    "currency": org.currency,
                },
            )
