"""Certificate commands (install, delete, list) and the station page's "Certificates" part."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import intents
from ocpp_gateway.certificates import InvalidCertificate, read_certificate
from ocpp_gateway.intents import CertificateHash
from ocpp_gateway.models import (
    INSTALLABLE_CERTIFICATE_USES,
    CertificateRequest,
    CertificateUse,
    CommandLog,
    StationCertificate,
)
from ocpp_gateway.remote.charging import send
from ocpp_gateway.remote.display import answer_of, needs
from ocpp_gateway.remote.registry import CommandContext, CommandSpec, register
from ocpp_gateway.station_certificates import (
    record_delete_answer,
    record_install_answer,
    record_installed_ids,
)
from ocpp_gateway.v201.security import installed_certificates
from organizations.choices import Role
from stations.pages import register_station_part

# A PEM as pasted may carry more whitespace than the 5500 characters OCPP takes once rewrapped.
MAX_PASTED_PEM = 12000
RECENT_REQUESTS = 10
RECENT_PAST_CERTIFICATES = 20
CERTIFICATES = _("Certificate commands")


# --- parameters ----------------------------------------------------------------------------------


class CertificateField(serializers.CharField):
    """One X.509 certificate in PEM, read and rewrapped; an expired one is refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_PASTED_PEM)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # After the string checks (length, blank), which a certificate object would not pass.
        text = super().run_validation(data)
        try:
            info = read_certificate(text)
        except InvalidCertificate as error:
            raise serializers.ValidationError(str(error)) from None
        if info.not_after <= timezone.now():
            raise serializers.ValidationError(
                _("The certificate expired on %(date)s.")
                % {"date": info.not_after.strftime("%Y-%m-%d")}
            )
        return info


class InstallCertificateParameters(serializers.Serializer):
    """A CA certificate the operator supplies, and what the station is to trust it for."""

    certificate_type = serializers.ChoiceField(
        label=_("Certificate type"),
        choices=[(use.value, use.label) for use in INSTALLABLE_CERTIFICATE_USES],
    )
    certificate = CertificateField(label=_("Certificate (PEM)"))


class StationCertificateField(serializers.PrimaryKeyRelatedField):
    """A certificate the station holds and has named (by id); any other id does not exist."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", StationCertificate.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        return (
            StationCertificate.objects.on_station()
            .filter(station=self.context["station"])
            .exclude(issuer_key_hash="")
        )


class DeleteCertificateParameters(serializers.Serializer):
    """The certificate to remove, from those the station listed or that were installed."""

    certificate = StationCertificateField(label=_("Certificate"))


class GetInstalledCertificatesParameters(serializers.Serializer):
    """The kinds of certificate to list; none: every kind."""

    certificate_types = serializers.ListField(
        label=_("Certificate types"),
        child=serializers.ChoiceField(choices=CertificateUse.choices),
        required=False,
        allow_empty=True,
        help_text=_("Comma-separated, e.g. CSMSRootCertificate; empty: all."),
    )


# --- rules ---------------------------------------------------------------------------------------


def deletable_certificate_rule(ctx: CommandContext):
    """The station's version has DeleteCertificate, and it holds a certificate we can name."""
    reason = needs(intents.DeleteCertificate, CERTIFICATES)(ctx)
    if reason:
        return reason
    named = (
        StationCertificate.objects.on_station()
        .filter(station=ctx.station)
        .exclude(issuer_key_hash="")
    )
    if not named.exists():
        return _("No certificate of the station is known by its hash data: list them first.")
    return None


# --- runners -------------------------------------------------------------------------------------


def install_certificate(ctx: CommandContext) -> CommandLog:
    """InstallCertificate of a CA certificate; the station's answer is kept with it."""
    info = ctx.params["certificate"]
    certificate_type = ctx.params["certificate_type"]
    log = send(ctx, "install_certificate", intents.InstallCertificate(certificate_type, info.pem))
    answer = answer_of(log)
    if answer:
        record_install_answer(ctx.station, certificate_type, info, answer)
    return log


def delete_certificate(ctx: CommandContext) -> CommandLog:
    """DeleteCertificate, naming the certificate by the hash data the station knows it by."""
    certificate: StationCertificate = ctx.params["certificate"]
    hash_data = CertificateHash(
        certificate.hash_algorithm,
        certificate.issuer_name_hash,
        certificate.issuer_key_hash,
        certificate.serial_number,
    )
    log = send(ctx, "delete_certificate", intents.DeleteCertificate(hash_data))
    answer = answer_of(log)
    if answer:
        record_delete_answer(certificate, answer)
    return log


def get_installed_certificates(ctx: CommandContext) -> CommandLog:
    """GetInstalledCertificateIds; what the station lists replaces what we knew of those kinds."""
    types = tuple(ctx.params.get("certificate_types") or ())
    log = send(ctx, "get_installed_certificates", intents.GetInstalledCertificateIds(types))
    if answer_of(log):
        # Accepted lists them; NotFound: the station holds none of these kinds.
        record_installed_ids(
            ctx.station, types, installed_certificates(log.response), asked_at=log.created
        )
    return log


register(
    CommandSpec(
        name="install_certificate",
        label=_("Install certificate"),
        run=install_certificate,
        params=InstallCertificateParameters,
        rule=needs(intents.InstallCertificate, CERTIFICATES),
        min_role=Role.ADMIN,
        description=_(
            "Install a CA certificate you supply (PEM) on the station: the CSMS root it checks "
            "the server by, the manufacturer root it checks firmware by, or an ISO 15118 root."
        ),
    )
)
register(
    CommandSpec(
        name="delete_certificate",
        label=_("Delete certificate"),
        run=delete_certificate,
        params=DeleteCertificateParameters,
        rule=deletable_certificate_rule,
        min_role=Role.ADMIN,
        description=_("Remove a certificate from the station."),
    )
)
register(
    CommandSpec(
        name="get_installed_certificates",
        label=_("Get installed certificates"),
        run=get_installed_certificates,
        params=GetInstalledCertificatesParameters,
        rule=needs(intents.GetInstalledCertificateIds, CERTIFICATES),
        min_role=Role.OPERATOR,
        description=_("The station lists the certificates it holds (all, or of the kinds given)."),
    )
)


# --- the station page ----------------------------------------------------------------------------


def station_certificates(station, organization) -> dict:
    """The certificates on the station, the latest ones no longer there, its signing requests."""
    certificates = StationCertificate.objects.for_org(organization).filter(station=station)
    return {
        "station_certificates": list(certificates.on_station().order_by("certificate_type", "id")),
        "past_station_certificates": list(
            certificates.exclude(status__in=StationCertificate.ON_STATION).order_by(
                "-updated", "-id"
            )[:RECENT_PAST_CERTIFICATES]
        ),
        "certificate_requests": list(
            CertificateRequest.objects.for_org(organization)
            .filter(station=station)
            .order_by("-created", "-id")[:RECENT_REQUESTS]
        ),
    }


register_station_part("certificates", "stations/_station_certificates.html", station_certificates)
