"""The permission matrix: every API endpoint and method, who may call it, and a valid call.

Each app's module here (`tests/api/matrix/<app>.py`) lists `ENDPOINTS`; test_permission_matrix
collects them, checks that every route of /api/v1/ is listed, and calls each one as anonymous,
viewer, operator, admin, owner and an outsider (owner of another organization).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    TariffAssignment,
)
from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from roaming.models import RoamingActivity, RoamingPartner
from sessions_app.choices import SessionState
from stations.models import ChargingProfile
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    MeterValueFactory,
    ReservationFactory,
    SiteFactory,
    TariffFactory,
    UserFactory,
    make_api_key,
    make_invitation,
)

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER)


@dataclass
class World:
    """One organization with one of everything, its members by role, and its outsider."""

    org: object
    other_org: object
    users: dict
    outsider: object
    site: object
    station: object
    connector: object
    access_group: object
    id_token: object
    session: object
    reservation: object
    charging_profile: object
    tariff: object
    tariff_assignment: object
    cdr: object
    billing_period: object
    invoice: object
    roaming_partner: object
    roaming_activity: object
    command_log: object
    api_key: object
    membership: object  # a viewer nobody calls as, for the members endpoints
    # A pending invitation of `org` to an address nobody here has.
    invitation: object = None


def build_world(org, other_org, tag="W") -> World:
    """Every kind of row for `org`, plus members by role and an outsider owner of `other_org`."""
    users = {}
    for role in ROLES:
        user = UserFactory(username=f"{tag.lower()}-{role}")
        MembershipFactory(user=user, organization=org, role=role)
        users[role] = user
    # A plain member nobody calls as, so the members endpoints have a row to change.
    member = UserFactory(username=f"{tag.lower()}-member")
    membership = MembershipFactory(user=member, organization=org, role=Role.VIEWER)
    outsider = UserFactory(username=f"{tag.lower()}-outsider")
    MembershipFactory(user=outsider, organization=other_org, role=Role.OWNER)
    invitation, _token = make_invitation(
        org, f"newcomer-{tag.lower()}@example.com", invited_by=users[Role.OWNER]
    )
    # The owner is invited elsewhere too, so their own invitation list is not empty.
    make_invitation(other_org, users[Role.OWNER].email, invited_by=outsider)

    access_group = AccessGroupFactory(organization=org, name=f"Staff {tag}")
    site = SiteFactory(organization=org, name=f"Depot {tag}", access_groups=[access_group])
    station = ChargingStationFactory(organization=org, site=site, ocpp_id=f"CS-{tag}-1")
    station.access_groups.add(access_group)
    connector = station.connectors.order_by("connector_id").first()
    id_token = IdTokenFactory(
        organization=org, uid=f"04{tag}AA01", holder_name="Erika", access_groups=[access_group]
    )
    session = ChargingSessionFactory(
        station=station,
        id_token=id_token,
        id_tag=id_token.uid,
        transaction_id=f"{tag}-1",
        start=WHEN,
        stop=WHEN.replace(hour=10),
        meter_start=1000,
        meter_stop=13000,
        energy_wh=12000,
        state=SessionState.COMPLETED,
        stop_reason="Local",
    )
    MeterValueFactory(session=session, timestamp=WHEN.replace(minute=30), value=7000)
    reservation = ReservationFactory(
        station=station, connector=connector, id_token=id_token, id_tag=id_token.uid
    )
    charging_profile = ChargingProfile.objects.create(
        organization=org, name=f"Night {tag}", schedule_periods=[{"start_period": 0, "limit": 16}]
    )
    tariff = TariffFactory(organization=org, name=f"Standard {tag}")
    tariff_assignment = TariffAssignment.objects.create(
        organization=org, tariff=tariff, scope="site", site=site
    )
    cdr = ChargeDetailRecord.objects.create(
        organization=org,
        session=session,
        id_token=id_token,
        tariff=tariff,
        currency="EUR",
        tax_rate=Decimal("19.00"),
        energy_wh=12000,
        charging_seconds=3600,
        components=[
            {
                "component": "ENERGY",
                "tariff_element": 0,
                "volume": 12000,
                "volume_unit": "Wh",
                "quantity": "12.000",
                "unit": "kWh",
                "unit_price": "0.3900",
                "amount": "4.68",
                "tax_rate": "19.00",
            }
        ],
        periods=[
            {
                "start": "2026-03-02T09:00:00Z",
                "end": "2026-03-02T10:00:00Z",
                "charging": True,
                "energy_wh": "12000.000",
                "tariff_elements": {"ENERGY": 0},
            }
        ],
        energy_amount=Decimal("4.6800"),
        total_excl_tax=Decimal("4.6800"),
        tax_amount=Decimal("0.8900"),
        total_incl_tax=Decimal("5.5700"),
        accounted_at=session.stop,
    )
    billing_period = BillingPeriod.objects.create(
        organization=org,
        start=WHEN.replace(day=1, hour=0),
        end=WHEN.replace(month=4, day=1, hour=0),
        invoice_count=1,
    )
    invoice = Invoice.objects.create(
        organization=org,
        billing_period=billing_period,
        sequence=1,
        number=f"{tag}-2026-0001",
        id_token=id_token,
        holder_name="Erika",
        issuer={"name": org.name, "billing_address": "Hafenstraße 1", "vat_id": "DE123456789"},
        period_start=billing_period.start,
        period_end=billing_period.end,
        currency="EUR",
        total_excl_tax=Decimal("4.6800"),
        tax_amount=Decimal("0.8900"),
        total_incl_tax=Decimal("5.5700"),
        tax_breakdown=[{"rate": "19.00", "base": "4.68", "tax": "0.89"}],
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        cdr=cdr,
        description="Charging 12.0 kWh",
        unit_price=Decimal("4.6800"),
        tax_rate=Decimal("19.00"),
        amount_excl_tax=Decimal("4.6800"),
        tax_amount=Decimal("0.8900"),
        amount_incl_tax=Decimal("5.5700"),
    )
    roaming_partner = RoamingPartner.objects.create(
        organization=org, name=f"Hub {tag}", country_code="DE", party_id=f"HB{tag[:1]}"
    )
    roaming_activity = RoamingActivity.objects.create(
        organization=org,
        partner=roaming_partner,
        site=site,
        location_id=str(site.pk),
        date=date(2026, 3, 2),
        sessions=3,
        energy_wh=30000,
    )
    command_log = CommandLog.objects.create(
        station=station, command="restart_station", action="Reset", payload={"type": "Soft"}
    )
    api_key, _secret = make_api_key(org, role=Role.OPERATOR, name=f"ERP {tag}")
    world = World(
        org=org,
        other_org=other_org,
        users=users,
        outsider=outsider,
        site=site,
        station=station,
        connector=connector,
        access_group=access_group,
        id_token=id_token,
        session=session,
        reservation=reservation,
        charging_profile=charging_profile,
        tariff=tariff,
        tariff_assignment=tariff_assignment,
        cdr=cdr,
        billing_period=billing_period,
        invoice=invoice,
        roaming_partner=roaming_partner,
        roaming_activity=roaming_activity,
        command_log=command_log,
        api_key=api_key,
        membership=membership,
        invitation=invitation,
    )
    for name, build in WORLD_BUILDERS.items():
        setattr(world, name, build(world))
    return world


# Rows an app's matrix module adds to every world, by attribute name (registered when the
# module is imported, before any world is built): `WORLD_BUILDERS["alert_rows"] = build`.
WORLD_BUILDERS: dict[str, Callable[[World], object]] = {}


@dataclass(frozen=True)
class Endpoint:
    """One route and method: the least role that may call it, and a call that succeeds."""

    # The URL name under the `api` namespace, e.g. "site-detail" or "organization-site-list".
    name: str
    method: str
    url: Callable[[World], str]
    role: str
    body: Callable[[World], object] | None = None
    # Multipart uploads (CSV import) set "multipart"; query-string reads leave it.
    format: str = "json"
    # Statuses that count as success for a caller with the role (e.g. 409 for a command to an
    # offline station: the role check passed, the station state refused).
    ok: tuple[int, ...] = (200,)
    # Lists: the `id` (or other `key`) of our row, which an outsider must never see.
    ours: Callable[[World], object] | None = None
    key: str = "id"
    # Lists: add `n` more rows this list shows, for the query budget.
    more: Callable[[World, int], None] | None = None
    # The request reaches the command service (channels' database_sync_to_async).
    transactional: bool = False
    # Only people may call it (creating organizations or API keys): an API key gets 403.
    people_only: bool = False
    # What an outsider gets when not 404 (flat lists: 200 without our rows). Creating an
    # organization, for one, works for anybody and touches nothing of ours.
    outsider_ok: tuple[int, ...] | None = None

    @property
    def is_flat_list(self) -> bool:
        return self.method == "get" and self.name.endswith("-list") and not self.nested

    @property
    def nested(self) -> bool:
        return self.name.startswith("organization-") and self.name != "organization-list"

    def __str__(self):
        return f"{self.method.upper()} {self.name}"
