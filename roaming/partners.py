"""What an organization's admins do with a partner (portal, API, admin): the OCPI handshake's
steps with their preconditions, suspending, retrying failed pushes and syncing now."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from roaming.choices import InterfaceRole, Module, PartnerStatus, PushStatus
from roaming.models import OcpiPush, RoamingPartner, RoamingProfile
from roaming.ocpi import push, registration
from roaming.ocpi.client import PartnerError
from roaming.ocpi.registration import RegistrationError
from roaming.ocpi.v221 import receiving
from roaming.ocpi.v221.cpo import tokens as cpo_tokens

__all__ = [
    "PartnerActionRefused",
    "RegistrationError",
    "connect",
    "issue_token_a",
    "reactivate",
    "retry_failed_pushes",
    "retry_pushes_of",
    "rotate",
    "suspend",
    "sync",
    "unregister",
]


@dataclass
class SyncResult:
    """What a sync pulled from the partner: objects stored per module, errors per module."""

    pulled: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class PartnerActionRefused(Exception):
    """The partner's state does not allow the action; `message` says what to do instead."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _require_profile(partner: RoamingPartner) -> None:
    if not RoamingProfile.objects.filter(organization_id=partner.organization_id).exists():
        raise PartnerActionRefused(
            _("Set up the organization's roaming profile (country code and party id) first.")
        )


def _require_registered(partner: RoamingPartner) -> None:
    if partner.status != PartnerStatus.ACTIVE or not partner.credentials_token:
        raise PartnerActionRefused(_("The partner is not registered: connect it first."))


def issue_token_a(partner: RoamingPartner) -> str:
    """A token A for the partner to register with us; shown once, only its hash is kept."""
    if partner.status == PartnerStatus.ACTIVE:
        raise PartnerActionRefused(
            _("The partner is registered: rotate the tokens, or unregister it first.")
        )
    if partner.status == PartnerStatus.SUSPENDED:
        raise PartnerActionRefused(_("The partner is suspended: reactivate it first."))
    _require_profile(partner)
    return registration.issue_token_a(partner)


def connect(partner: RoamingPartner, *, versions_url: str, token: str) -> RoamingPartner:
    """Register with the partner from its versions URL and the token A it gave us."""
    if partner.status == PartnerStatus.ACTIVE:
        raise PartnerActionRefused(_("The partner is registered already: unregister it first."))
    if partner.status == PartnerStatus.SUSPENDED:
        raise PartnerActionRefused(_("The partner is suspended: reactivate it first."))
    _require_profile(partner)
    return registration.connect(partner, url=versions_url, token_a=token)


def rotate(partner: RoamingPartner) -> RoamingPartner:
    """New tokens for both sides (PUT credentials); the old ones stop working."""
    _require_registered(partner)
    _require_profile(partner)
    return registration.rotate(partner)


def unregister(partner: RoamingPartner) -> RoamingPartner:
    """End the registration on both sides; neither token works afterwards."""
    return registration.unregister(partner)


def suspend(partner: RoamingPartner) -> RoamingPartner:
    """Stop exchanging with the partner: its calls are refused, nothing is pushed to it."""
    if partner.status == PartnerStatus.SUSPENDED:
        return partner
    partner.status = PartnerStatus.SUSPENDED
    partner.save(update_fields=["status", "updated"])
    return partner


def reactivate(partner: RoamingPartner) -> RoamingPartner:
    """Undo a suspension: active again if it was registered, else pending registration."""
    if partner.status != PartnerStatus.SUSPENDED:
        return partner
    registered = partner.registered_at is not None and bool(partner.credentials_token)
    partner.status = PartnerStatus.ACTIVE if registered else PartnerStatus.PENDING
    partner.save(update_fields=["status", "updated"])
    return partner


def retry_failed_pushes(pushes) -> int:
    """Owe the failed pushes again (sent at once, then with backoff); how many were retried."""
    retried = 0
    failed = pushes.filter(status=PushStatus.FAILED).select_related("partner").order_by("pk")
    for failure in failed:
        if failure.partner.status != PartnerStatus.ACTIVE:
            continue
        with transaction.atomic():
            owed = OcpiPush.objects.filter(
                partner_id=failure.partner_id,
                module=failure.module,
                object_key=failure.object_key,
                status__in=(PushStatus.PENDING, PushStatus.RETRYING),
            ).exists()
            if owed:
                # A newer push of the same object is owed already and sends the current state.
                failure.delete()
            else:
                OcpiPush.objects.filter(pk=failure.pk).update(
                    status=PushStatus.PENDING,
                    attempts=0,
                    last_error="",
                    next_attempt_at=timezone.now(),
                    updated=timezone.now(),
                )
            push.plan(failure.partner, failure.module, failure.object_key)
        retried += 1
    return retried


def retry_pushes_of(partner: RoamingPartner) -> int:
    """Retry every failed push to a registered partner; how many."""
    _require_registered(partner)
    return retry_failed_pushes(OcpiPush.objects.filter(partner=partner))


def sync(partner: RoamingPartner) -> SyncResult:
    """Pull now what the partner publishes for our roles: its locations, tariffs, sessions and
    CDRs (we are its eMSP), its tokens (we are its CPO). Changes since the last pull only."""
    _require_registered(partner)
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    result = SyncResult()
    if profile is not None and profile.emsp_enabled:
        for pulled in receiving.pull_partner_data(partner):
            result.pulled[pulled.module] = pulled.stored
            if pulled.error:
                result.errors[pulled.module] = pulled.error
    tokens_published = partner.endpoint(Module.TOKENS, InterfaceRole.SENDER)
    if profile is not None and profile.cpo_enabled and tokens_published:
        try:
            result.pulled[Module.TOKENS] = cpo_tokens.pull_tokens(partner).stored
        except PartnerError as failure:
            result.errors[Module.TOKENS] = failure.message
    if not result.pulled and not result.errors:
        raise PartnerActionRefused(
            _("The partner publishes nothing our roles pull (no sender interface we read).")
        )
    return result
