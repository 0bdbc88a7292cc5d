"""Every tenant-owned queryset narrows to one organization and to a user's memberships."""

import uuid
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser

from alerts.models import (
    Alert,
    AlertHistory,
    AlertRule,
    Notification,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
)
from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from baselines.models import (
    BaselineResult,
    BaselineRun,
    BaselineSetting,
    ConfigurationBaseline,
    FirstBoot,
    StationDrift,
)
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAccount,
    PaymentEvent,
    PaymentRefund,
    TariffAssignment,
)
from ocpp_gateway.models import (
    BulkCommand,
    BulkCommandResult,
    CertificateRequest,
    CommandLog,
    DisplayMessage,
    OcppMessage,
    StationCertificate,
)
from organizations.choices import Role
from organizations.models import Membership
from organizations.tenancy import TenantQuerySet
from roaming.models import (
    ModuleSync,
    OcpiExchange,
    OcpiPush,
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingActivity,
    RoamingCommand,
    RoamingPartner,
    RoamingProfile,
    RoamingToken,
)
from sessions_app.models import TransactionEvent
from stations.models import (
    ChargingProfile,
    ConnectionEvent,
    DiagnosticsFile,
    DiagnosticsRequest,
    Evse,
    StationDataTransfer,
    StatusEvent,
)
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    MeterValueFactory,
    RemoteStartFactory,
    ReservationFactory,
    SiteFactory,
    TariffFactory,
    UserFactory,
    make_api_key,
    make_invitation,
)
from tests.firmware.factories_catalogue import make_image
from tests.fleet import factories_campaigns as fleet_factories

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def partner_object(org) -> dict:
    """The fields every object received from a partner has."""
    return {
        "organization": org,
        "partner": make_partner(org),
        "country_code": "NL",
        "party_id": "MSP",
        "ocpi_id": "1",
        "last_updated": NOW,
    }


def make_partner(org):
    return RoamingPartner.objects.create(
        organization=org, name="Hubject", country_code="DE", party_id="HUB"
    )


def make_invoice(org):
    return Invoice.objects.create(
        organization=org,
        sequence=1,
        number=f"{org.slug}-1",
        period_start=NOW,
        period_end=NOW,
        currency="EUR",
    )


def make_payment(org):
    return Payment.objects.create(
        organization=org,
        provider="stripe",
        idempotency_key=uuid.uuid4().hex,
        purpose="ad_hoc",
        status="captured",
        currency="EUR",
        amount_authorized=10,
        amount_captured=10,
    )


def make_alert(org):
    return Alert.objects.create(
        organization=org,
        kind="connector_faulted",
        severity="high",
        fingerprint=str(uuid.uuid4()),
        station=ChargingStationFactory(organization=org),
        opened_at=NOW,
        last_seen_at=NOW,
    )


def make_endpoint(org):
    return WebhookEndpoint.objects.create(organization=org, url="https://hooks.example.com/a")


def make_campaign(org, stations=()):
    return fleet_factories.make_campaign(org, fleet_factories.make_image(org), stations=stations)


def make_campaign_station(org):
    station = fleet_factories.make_station(org)
    return make_campaign(org, stations=[station]).targets.create(station=station, wave=0)


def make_bulk_command(org):
    return BulkCommand.objects.create(organization=org, command="restart_station")


def make_configuration_baseline(org):
    return ConfigurationBaseline.objects.create(
        organization=org, name=f"Baseline {ConfigurationBaseline.objects.count()}", vendor="ABB"
    )


def make_baseline_run(org):
    return BaselineRun.objects.create(
        baseline=make_configuration_baseline(org),
        station=ChargingStationFactory(organization=org),
    )


def make_maintenance_record(org, kind="inspection"):
    return MaintenanceRecord.objects.create(
        organization=org,
        station=ChargingStationFactory(organization=org),
        kind=kind,
        performed_at=NOW,
    )


