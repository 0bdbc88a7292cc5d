"""When a card changes, owe its Token to every CPO partner (OCPI 2.2.1 Tokens push).

Model signals on IdToken, not a hook in the cards services: every path that saves a card
(portal form, API, Django admin, block and unblock) reaches them without each remembering to
call roaming, and cards need not know roaming exists. The CSV import writes in bulk, which
sends no signals; it emits `cards.imported` instead, handled here too. A card that expires by
date changes no row: `publish_expired_tokens` (hourly) owes those.

Only changes partners can see are pushed (uid, type, status, expiry, group, the roaming flag);
a card that leaves roaming or is deleted is pushed once more, as invalid.
"""

from datetime import timedelta

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver as signal_receiver
from django.utils import timezone

from cards.events import CARDS_IMPORTED
from cards.models import IdToken
from cards.services import chunked
from core.events import receiver
from roaming.choices import InterfaceRole, Module, PartnerStatus, PushStatus
from roaming.models import OcpiPush, RoamingPartner, RoamingProfile
from roaming.ocpi import push

# What a Token shows of a card: a change to anything else is not pushed.
PUBLISHED_FIELDS = ("uid", "type", "status", "expires_at", "parent_id_tag", "roaming")


def token_partners(organization_id: int) -> list[RoamingPartner]:
    """Active partners with a tokens receiver (the CPOs among them), if we play the eMSP role."""
    profile = RoamingProfile.objects.filter(organization_id=organization_id).first()
    if profile is None or not profile.emsp_enabled:
        return []
    partners = RoamingPartner.objects.filter(
        organization_id=organization_id, status=PartnerStatus.ACTIVE
    )
    return [p for p in partners if p.endpoint(Module.TOKENS, InterfaceRole.RECEIVER)]


def plan_token_pushes(organization_id: int, uids) -> int:
    """Owe the Tokens of these card uids to every CPO partner; how many pushes were planned."""
    uids = list(dict.fromkeys(uids))
    partners = token_partners(organization_id) if uids else []
    for partner in partners:
        for uid in uids:
            push.plan(partner, Module.TOKENS, uid)
    return len(partners) * len(uids)


def published_uids(organization_id: int, uids: list[str]) -> list[str]:
    """Of these uids, those of roaming cards now or that some partner has had."""
    found = []
    for chunk in chunked(uids):
        found += (
            IdToken.objects.for_org(organization_id)
            .filter(uid__in=chunk, roaming=True)
            .values_list("uid", flat=True)
        )
        found += OcpiPush.objects.filter(
            organization_id=organization_id,
            module=Module.TOKENS,
            object_key__in=chunk,
            status=PushStatus.SENT,
        ).values_list("object_key", flat=True)
    return list(dict.fromkeys(found))


@signal_receiver(pre_save, sender=IdToken, dispatch_uid="roaming-token-before")
def remember_published_fields(sender, instance, raw=False, **kwargs):
    """Keep what the card showed partners before this save, to push only real changes."""
    if raw or instance.pk is None:
        instance._roaming_before = None
        return
    instance._roaming_before = (
        IdToken.objects.filter(pk=instance.pk).values(*PUBLISHED_FIELDS).first()
    )


@signal_receiver(post_save, sender=IdToken, dispatch_uid="roaming-token-saved")
def push_saved_card(sender, instance, created, raw=False, **kwargs):
    """Owe the card's Token to the partners when what they see of it changed."""
    if raw:
        return
    before = getattr(instance, "_roaming_before", None)
    uids = []
    if before is None:
        if instance.roaming:
            uids.append(instance.uid)
    else:
        changed = any(before[name] != getattr(instance, name) for name in PUBLISHED_FIELDS)
        if changed and (instance.roaming or before["roaming"]):
            uids.append(instance.uid)
        if before["uid"] != instance.uid and before["roaming"]:
            # The old uid is no card of ours any more: partners must stop accepting it.
            uids.append(before["uid"])
    if uids:
        plan_token_pushes(instance.organization_id, uids)


@signal_receiver(post_delete, sender=IdToken, dispatch_uid="roaming-token-deleted")
def push_deleted_card(sender, instance, **kwargs):
    """Invalidate a deleted roaming card at the partners."""
    if instance.roaming:
        plan_token_pushes(instance.organization_id, [instance.uid])


@receiver(CARDS_IMPORTED)
def push_imported_cards(events) -> None:
    """Owe the Tokens of imported roaming cards (and of cards an import took out of roaming)."""
    for event in events:
        organization_id = event["organization_id"]
        plan_token_pushes(organization_id, published_uids(organization_id, event["uids"]))


def publish_expired_tokens(now=None, window=timedelta(hours=2)) -> int:
    """Owe the Tokens of roaming cards that expired by date lately (their row did not change)."""
    now = now or timezone.now()
    expired = (
        IdToken.objects.filter(roaming=True, expires_at__gt=now - window, expires_at__lte=now)
        .order_by("organization_id")
        .values_list("organization_id", "uid")
    )
    by_organization: dict[int, list[str]] = {}
    for organization_id, uid in expired:
        by_organization.setdefault(organization_id, []).append(uid)
    return sum(plan_token_pushes(org, uids) for org, uids in by_organization.items())
