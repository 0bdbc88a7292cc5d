"""2.0.1 commands of smart charging, firmware publication and network profiles."""

import re
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import intents
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import send
from ocpp_gateway.remote.maintenance import FileLocationField
from ocpp_gateway.remote.registry import CommandContext, CommandSpec, register
from organizations.choices import Role
from stations.choices import SecurityProfile
from stations.models import ChargingLimitSource, Evse
from stations.pages import register_station_part
from stations.smart_charging import (
    forget_firmware_publication,
    forget_reported_profiles,
    record_firmware_publication,
    record_firmware_unpublished,
    station_smart_charging,
)

# 2.0.1's purposes: the platform's three (in 2.0.1's words) and the limits set beside the CSMS.
PROFILE_PURPOSES = (
    "ChargingStationMaxProfile",
    "TxDefaultProfile",
    "TxProfile",
    "ChargingStationExternalConstraints",
)
OCPP_INTERFACES = tuple(f"{kind}{n}" for kind in ("Wired", "Wireless") for n in range(4))
# NetworkConnectionProfileType.ocppVersion: OCPP20 stands for every 2.0.x.
OCPP_VERSIONS = ("OCPP20", "OCPP16", "OCPP15", "OCPP12")
TLS_PROFILES = (SecurityProfile.TLS_BASIC, SecurityProfile.TLS_CLIENT_CERT)
_MD5 = re.compile(r"^[0-9A-Fa-f]{32}$")


class StationEvseField(serializers.IntegerField):
    """A 2.0.1 evseId of the station, or 0 for the station itself."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("label", _("EVSE"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        number = super().to_internal_value(data)
        station = self.context["station"]
        if number and not Evse.objects.filter(station=station, evse_number=number).exists():
            raise serializers.ValidationError(_("The station has no EVSE %(n)d.") % {"n": number})
        return number


class ChecksumField(serializers.CharField):
    """The MD5 checksum of a firmware image: 32 hexadecimal digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not _MD5.match(value):
            raise serializers.ValidationError(_("An MD5 checksum is 32 hexadecimal digits."))
        return value.lower()


# --- get charging profiles ------------------------------------------------------------------------


class GetChargingProfilesParameters(serializers.Serializer):
    """GetChargingProfiles: the installed profiles matching every criterion given."""

    # 0: the station's own profiles; none: every EVSE's and the station's.
    evse_id = StationEvseField(required=False)
    profile_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        label=_("Profile ids"),
    )
    purpose = serializers.ChoiceField(choices=PROFILE_PURPOSES, required=False)
    stack_level = serializers.IntegerField(min_value=0, required=False)
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=ChargingLimitSource.choices),
        required=False,
        allow_empty=False,
        max_length=4,
        label=_("Set by (CSO, EMS, SO, Other)"),
    )


def get_charging_profiles(ctx: CommandContext) -> CommandLog:
    """GetChargingProfiles; the profiles arrive as ReportChargingProfiles with its requestId."""
    params = ctx.params
    intent = intents.GetChargingProfiles(
        request_id=intents.new_request_id(),
        evse=params.get("evse_id"),
        profile_ids=tuple(params.get("profile_ids") or ()),
        purpose=params.get("purpose"),
        stack_level=params.get("stack_level"),
        sources=tuple(dict.fromkeys(params.get("sources") or ())),
    )
    log = send(ctx, "get_charging_profiles", intent)
    if (log.response or {}).get("status") in ("Accepted", "NoProfiles"):
        # What the station reports now replaces what it reported before; NoProfiles: nothing.
        forget_reported_profiles(ctx.station, keep_request=intent.request_id)
    return log


# --- network profiles -----------------------------------------------------------------------------


class ApnParameters(serializers.Serializer):
    """Mobile data access of a network profile (APNType)."""

    apn = serializers.CharField(max_length=512)
    apn_user_name = serializers.CharField(max_length=20, required=False)
    apn_password = serializers.CharField(max_length=20, required=False, trim_whitespace=False)
    sim_pin = serializers.IntegerField(min_value=0, required=False)
    preferred_network = serializers.CharField(max_length=6, required=False)
    use_only_preferred_network = serializers.BooleanField(required=False)
    apn_authentication = serializers.ChoiceField(choices=["CHAP", "NONE", "PAP", "AUTO"])


class VpnParameters(serializers.Serializer):
    """A VPN the station connects through (VPNType)."""

    server = serializers.CharField(max_length=512)
    user = serializers.CharField(max_length=20)
    group = serializers.CharField(max_length=20, required=False)
    password = serializers.CharField(max_length=20, trim_whitespace=False)
    key = serializers.CharField(max_length=255, trim_whitespace=False)
    type = serializers.ChoiceField(choices=["IKEv2", "IPSec", "L2TP", "PPTP"])


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel_keys(values: dict | None) -> dict | None:
    """A nested parameter object in OCPP's spelling (apn_user_name → apnUserName)."""
    return {_camel(key): value for key, value in values.items()} if values else None


