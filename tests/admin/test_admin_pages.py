"""Every admin page of the domain apps renders, finds what support staff search for, and
keeps a query budget that does not grow with the number of rows."""

import uuid
from datetime import UTC, date, datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
    GatewayLease,
    OcppMessage,
    StationCertificate,
)
from portal.models import UserPreference
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
from sessions_app.choices import SessionState
from sessions_app.models import TransactionEvent
from stations.models import (
    ChargingProfile,
    ConnectionEvent,
    DiagnosticsFile,
    DiagnosticsRequest,
    Evse,
    StatusEvent,
)
from tests.admin.helpers import admin_url
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    MembershipFactory,
    MeterValueFactory,
    OrganizationFactory,
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

DOMAIN_APPS = (
    "organizations",
    "cards",
    "stations",
    "sessions_app",
    "billing",
    "roaming",
    "ocpp_gateway",
    "portal",
    "availability",
    "alerts",
    "firmware",
    "fleet",
    "baselines",
    "scan2pay",
)
WHEN = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


# Each builder makes one row tagged with `tag` and returns it with a search term that must
# find it (and not a row built with another tag).


def build_organization(tag):
    return OrganizationFactory(name=f"Org {tag}", slug=f"org-{tag.lower()}"), tag


def build_membership(tag):
    username = f"member-{tag.lower()}"
    return MembershipFactory(user=UserFactory(username=username)), username


def build_access_group(tag):
    return AccessGroupFactory(name=f"Group {tag}"), tag


def build_id_token(tag):
    return IdTokenFactory(uid=f"UID{tag}", holder_name=f"Holder {tag}"), f"UID{tag}"


def build_site(tag):
    return SiteFactory(name=f"Site {tag}"), tag


def build_charging_profile(tag):
    profile = ChargingProfile.objects.create(
        organization=OrganizationFactory(),
        name=f"Profile {tag}",
        schedule_periods=[{"start_period": 0, "limit": 16.0}],
    )
    return profile, f"Profile {tag}"


def build_station(tag):
    return ChargingStationFactory(ocpp_id=f"CS-{tag}"), f"CS-{tag}"