BUILDERS = {
    "organizations.Organization": lambda org: org,
    "organizations.Membership": lambda org: MembershipFactory(organization=org),
    "cards.AccessGroup": lambda org: AccessGroupFactory(organization=org),
    "cards.IdToken": lambda org: IdTokenFactory(organization=org),
    "organizations.OrganizationAPIKey": lambda org: make_api_key(org)[0],
    "organizations.Invitation": lambda org: make_invitation(org, f"guest@{org.slug}.example")[0],
    "stations.Site": lambda org: SiteFactory(organization=org),
    "stations.ChargingStation": lambda org: ChargingStationFactory(organization=org),
    "stations.Evse": lambda org: Evse.objects.filter(
        station=ChargingStationFactory(organization=org)
    ).first(),
    "stations.Connector": lambda org: ChargingStationFactory(organization=org).connectors.first(),
    "stations.StatusEvent": lambda org: StatusEvent.objects.create(
        station=ChargingStationFactory(organization=org), status="Available", timestamp=NOW
    ),
    "stations.ConnectionEvent": lambda org: ConnectionEvent.objects.create(
        station=ChargingStationFactory(organization=org), state="online", at=NOW
    ),
    "stations.DiagnosticsRequest": lambda org: DiagnosticsRequest.objects.create(
        station=ChargingStationFactory(organization=org),
        token_hash=uuid.uuid4().hex * 2,
        command="get_diagnostics",
        expires_at=NOW,
    ),
    "stations.DiagnosticsFile": lambda org: DiagnosticsFile.objects.create(
        station=ChargingStationFactory(organization=org), file="diagnostics/a.log", size=3
    ),
    "stations.StationDataTransfer": lambda org: StationDataTransfer.objects.create(
        station=ChargingStationFactory(organization=org), direction="in", vendor_id="com.example"
    ),
    "stations.ChargingProfile": lambda org: ChargingProfile.objects.create(
        organization=org, name="Night", schedule_periods=[{"start_period": 0, "limit": 16}]
    ),
    "stations.StationVariable": lambda org: ChargingStationFactory(
        organization=org
    ).variables.create(component="OCPPCommCtrlr", variable="HeartbeatInterval", value="300"),
    "stations.DeviceModelReport": lambda org: ChargingStationFactory(
        organization=org
    ).device_model_reports.create(request_id=1, kind="FullInventory"),
    "stations.StationEvent": lambda org: ChargingStationFactory(
        organization=org
    ).station_events.create(kind="security_event", type="StartupOfTheDevice", timestamp=NOW),
    "stations.VariableMonitor": lambda org: ChargingStationFactory(
        organization=org
    ).variable_monitors.create(
        monitor_id=1,
        component="EVSE",
        variable="Temperature",
        type="UpperThreshold",
        value=80,
        severity=4,
        status="Accepted",
    ),
    "stations.CustomerInformationPart": lambda org: ChargingStationFactory(
        organization=org
    ).customer_information.create(request_id=1, seq_no=0, data="Jane", generated_at=NOW),
    "stations.ReportedChargingProfile": lambda org: ChargingStationFactory(
        organization=org
    ).reported_charging_profiles.create(
        request_id=1, source="CSO", profile_id=1, purpose="TxDefaultProfile", kind="Absolute"
    ),
    "stations.ExternalChargingLimit": lambda org: ChargingStationFactory(
        organization=org
    ).external_charging_limits.create(source="EMS"),
    "stations.EVChargingNeeds": lambda org: ChargingStationFactory(
        organization=org
    ).ev_charging_needs.create(evse_number=1, energy_transfer="DC"),
    "stations.FirmwarePublication": lambda org: ChargingStationFactory(
        organization=org
    ).firmware_publications.create(request_id=1, checksum="9e107d9d372bb6826bd81d3542a419d6"),
    "sessions_app.ChargingSession": lambda org: ChargingSessionFactory(
        station=ChargingStationFactory(organization=org)
    ),
    "sessions_app.MeterValue": lambda org: MeterValueFactory(
        session=ChargingSessionFactory(station=ChargingStationFactory(organization=org))
    ),
    "sessions_app.Reservation": lambda org: ReservationFactory(
        station=ChargingStationFactory(organization=org)
    ),
    "sessions_app.RemoteStart": lambda org: RemoteStartFactory(
        station=ChargingStationFactory(organization=org)
    ),
    "sessions_app.TransactionEvent": lambda org: TransactionEvent.objects.create(
        session=ChargingSessionFactory(station=ChargingStationFactory(organization=org)),
        seq_no=0,
        event_type="Started",
        trigger_reason="Authorized",
        timestamp=NOW,
    ),
    "billing.Tariff": lambda org: TariffFactory(organization=org),
    "availability.MaintenanceWindow": lambda org: MaintenanceWindow.objects.create(
        organization=org, starts_at=NOW, ends_at=NOW.replace(hour=14)
    ),
    "availability.MaintenanceWindowStation": lambda org: MaintenanceWindowStation.objects.create(
        window=MaintenanceWindow.objects.create(
            organization=org, starts_at=NOW, ends_at=NOW.replace(hour=14)
        ),
        station=ChargingStationFactory(organization=org),
    ),
    "availability.MaintenanceRecord": make_maintenance_record,
    "availability.MaintenanceAttachment": lambda org: MaintenanceAttachment.objects.create(
        record=make_maintenance_record(org, kind="repair"),
        file="maintenance/2026/01/photo.png",
        original_name="photo.png",
        content_type="image/png",
    ),
    "firmware.FirmwareImage": make_image,
    "fleet.Campaign": make_campaign,
    "fleet.CampaignStation": make_campaign_station,
    "baselines.ConfigurationBaseline": make_configuration_baseline,
    "baselines.BaselineSetting": lambda org: BaselineSetting.objects.create(
        baseline=make_configuration_baseline(org), variable="HeartbeatInterval", value="300"
    ),
    "baselines.StationDrift": lambda org: StationDrift.objects.create(
        baseline=make_configuration_baseline(org),
        station=ChargingStationFactory(organization=org),
    ),
    "baselines.BaselineRun": make_baseline_run,
    "baselines.BaselineResult": lambda org: BaselineResult.objects.create(
        run=make_baseline_run(org), variable="HeartbeatInterval", value="300", status="Accepted"
    ),
    "baselines.FirstBoot": lambda org: FirstBoot.objects.create(
        station=ChargingStationFactory(organization=org), organization=org
    ),
    "billing.TariffAssignment": lambda org: TariffAssignment.objects.create(
        organization=org, tariff=TariffFactory(organization=org), scope="organization"
    ),
    "billing.ChargeDetailRecord": lambda org: ChargeDetailRecord.objects.create(
        organization=org,
        session=ChargingSessionFactory(station=ChargingStationFactory(organization=org)),
        currency="EUR",
        accounted_at=NOW,
    ),
    "billing.BillingPeriod": lambda org: BillingPeriod.objects.create(
        organization=org, start=NOW, end=NOW.replace(month=2)
    ),
    "billing.Invoice": make_invoice,
    "billing.InvoiceLine": lambda org: InvoiceLine.objects.create(
        invoice=make_invoice(org), description="Charging"
    ),
    "billing.PaymentAccount": lambda org: PaymentAccount.objects.create(organization=org),
    "billing.Payment": make_payment,
    "billing.PaymentRefund": lambda org: PaymentRefund.objects.create(
        payment=make_payment(org), idempotency_key=uuid.uuid4().hex, amount=1, reason="Broken"
    ),
    "billing.PaymentEvent": lambda org: PaymentEvent.objects.create(
        provider="stripe", event_id=uuid.uuid4().hex, type="x", payment=make_payment(org)
    ),
    "roaming.RoamingPartner": make_partner,
    "roaming.RoamingActivity": lambda org: RoamingActivity.objects.create(
        organization=org,
        partner=make_partner(org),
        site=SiteFactory(organization=org),
        location_id="1",
        date=NOW.date(),
    ),
    "roaming.RoamingProfile": lambda org: RoamingProfile.objects.create(
        organization=org, country_code="DE", party_id=f"{org.pk:03d}"[-3:]
    ),
    "roaming.RoamingToken": lambda org: RoamingToken.objects.create(
        **partner_object(org),
        uid="04A1B2C3",
        type="RFID",
        contract_id="NL-MSP-C00001-1",
        issuer="Mobility",
        whitelist="ALWAYS",
    ),
    "roaming.PartnerLocation": lambda org: PartnerLocation.objects.create(**partner_object(org)),
    "roaming.PartnerTariff": lambda org: PartnerTariff.objects.create(
        **partner_object(org), currency="EUR"
    ),
    "roaming.PartnerSession": lambda org: PartnerSession.objects.create(
        **partner_object(org), start=NOW
    ),
    "roaming.PartnerCdr": lambda org: PartnerCdr.objects.create(
        **partner_object(org), start=NOW, end=NOW, currency="EUR"
    ),
    "roaming.RoamingCommand": lambda org: RoamingCommand.objects.create(
        organization=org,
        partner=make_partner(org),
        command="START_SESSION",
        response_url="https://emsp.example.com/commands/1",
    ),
    "roaming.OcpiPush": lambda org: OcpiPush.objects.create(
        organization=org, partner=make_partner(org), module="locations", object_key="1"
    ),
    "roaming.ModuleSync": lambda org: ModuleSync.objects.create(
        organization=org, partner=make_partner(org), module="locations"
    ),
    "roaming.OcpiExchange": lambda org: OcpiExchange.objects.create(
        organization=org, direction="in", method="GET", url="/ocpi/x/versions"
    ),
    "ocpp_gateway.CommandLog": lambda org: CommandLog.objects.create(
        station=ChargingStationFactory(organization=org), command="restart_station"
    ),
    "ocpp_gateway.OcppMessage": lambda org: OcppMessage.objects.create(
        station=ChargingStationFactory(organization=org),
        ocpp_id="x",
        direction="in",
        created=NOW,
    ),
    "ocpp_gateway.DisplayMessage": lambda org: DisplayMessage.objects.create(
        station=ChargingStationFactory(organization=org),
        message_id=1,
        priority="NormalCycle",
        content="Welcome",
        message_format="UTF8",
        status="accepted",
    ),
    "ocpp_gateway.StationCertificate": lambda org: StationCertificate.objects.create(
        station=ChargingStationFactory(organization=org),
        certificate_type="CSMSRootCertificate",
        status="reported",
    ),
    "ocpp_gateway.CertificateRequest": lambda org: CertificateRequest.objects.create(
        station=ChargingStationFactory(organization=org),
        csr="-----BEGIN CERTIFICATE REQUEST-----",
        status="rejected",
        provider="ocpp_gateway.certificates.NoCertificateAuthority",
    ),
    "ocpp_gateway.BulkCommand": make_bulk_command,
    "ocpp_gateway.BulkCommandResult": lambda org: BulkCommandResult.objects.create(
        bulk=make_bulk_command(org), station=ChargingStationFactory(organization=org)
    ),
    "alerts.AlertRule": lambda org: AlertRule.objects.create(
        organization=org, name="Offline", kind="station_offline"
    ),
    "alerts.Alert": make_alert,
    "alerts.AlertHistory": lambda org: AlertHistory.objects.create(
        alert=make_alert(org), action="opened", at=NOW
    ),
    "alerts.NotificationPreference": lambda org: NotificationPreference.objects.create(
        membership=MembershipFactory(organization=org)
    ),
    "alerts.Notification": lambda org: Notification.objects.create(
        alert=make_alert(org), recipient=UserFactory(), kind="opened"
    ),
    "alerts.WebhookEndpoint": make_endpoint,
    "alerts.WebhookDelivery": lambda org: WebhookDelivery.objects.create(
        endpoint=make_endpoint(org), event_id=uuid.uuid4(), event_type="ping", payload={}
    ),
}