class SetNetworkProfileParameters(serializers.Serializer):
    """SetNetworkProfile: how the station is to reach the CSMS, kept in one configuration slot."""

    configuration_slot = serializers.IntegerField(min_value=0, label=_("Configuration slot"))
    csms_url = serializers.CharField(
        max_length=512, label=_("CSMS URL"), help_text="ws:// or wss://, without identity"
    )
    security_profile = serializers.ChoiceField(
        choices=SecurityProfile.choices, label=_("Security profile")
    )
    ocpp_interface = serializers.ChoiceField(
        choices=OCPP_INTERFACES, default="Wired0", label=_("Interface")
    )
    message_timeout = serializers.IntegerField(
        min_value=1, default=30, label=_("Message timeout (s)"), help_text="seconds"
    )
    ocpp_version = serializers.ChoiceField(
        choices=OCPP_VERSIONS, default="OCPP20", label=_("OCPP version")
    )
    ocpp_transport = serializers.ChoiceField(
        choices=["JSON", "SOAP"], default="JSON", label=_("Transport")
    )
    apn = ApnParameters(required=False)
    vpn = VpnParameters(required=False)

    def validate_csms_url(self, value):
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a port that is not a number in range
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise serializers.ValidationError(_("Enter a ws:// or wss:// URL."))
        return value

    def validate(self, attrs):
        if attrs["security_profile"] in TLS_PROFILES and not attrs["csms_url"].startswith("wss:"):
            raise serializers.ValidationError(
                {"csms_url": [_("Security profiles 2 and 3 connect over TLS: use wss://.")]}
            )
        return attrs


def set_network_profile(ctx: CommandContext) -> CommandLog:
    """SetNetworkProfile; the station uses the slot once NetworkConfigurationPriority names it."""
    params = ctx.params
    profile = intents.NetworkProfile(
        csms_url=params["csms_url"],
        security_profile=params["security_profile"],
        interface=params["ocpp_interface"],
        message_timeout=params["message_timeout"],
        ocpp_version=params["ocpp_version"],
        transport=params["ocpp_transport"],
        apn=_camel_keys(params.get("apn")),
        vpn=_camel_keys(params.get("vpn")),
    )
    intent = intents.SetNetworkProfile(params["configuration_slot"], profile)
    return send(ctx, "set_network_profile", intent)


# --- firmware publication (local controllers) -----------------------------------------------------


class PublishFirmwareParameters(serializers.Serializer):
    """PublishFirmware: where the controller fetches the image, its checksum, how to retry."""

    location = FileLocationField()
    checksum = ChecksumField(label=_("MD5 checksum"), help_text="MD5, 32 hexadecimal digits")
    retries = serializers.IntegerField(min_value=0, required=False)
    retry_interval = serializers.IntegerField(min_value=0, required=False, help_text="seconds")


class UnpublishFirmwareParameters(serializers.Serializer):
    """UnpublishFirmware: the checksum of the image to stop serving."""

    checksum = ChecksumField(label=_("MD5 checksum"), help_text="MD5, 32 hexadecimal digits")


def publish_firmware(ctx: CommandContext) -> CommandLog:
    """PublishFirmware; progress arrives as PublishFirmwareStatusNotification."""
    params = ctx.params
    intent = intents.PublishFirmware(
        request_id=intents.new_request_id(),
        location=params["location"],
        checksum=params["checksum"],
        retries=params.get("retries"),
        retry_interval=params.get("retry_interval"),
    )
    # Kept before it is sent: the controller's first status may come before its answer is read.
    publication = record_firmware_publication(
        ctx.station, intent.request_id, intent.location, intent.checksum
    )
    log = send(ctx, "publish_firmware", intent)
    if log.status not in (CommandStatus.ACCEPTED, CommandStatus.TIMEOUT):
        # Refused or never sent: nothing is being published. (After a timeout it may be.)
        forget_firmware_publication(publication)
    return log


def unpublish_firmware(ctx: CommandContext) -> CommandLog:
    """UnpublishFirmware; Unpublished means the controller stopped serving the image."""
    log = send(ctx, "unpublish_firmware", intents.UnpublishFirmware(ctx.params["checksum"]))
    if (log.response or {}).get("status") == "Unpublished":
        record_firmware_unpublished(ctx.station, ctx.params["checksum"])
    return log


register(
    CommandSpec(
        name="get_charging_profiles",
        label=_("Get charging profiles"),
        run=get_charging_profiles,
        params=GetChargingProfilesParameters,
        min_role=Role.OPERATOR,
        description=_(
            "The station reports the charging profiles it has installed (all, or those matching "
            "the criteria given); they replace what it reported before."
        ),
        intents=(intents.GetChargingProfiles,),
    )
)
register(
    CommandSpec(
        name="set_network_profile",
        label=_("Set network profile"),
        run=set_network_profile,
        params=SetNetworkProfileParameters,
        min_role=Role.ADMIN,
        description=_(
            "Store how the station reaches the CSMS in one of its configuration slots; it "
            "connects that way once NetworkConfigurationPriority lists the slot."
        ),
        intents=(intents.SetNetworkProfile,),
    )
)
register(
    CommandSpec(
        name="publish_firmware",
        label=_("Publish firmware"),
        run=publish_firmware,
        params=PublishFirmwareParameters,
        min_role=Role.ADMIN,
        description=_(
            "A local controller downloads the firmware, checks its MD5 checksum and serves it "
            "to the stations behind it."
        ),
        intents=(intents.PublishFirmware,),
    )
)
register(
    CommandSpec(
        name="unpublish_firmware",
        label=_("Unpublish firmware"),
        run=unpublish_firmware,
        params=UnpublishFirmwareParameters,
        min_role=Role.ADMIN,
        description=_("A local controller stops serving the firmware with this MD5 checksum."),
        intents=(intents.UnpublishFirmware,),
    )
)

# The station page shows what the station reported: profiles, external limits, EV needs.
register_station_part(
    "smart-charging", "stations/_station_smart_charging.html", station_smart_charging
)