def build_evse(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    return Evse.objects.create(station=station, evse_number=1, evse_id=f"DE*{tag}*E1"), tag


def build_connector(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=1)
    return station.connectors.get(), f"CS-{tag}"


def build_status_event(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    event = StatusEvent.objects.create(
        station=station, connector_number=0, status="Available", timestamp=WHEN
    )
    return event, f"CS-{tag}"


def build_connection_event(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    return ConnectionEvent.objects.create(station=station, state="offline", at=WHEN), f"CS-{tag}"


def build_diagnostics_request(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    request = DiagnosticsRequest.objects.create(
        station=station, token_hash=f"{tag:0>64}"[-64:], command="get_diagnostics", expires_at=WHEN
    )
    return request, f"CS-{tag}"


def build_diagnostics_file(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    upload = DiagnosticsFile.objects.create(
        station=station, file=f"diagnostics/{tag}.log", original_name=f"{tag}.log", size=3
    )
    return upload, f"CS-{tag}"


def build_station_variable(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    variable = station.variables.create(component="OCPPCommCtrlr", variable="HeartbeatInterval")
    return variable, f"CS-{tag}"


def build_device_model_report(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    report = station.device_model_reports.create(request_id=1, kind="FullInventory")
    return report, f"CS-{tag}"


def build_station_event(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    event = station.station_events.create(
        kind="security_event", type="StartupOfTheDevice", timestamp=WHEN
    )
    return event, f"CS-{tag}"


def build_variable_monitor(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    monitor = station.variable_monitors.create(
        monitor_id=1,
        component="EVSE",
        variable="Temperature",
        type="UpperThreshold",
        value=80,
        severity=4,
        status="Accepted",
    )
    return monitor, f"CS-{tag}"


def build_customer_information_part(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    part = station.customer_information.create(
        request_id=1, seq_no=0, data="Jane", generated_at=WHEN
    )
    return part, f"CS-{tag}"


def build_reported_charging_profile(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    profile = station.reported_charging_profiles.create(
        request_id=1, source="CSO", profile_id=7, purpose="TxDefaultProfile", kind="Absolute"
    )
    return profile, f"CS-{tag}"


def build_external_charging_limit(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    limit = station.external_charging_limits.create(source="EMS", grid_critical=False)
    return limit, f"CS-{tag}"


def build_ev_charging_needs(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    needs = station.ev_charging_needs.create(evse_number=1, energy_transfer="AC_three_phase")
    return needs, f"CS-{tag}"


def build_firmware_publication(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    publication = station.firmware_publications.create(
        location=f"https://fw.example/{tag.lower()}.bin", checksum="0" * 32, status="Published"
    )
    return publication, f"CS-{tag}"


def build_transaction_event(tag):
    session = ChargingSessionFactory(transaction_id=f"TX-{tag}")
    event = TransactionEvent.objects.create(
        session=session,
        seq_no=0,
        event_type="Started",
        trigger_reason="Authorized",
        timestamp=WHEN,
    )
    return event, f"TX-{tag}"


def build_data_transfer(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    transfer = station.data_transfers.create(
        direction="in", vendor_id=f"com.{tag.lower()}", message_id="hello", data={"a": 1}
    )
    return transfer, f"CS-{tag}"


def build_session(tag):
    return ChargingSessionFactory(transaction_id=f"TX-{tag}"), f"TX-{tag}"


def build_meter_value(tag):
    return MeterValueFactory(session__transaction_id=f"TX-{tag}"), f"TX-{tag}"


def build_reservation(tag):
    return ReservationFactory(id_tag=f"TAG{tag}"), f"TAG{tag}"


def build_remote_start(tag):
    return RemoteStartFactory(id_tag=f"TAG{tag}"), f"TAG{tag}"


def build_tariff(tag):
    return TariffFactory(name=f"Tariff {tag}"), tag


def build_tariff_assignment(tag):
    tariff = TariffFactory(name=f"Tariff {tag}")
    assignment = TariffAssignment.objects.create(
        organization=tariff.organization, tariff=tariff, scope="organization"
    )
    return assignment, tag


def build_cdr(tag):
    session = ChargingSessionFactory(
        transaction_id=f"TX-{tag}", state=SessionState.COMPLETED, stop=WHEN, energy_wh=12345
    )
    cdr = ChargeDetailRecord.objects.create(
        organization=session.organization,
        session=session,
        currency="EUR",
        energy_wh=12345,
        total_excl_tax="4.81",
        tax_amount="0.91",
        total_incl_tax="5.72",
        accounted_at=WHEN,
    )
    return cdr, f"TX-{tag}"


def build_billing_period(tag):
    period = BillingPeriod.objects.create(
        organization=OrganizationFactory(name=f"Org {tag}", slug=f"org-{tag.lower()}"),
        start=datetime(2026, 1, 1, tzinfo=UTC),
        end=datetime(2026, 2, 1, tzinfo=UTC),
    )
    return period, f"Org {tag}"


def make_invoice(tag):
    return Invoice.objects.create(
        organization=OrganizationFactory(),
        sequence=1,
        number=f"INV-{tag}",
        period_start=datetime(2026, 1, 1, tzinfo=UTC),
        period_end=datetime(2026, 2, 1, tzinfo=UTC),
        currency="EUR",
        total_incl_tax="5.72",
    )


def build_invoice(tag):
    return make_invoice(tag), f"INV-{tag}"


def build_invoice_line(tag):
    line = InvoiceLine.objects.create(invoice=make_invoice(tag), description=f"Charging {tag}")
    return line, f"Charging {tag}"


def build_payment_account(tag):
    organization = OrganizationFactory(name=f"Org {tag}", slug=f"org-{tag.lower()}")
    return PaymentAccount.objects.create(organization=organization), f"Org {tag}"


def make_payment(tag):
    return Payment.objects.create(
        organization=OrganizationFactory(),
        provider="stripe",
        reference=f"pi_{tag}",
        idempotency_key=uuid.uuid4().hex,
        purpose="ad_hoc",
        status="captured",
        currency="EUR",
        amount_authorized="10.00",
        amount_captured="10.00",
    )


def build_payment(tag):
    return make_payment(tag), f"pi_{tag}"


def build_payment_refund(tag):
    refund = PaymentRefund.objects.create(
        payment=make_payment(tag),
        reference=f"re_{tag}",
        idempotency_key=uuid.uuid4().hex,
        amount="2.50",
        reason="Cable fault",
    )
    return refund, f"re_{tag}"


def build_payment_event(tag):
    event = PaymentEvent.objects.create(
        provider="stripe",
        event_id=f"evt_{tag}",
        type="payment_intent.succeeded",
        payment=make_payment(tag),
    )
    return event, f"evt_{tag}"


def make_partner(tag):
    return RoamingPartner.objects.create(
        organization=OrganizationFactory(),
        name=f"Partner {tag}",
        country_code="DE",
        party_id="ABC",
        credentials_token="token-of-at-least-sixteen-characters",
    )


def build_user_preference(tag):
    user = UserFactory(username=f"pref-{tag.lower()}")
    return UserPreference.objects.create(user=user, language="de"), user.username


def build_roaming_partner(tag):
    return make_partner(tag), f"Partner {tag}"


def build_roaming_activity(tag):
    partner = make_partner(tag)
    activity = RoamingActivity.objects.create(
        organization=partner.organization,
        partner=partner,
        site=SiteFactory(organization=partner.organization),
        location_id="1",
        date=date(2026, 1, 1),
        sessions=3,
        energy_wh=30000,
    )
    return activity, f"Partner {tag}"


def build_roaming_profile(tag):
    organization = OrganizationFactory(name=f"Operator {tag}")
    profile = RoamingProfile.objects.create(
        organization=organization,
        country_code="DE",
        # Unique on the platform: ALPHA → ALA, ROW3 → RO3.
        party_id=(tag[:2] + tag[-1]).upper(),
        name=f"Operator {tag}",
    )
    return profile, f"Operator {tag}"


def received(model, tag, **fields):
    """An object a partner sent us; found by the partner's name."""
    partner = make_partner(tag)
    row = model.objects.create(
        organization=partner.organization,
        partner=partner,
        country_code="NL",
        party_id="MSP",
        ocpi_id=f"OBJ-{tag}",
        last_updated=datetime(2026, 1, 1, tzinfo=UTC),
        **fields,
    )
    return row, f"Partner {tag}"


def build_roaming_token(tag):
    return received(
        RoamingToken, tag, uid=f"UID{tag}", type="RFID", contract_id="C1", whitelist="ALWAYS"
    )


def build_partner_location(tag):
    return received(PartnerLocation, tag, name=f"Zuidas {tag}")


def build_partner_tariff(tag):
    return received(PartnerTariff, tag, currency="EUR")


def build_partner_session(tag):
    return received(PartnerSession, tag, start=datetime(2026, 1, 1, tzinfo=UTC))


def build_partner_cdr(tag):
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return received(PartnerCdr, tag, start=moment, end=moment, currency="EUR")


def build_roaming_command(tag):
    partner = make_partner(tag)
    command = RoamingCommand.objects.create(
        organization=partner.organization,
        partner=partner,
        command="START_SESSION",
        response_url="https://partner.example/commands/1",
    )
    return command, f"Partner {tag}"


def build_ocpi_push(tag):
    partner = make_partner(tag)
    push = OcpiPush.objects.create(
        organization=partner.organization, partner=partner, module="cdrs", object_key="1"
    )
    return push, f"Partner {tag}"


def build_module_sync(tag):
    partner = make_partner(tag)
    sync = ModuleSync.objects.create(
        organization=partner.organization, partner=partner, module="cdrs"
    )
    return sync, f"Partner {tag}"


def build_ocpi_exchange(tag):
    partner = make_partner(tag)
    exchange = OcpiExchange.objects.create(
        organization=partner.organization,
        partner=partner,
        direction="out",
        module="cdrs",
        method="POST",
        url=f"https://partner.example/{tag}/cdrs",
        http_status=200,
        ocpi_status=1000,
    )
    return exchange, f"/{tag}/cdrs"


def build_api_key(tag):
    api_key, _secret = make_api_key(OrganizationFactory(), name=f"Key {tag}")
    return api_key, f"Key {tag}"


def build_invitation(tag):
    invitation, _token = make_invitation(OrganizationFactory(), f"guest-{tag.lower()}@example.com")
    return invitation, f"guest-{tag.lower()}@"


def build_command_log(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    command = CommandLog.objects.create(
        station=station, command="reset", action="Reset", payload={"type": "Soft"}
    )
    return command, f"CS-{tag}"


def build_ocpp_message(tag):
    message = OcppMessage.objects.create(
        ocpp_id=f"CS-{tag}",
        direction="in",
        message_type=2,
        action="Heartbeat",
        unique_id=f"msg-{tag.lower()}",
        payload={},
        created=WHEN,
    )
    return message, f"CS-{tag}"


def build_display_message(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    message = DisplayMessage.objects.create(
        station=station,
        message_id=1,
        priority="NormalCycle",
        content=f"Welcome {tag}",
        message_format="UTF8",
        status="accepted",
    )
    return message, f"CS-{tag}"


def build_station_certificate(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    certificate = StationCertificate.objects.create(
        station=station,
        certificate_type="CSMSRootCertificate",
        subject=f"CN=Root {tag}",
        status="reported",
    )
    return certificate, f"CS-{tag}"


def build_certificate_request(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    request = CertificateRequest.objects.create(
        station=station, csr="-----BEGIN CERTIFICATE REQUEST-----", status="rejected", provider="x"
    )
    return request, f"CS-{tag}"


def build_gateway_lease(tag):
    lease = GatewayLease.objects.create(holder=f"host-{tag}:4242", started=WHEN, expires=WHEN)
    return lease, f"host-{tag}:4242"


def build_maintenance_window(tag):
    window = MaintenanceWindow.objects.create(
        organization=OrganizationFactory(),
        starts_at=WHEN,
        ends_at=WHEN.replace(hour=14),
        reason=f"Window {tag}",
    )
    return window, f"Window {tag}"


def build_maintenance_window_station(tag):
    window, _ = build_maintenance_window(tag)
    station = ChargingStationFactory(
        organization=window.organization, ocpp_id=f"CS-{tag}", connectors=0
    )
    return MaintenanceWindowStation.objects.create(window=window, station=station), f"CS-{tag}"


def build_maintenance_record(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    record = MaintenanceRecord.objects.create(
        organization=station.organization, station=station, kind="inspection", performed_at=WHEN
    )
    return record, f"CS-{tag}"


def build_maintenance_attachment(tag):
    record, _ = build_maintenance_record(tag)
    attachment = MaintenanceAttachment.objects.create(
        record=record,
        file=f"maintenance/{tag}.png",
        original_name=f"photo-{tag}.png",
        content_type="image/png",
    )
    return attachment, f"photo-{tag}"


def build_bulk_command(tag):
    username = f"bulk-{tag.lower()}"
    bulk = BulkCommand.objects.create(
        organization=OrganizationFactory(),
        command="restart_station",
        requested_by=UserFactory(username=username),
    )
    return bulk, username


def build_bulk_command_result(tag):
    bulk, _ = build_bulk_command(tag)
    station = ChargingStationFactory(
        organization=bulk.organization, ocpp_id=f"CS-{tag}", connectors=0
    )
    return BulkCommandResult.objects.create(bulk=bulk, station=station), f"CS-{tag}"


def build_firmware_image(tag):
    return make_image(OrganizationFactory(), version=tag), tag


def make_campaign(tag, stations=()):
    organization = stations[0].organization if stations else OrganizationFactory()
    image = fleet_factories.make_image(organization)
    return fleet_factories.make_campaign(
        organization, image, stations=stations, name=f"Campaign {tag}"
    )


def build_campaign(tag):
    return make_campaign(tag), f"Campaign {tag}"


def build_campaign_station(tag):
    station = fleet_factories.make_station(OrganizationFactory(), ocpp_id=f"CS-{tag}")
    campaign = make_campaign(tag, stations=[station])
    return campaign.targets.create(station=station, wave=0), f"CS-{tag}"


def build_configuration_baseline(tag):
    baseline = ConfigurationBaseline.objects.create(
        organization=OrganizationFactory(), name=f"Baseline {tag}", vendor="ABB"
    )
    return baseline, f"Baseline {tag}"


def build_baseline_setting(tag):
    baseline, _ = build_configuration_baseline(tag)
    setting = BaselineSetting.objects.create(baseline=baseline, variable=f"Key{tag}", value="1")
    return setting, f"Key{tag}"


def build_baseline_run(tag):
    baseline, _ = build_configuration_baseline(tag)
    station = ChargingStationFactory(
        organization=baseline.organization, ocpp_id=f"CS-{tag}", connectors=0
    )
    return BaselineRun.objects.create(baseline=baseline, station=station), f"CS-{tag}"


def build_baseline_result(tag):
    run, _ = build_baseline_run(tag)
    result = BaselineResult.objects.create(
        run=run, variable=f"Key{tag}", value="1", status="Accepted"
    )
    return result, f"Key{tag}"


def build_station_drift(tag):
    baseline, _ = build_configuration_baseline(tag)
    station = ChargingStationFactory(
        organization=baseline.organization, ocpp_id=f"CS-{tag}", connectors=0
    )
    return StationDrift.objects.create(baseline=baseline, station=station), f"CS-{tag}"


def build_first_boot(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    return FirstBoot.objects.create(station=station, organization=station.organization), f"CS-{tag}"


def make_alert(tag):
    station = ChargingStationFactory(ocpp_id=f"CS-{tag}", connectors=0)
    return Alert.objects.create(
        organization=station.organization,
        kind="station_offline",
        severity="high",
        fingerprint=f"0:station_offline:station:{tag}",
        station=station,
        opened_at=WHEN,
        last_seen_at=WHEN,
    )


def build_alert(tag):
    return make_alert(tag), f"CS-{tag}"


def build_alert_history(tag):
    history = AlertHistory.objects.create(alert=make_alert(tag), action="opened", at=WHEN)
    return history, f"CS-{tag}"


def build_alert_rule(tag):
    rule = AlertRule.objects.create(
        organization=OrganizationFactory(), name=f"Rule {tag}", kind="connector_faulted"
    )
    return rule, f"Rule {tag}"


def build_notification_preference(tag):
    username = f"pref-member-{tag.lower()}"
    membership = MembershipFactory(user=UserFactory(username=username))
    return NotificationPreference.objects.create(membership=membership), username


def build_notification(tag):
    username = f"mailto-{tag.lower()}"
    notification = Notification.objects.create(
        alert=make_alert(tag), recipient=UserFactory(username=username), kind="opened"
    )
    return notification, username


def make_endpoint(tag):
    return WebhookEndpoint.objects.create(
        organization=OrganizationFactory(), url=f"https://{tag.lower()}.example.com/hook"
    )


def build_webhook_endpoint(tag):
    return make_endpoint(tag), f"{tag.lower()}.example.com"


def build_webhook_delivery(tag):
    delivery = WebhookDelivery.objects.create(
        endpoint=make_endpoint(tag),
        event_id=uuid.uuid4(),
        event_type="alert.opened",
        payload={},
    )
    return delivery, f"{tag.lower()}.example.com"


BUILDERS = {
    "organizations.organization": build_organization,
    "organizations.membership": build_membership,
    "cards.accessgroup": build_access_group,
    "cards.idtoken": build_id_token,
    "organizations.organizationapikey": build_api_key,
    "organizations.invitation": build_invitation,
    "stations.site": build_site,
    "stations.chargingstation": build_station,
    "stations.evse": build_evse,
    "stations.connector": build_connector,
    "stations.statusevent": build_status_event,
    "stations.connectionevent": build_connection_event,
    "stations.stationdatatransfer": build_data_transfer,
    "stations.chargingprofile": build_charging_profile,
    "stations.stationvariable": build_station_variable,
    "stations.devicemodelreport": build_device_model_report,
    "stations.stationevent": build_station_event,
    "stations.variablemonitor": build_variable_monitor,
    "stations.customerinformationpart": build_customer_information_part,
    "stations.reportedchargingprofile": build_reported_charging_profile,
    "stations.externalcharginglimit": build_external_charging_limit,
    "stations.evchargingneeds": build_ev_charging_needs,
    "stations.firmwarepublication": build_firmware_publication,
    "stations.diagnosticsrequest": build_diagnostics_request,
    "stations.diagnosticsfile": build_diagnostics_file,
    "sessions_app.transactionevent": build_transaction_event,
    "sessions_app.chargingsession": build_session,
    "sessions_app.metervalue": build_meter_value,
    "sessions_app.reservation": build_reservation,
    "sessions_app.remotestart": build_remote_start,
    "billing.tariff": build_tariff,
    "billing.tariffassignment": build_tariff_assignment,
    "billing.chargedetailrecord": build_cdr,
    "billing.billingperiod": build_billing_period,
    "billing.invoice": build_invoice,
    "billing.invoiceline": build_invoice_line,
    "billing.paymentaccount": build_payment_account,
    "billing.payment": build_payment,
    "billing.paymentrefund": build_payment_refund,
    "billing.paymentevent": build_payment_event,
    "roaming.roamingpartner": build_roaming_partner,
    "roaming.roamingactivity": build_roaming_activity,
    "roaming.roamingprofile": build_roaming_profile,
    "roaming.roamingtoken": build_roaming_token,
    "roaming.partnerlocation": build_partner_location,
    "roaming.partnertariff": build_partner_tariff,
    "roaming.partnersession": build_partner_session,
    "roaming.partnercdr": build_partner_cdr,
    "roaming.roamingcommand": build_roaming_command,
    "roaming.ocpipush": build_ocpi_push,
    "roaming.modulesync": build_module_sync,
    "roaming.ocpiexchange": build_ocpi_exchange,
    "ocpp_gateway.commandlog": build_command_log,
    "ocpp_gateway.ocppmessage": build_ocpp_message,
    "ocpp_gateway.gatewaylease": build_gateway_lease,
    "ocpp_gateway.displaymessage": build_display_message,
    "ocpp_gateway.stationcertificate": build_station_certificate,
    "ocpp_gateway.certificaterequest": build_certificate_request,
    "ocpp_gateway.bulkcommand": build_bulk_command,
    "ocpp_gateway.bulkcommandresult": build_bulk_command_result,
    "portal.userpreference": build_user_preference,
    "availability.maintenancewindow": build_maintenance_window,
    "availability.maintenancewindowstation": build_maintenance_window_station,
    "availability.maintenancerecord": build_maintenance_record,
    "availability.maintenanceattachment": build_maintenance_attachment,
    "firmware.firmwareimage": build_firmware_image,
    "fleet.campaign": build_campaign,
    "fleet.campaignstation": build_campaign_station,
    "baselines.configurationbaseline": build_configuration_baseline,
    "baselines.baselinesetting": build_baseline_setting,
    "baselines.baselinerun": build_baseline_run,
    "baselines.baselineresult": build_baseline_result,
    "baselines.stationdrift": build_station_drift,
    "baselines.firstboot": build_first_boot,
    "alerts.alert": build_alert,
    "alerts.alerthistory": build_alert_history,
    "alerts.alertrule": build_alert_rule,
    "alerts.notificationpreference": build_notification_preference,
    "alerts.notification": build_notification,
    "alerts.webhookendpoint": build_webhook_endpoint,
    "alerts.webhookdelivery": build_webhook_delivery,
}

# What support staff may do by hand; everything else the system writes.
ADDABLE = {
    "organizations.organization",
    "organizations.membership",
    "cards.accessgroup",
    "cards.idtoken",
    "stations.site",
    "stations.chargingstation",
    "stations.evse",
    "stations.connector",
    "stations.chargingprofile",
    "billing.tariff",
    "billing.tariffassignment",
    "billing.paymentaccount",
    "roaming.roamingpartner",
    "roaming.roamingprofile",
    "portal.userpreference",
    "availability.maintenancewindow",
    "availability.maintenancerecord",
    "baselines.configurationbaseline",
    "alerts.alertrule",
    "alerts.notificationpreference",
}
CHANGEABLE = ADDABLE | {
    "sessions_app.chargingsession",
    "billing.invoice",
    "alerts.webhookendpoint",
    # Release notes only: the file and its checksums are what stations were sent.
    "firmware.firmwareimage",
    # The name only: targets and waves are what the campaign was launched with.
    "fleet.campaign",
}
NEVER_DELETED = {
    "billing.chargedetailrecord",
    "billing.billingperiod",
    "billing.invoice",
    "billing.invoiceline",
    "billing.payment",
    "billing.paymentrefund",
    "billing.paymentevent",
}

REGISTERED = sorted(
    (model for model in admin.site._registry if model._meta.app_label in DOMAIN_APPS),
    key=lambda model: model._meta.label_lower,
)


def build(model, tag):
    label = model._meta.label_lower
    if label not in BUILDERS:
        pytest.fail(f"{label} is registered in the admin: add a builder for it to BUILDERS")
    return BUILDERS[label](tag)


def per_model(test):
    return pytest.mark.parametrize(
        "model", REGISTERED, ids=[model._meta.label_lower for model in REGISTERED]
    )(test)


def test_every_model_of_the_domain_apps_is_registered():
    models = {model for app in DOMAIN_APPS for model in apps.get_app_config(app).get_models()}
    missing = sorted(model._meta.label for model in models - set(admin.site._registry))
    assert missing == []


@per_model
def test_changelist_lists_a_row(superuser_client, model):
    obj, _ = build(model, "ALPHA")

    response = superuser_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [obj]
    assert admin_url(obj, "change") in response.content.decode()


@per_model
def test_changelist_search_finds_only_the_matching_row(superuser_client, model):
    wanted, term = build(model, "ALPHA")
    other, _ = build(model, "BRAVO")

    response = superuser_client.get(admin_url(model, "changelist"), {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [wanted]
    page = response.content.decode()
    assert admin_url(wanted, "change") in page
    assert admin_url(other, "change") not in page


@per_model
def test_add_page_renders_only_where_adding_is_allowed(superuser_client, model):
    response = superuser_client.get(admin_url(model, "add"))

    assert response.status_code == (200 if model._meta.label_lower in ADDABLE else 403)


@per_model
def test_change_page_renders_editable_or_view_only(superuser_client, model):
    obj, _ = build(model, "ALPHA")

    response = superuser_client.get(admin_url(obj, "change"))

    assert response.status_code == 200
    expected = model._meta.label_lower in CHANGEABLE
    assert response.context["has_change_permission"] is expected


@per_model
def test_delete_page_is_refused_only_for_records_that_must_stay(superuser_client, model):
    obj, _ = build(model, "ALPHA")

    response = superuser_client.get(admin_url(obj, "delete"))

    assert response.status_code == (403 if model._meta.label_lower in NEVER_DELETED else 200)


@per_model
def test_changelist_query_count_does_not_grow_with_rows(superuser_client, model):
    build(model, "ROW0")
    url = admin_url(model, "changelist")
    superuser_client.get(url)  # warms caches (content types, site) outside the count
    with CaptureQueriesContext(connection) as one_row:
        superuser_client.get(url)
    for number in range(1, 6):
        build(model, f"ROW{number}")

    with CaptureQueriesContext(connection) as six_rows:
        response = superuser_client.get(url)

    assert len(response.context["cl"].result_list) == 6
    assert len(six_rows) == len(one_row), [query["sql"] for query in six_rows]


@pytest.mark.parametrize(
    ("builder", "url_name"),
    [
        (build_station, "admin:stations_chargingstation_changelist"),
        (build_session, "admin:sessions_app_chargingsession_changelist"),
        (build_id_token, "admin:cards_idtoken_changelist"),
    ],
    ids=["stations", "sessions", "id tokens"],
)
def test_busy_changelists_stay_within_a_query_budget_with_20_rows(
    superuser_client, django_assert_max_num_queries, builder, url_name
):
    for number in range(20):
        builder(f"ROW{number}")

    with django_assert_max_num_queries(10):
        response = superuser_client.get(reverse(url_name))

    assert len(response.context["cl"].result_list) == 20


def test_station_search_finds_a_station_by_serial_number(superuser_client):
    wanted = ChargingStationFactory(serial_number="SN-WANTED-1")
    ChargingStationFactory(serial_number="SN-OTHER-2")

    response = superuser_client.get(admin_url(wanted, "changelist"), {"q": "WANTED"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_id_token_search_finds_a_card_by_holder_name(superuser_client):
    wanted = IdTokenFactory(holder_name="Erika Mustermann")
    IdTokenFactory(holder_name="Max Mustermann")

    response = superuser_client.get(admin_url(wanted, "changelist"), {"q": "erika"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_session_search_finds_a_session_by_id_tag(superuser_client):
    wanted = ChargingSessionFactory(id_tag="04AABBCCDD")
    ChargingSessionFactory(id_tag="04EEFF0011")

    response = superuser_client.get(admin_url(wanted, "changelist"), {"q": "04AABBCCDD"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_session_search_finds_sessions_by_station_ocpp_id(superuser_client):
    wanted = ChargingSessionFactory(station=ChargingStationFactory(ocpp_id="CS-HAMBURG-7"))
    ChargingSessionFactory(station=ChargingStationFactory(ocpp_id="CS-MUNICH-3"))

    response = superuser_client.get(admin_url(wanted, "changelist"), {"q": "HAMBURG"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_session_search_by_transaction_id_does_not_match_longer_ids(superuser_client):
    wanted = ChargingSessionFactory(
        transaction_id="7", station=ChargingStationFactory(ocpp_id="CS-NORTH")
    )
    ChargingSessionFactory(transaction_id="17", station=ChargingStationFactory(ocpp_id="CS-SOUTH"))

    response = superuser_client.get(admin_url(wanted, "changelist"), {"q": "7"})

    assert list(response.context["cl"].result_list) == [wanted]


def test_anonymous_visitor_is_sent_to_the_login_page(client, db):
    response = client.get("/admin/stations/chargingstation/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_logged_in_user_without_staff_status_cannot_reach_the_admin(client, station):
    user = UserFactory(username="driver")
    client.force_login(user)

    index = client.get("/admin/")
    changelist = client.get(admin_url(station, "changelist"))
    change = client.get(admin_url(station, "change"))

    for response in (index, changelist, change):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_member_with_every_permission_still_cannot_delete_log_rows(client, db):
    message, _ = build_ocpp_message("ALPHA")
    staff = UserFactory(username="staff")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="ocpp_gateway"))
    client.force_login(staff)

    view = client.get(admin_url(message, "change"))
    delete = client.get(admin_url(message, "delete"))

    assert view.status_code == 200
    assert delete.status_code == 403


def test_ocpp_message_cannot_be_changed_even_by_a_superuser(superuser_client):
    message, _ = build_ocpp_message("ALPHA")

    response = superuser_client.post(admin_url(message, "change"), {"action": "Reset"})

    message.refresh_from_db()
    assert response.status_code == 403
    assert message.action == "Heartbeat"


def test_superuser_can_delete_an_ocpp_message(superuser_client):
    message, _ = build_ocpp_message("ALPHA")

    response = superuser_client.post(admin_url(message, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not OcppMessage.objects.filter(pk=message.pk).exists()


def test_charge_detail_record_cannot_be_deleted_even_by_a_superuser(superuser_client):
    cdr, _ = build_cdr("ALPHA")

    response = superuser_client.post(admin_url(cdr, "delete"), {"post": "yes"})

    assert response.status_code == 403
    assert ChargeDetailRecord.objects.filter(pk=cdr.pk).exists()