def tenant_models():
    return [
        m
        for m in apps.get_models()
        if isinstance(getattr(m, "objects", None) and m.objects.all(), TenantQuerySet)
    ]


def test_every_tenant_model_is_covered_here():
    covered = set(BUILDERS)
    declared = {m._meta.label for m in tenant_models()}
    assert declared - covered == set(), "add a builder for each new tenant model"


@pytest.fixture(params=sorted(BUILDERS))
def pair(request, org, other_org):
    """One row of the model for `org` and one for the outsider organization."""
    build = BUILDERS[request.param]
    ours, theirs = build(org), build(other_org)
    return type(ours), ours, theirs


def test_for_org_returns_only_that_organizations_rows(pair, org, other_org):
    model, ours, theirs = pair
    assert set(model.objects.for_org(org).values_list("pk", flat=True)) >= {ours.pk}
    assert theirs.pk not in model.objects.for_org(org).values_list("pk", flat=True)
    assert ours.pk not in model.objects.for_org(other_org).values_list("pk", flat=True)


def test_visible_to_shows_a_member_their_rows_and_an_outsider_none(pair, org):
    model, ours, theirs = pair
    member = UserFactory()
    Membership.objects.create(user=member, organization=org, role=Role.VIEWER)
    visible = set(model.objects.visible_to(member).values_list("pk", flat=True))
    assert ours.pk in visible
    assert theirs.pk not in visible


def test_visible_to_shows_the_union_for_a_member_of_several_organizations(pair, org, other_org):
    model, ours, theirs = pair
    member = UserFactory()
    Membership.objects.create(user=member, organization=org)
    Membership.objects.create(user=member, organization=other_org)
    visible = set(model.objects.visible_to(member).values_list("pk", flat=True))
    assert {ours.pk, theirs.pk} <= visible
    assert model.objects.visible_to(member).count() == len(visible), "no duplicate rows"


def test_visible_to_shows_nothing_to_anonymous_users_or_users_without_membership(pair):
    model, _, _ = pair
    assert not model.objects.visible_to(AnonymousUser()).exists()
    assert not model.objects.visible_to(UserFactory()).exists()


def test_unassigned_stations_belong_to_no_organization(org):
    from stations.models import ChargingStation

    pending = ChargingStation.objects.create(ocpp_id="NEW-1", organization=None)
    member = UserFactory()
    Membership.objects.create(user=member, organization=org)
    assert pending in ChargingStation.objects.unassigned()
    assert not ChargingStation.objects.visible_to(member).filter(pk=pending.pk).exists()
