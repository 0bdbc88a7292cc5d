"""Business rules of organizations: who may charge where, who holds which role, API keys."""

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cms.bulk import update_from_values
from ocpp_gateway.utils import format_ocpp_datetime
from organizations.choices import ROLE_RANK, IdTokenStatus, InvitationStatus, Role
from organizations.models import (
    AccessGroup,
    IdToken,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    normalize_email,
    normalize_uid,
)
from sessions_app.choices import AuthorizationStatus, SessionState
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Site

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthorizationResult:
    """The answer to "may this id tag charge here?", in OCPP 1.6 idTagInfo terms."""

    status: str
    id_token: IdToken | None = None
    expiry_date: datetime | None = None
    parent_id_tag: str = ""

    @classmethod
    def for_token(cls, status: str, id_token: IdToken | None) -> "AuthorizationResult":
        """A result with the given status that carries the card's expiry and parent, if any."""
        if id_token is None:
            return cls(status=status)
        return cls(
            status=status,
            id_token=id_token,
            expiry_date=id_token.expires_at,
            parent_id_tag=id_token.parent_id_tag,
        )

    @property
    def accepted(self) -> bool:
        """Whether the station may deliver energy for this id tag."""
        return self.status == AuthorizationStatus.ACCEPTED

    def as_id_tag_info(self) -> dict:
        """The OCPP 1.6 idTagInfo object; absent optional keys are left out, not null."""
        info = {"status": str(self.status)}
        if self.expiry_date is not None:
            info["expiryDate"] = format_ocpp_datetime(self.expiry_date)
        if self.parent_id_tag:
            info["parentIdTag"] = self.parent_id_tag
        return info


def card_standing(token: IdToken, now) -> str:
    """The card's own status: Blocked, Expired (by status or date) or Accepted."""
    if token.status == IdTokenStatus.BLOCKED:
        return AuthorizationStatus.BLOCKED
    if token.status == IdTokenStatus.EXPIRED or (
        token.expires_at is not None and token.expires_at <= now
    ):
        return AuthorizationStatus.EXPIRED
    return AuthorizationStatus.ACCEPTED


def authorize_id_tag(
    station: ChargingStation,
    id_tag: str,
    *,
    for_start: bool = False,
    connector: Connector | None = None,
) -> AuthorizationResult:
    """Decide whether an id tag may charge at a station, in one query (stations do this a lot)."""
    uid = normalize_uid(id_tag or "")
    if not uid:
        return AuthorizationResult(status=AuthorizationStatus.INVALID)

    # The organization and the site are reached through the station's row, not the instance
    # the connection loaded: an assignment made while the station is connected counts at once,
    # and a station of the unassigned pool (no organization) matches no card at all.
    station_groups = ChargingStation.access_groups.through.objects.filter(
        chargingstation_id=station.pk
    ).values("accessgroup_id")
    site_groups = Site.access_groups.through.objects.filter(site__stations=station.pk).values(
        "accessgroup_id"
    )
    in_allowed_group = IdToken.access_groups.through.objects.filter(
        idtoken_id=OuterRef("pk")
    ).filter(Q(accessgroup_id__in=station_groups) | Q(accessgroup_id__in=site_groups))
    tokens = IdToken.objects.filter(uid=uid, organization__stations=station.pk).annotate(
        in_allowed_group=Exists(in_allowed_group)
    )
    if for_start:
        active = ChargingSession.objects.filter(id_token=OuterRef("pk"), state=SessionState.ACTIVE)
        if connector is not None:
            # An active session left on the connector being started is superseded by this
            # start (the station lost it, e.g. in a reboot); it must not count against the card.
            active = active.exclude(connector=connector)
        active_count = active.order_by().values("id_token").annotate(n=Count("pk")).values("n")
        tokens = tokens.annotate(
            active_sessions=Coalesce(
                Subquery(active_count[:1], output_field=IntegerField()), Value(0)
            )
        )
    token = tokens.first()

    if token is None:
        # Unknown and another organization's card look the same: nothing leaks across tenants.
        return AuthorizationResult(status=AuthorizationStatus.INVALID)
    status = card_standing(token, timezone.now())
    if status == AuthorizationStatus.ACCEPTED and not token.in_allowed_group:
        status = AuthorizationStatus.INVALID
    elif (
        status == AuthorizationStatus.ACCEPTED
        and for_start
        and token.max_concurrent_transactions is not None
        and token.active_sessions >= token.max_concurrent_transactions
    ):
        status = AuthorizationStatus.CONCURRENT_TX
    return AuthorizationResult.for_token(status, token)


# Members, organizations and API keys: the rules the API (and any other caller) goes through.


class MembershipRuleError(Exception):
    """A membership change the organization's rules refuse."""


class OwnerRoleRequired(MembershipRuleError):
    """Only an owner may change or remove an owner."""


class LastOwnerError(MembershipRuleError):
    """The organization would be left without an owner."""


class RoleAboveOwn(MembershipRuleError):
    """Nobody may grant a role above their own."""


def role_rank(role: str) -> int:
    """The rank of a role: a higher number may do more."""
    return ROLE_RANK[Role(role)]


def check_grantable(role: str, actor_role: str) -> None:
    """Refuse to grant a role above the granter's own (an admin cannot make owners)."""
    if role_rank(role) > role_rank(actor_role):
        message = _("You may not grant a role above your own (%(role)s).")
        raise RoleAboveOwn(message % {"role": Role(actor_role).label})


def unique_slug(name: str) -> str:
    """A free organization slug derived from the name: `name`, `name-2`, `name-3`, ..."""
    max_length = Organization._meta.get_field("slug").max_length
    base = slugify(name)[: max_length - 4] or "organization"
    taken = set(Organization.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug


def create_organization(owner, **fields) -> Organization:
    """A new organization with `owner` as its first owner, both or neither."""
    if not fields.get("slug"):
        fields["slug"] = unique_slug(fields.get("name", ""))
    with transaction.atomic():
        organization = Organization.objects.create(**fields)
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def _lock_owners(membership) -> tuple[Membership, list[int]]:
    """The membership as stored now, and the ids of its organization's owners, locked."""
    # Locking every owner row serializes concurrent demotions and removals of owners, so two
    # of them can never each see the other as the remaining owner.
    current = Membership.objects.select_for_update().get(pk=membership.pk)
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization_id=current.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    return current, owners


LAST_OWNER_MESSAGES = {
    "demote": gettext_lazy(
        "%(user)s is the last owner of %(organization)s and cannot be demoted; "
        "make another member owner first."
    ),
    "remove": gettext_lazy(
        "%(user)s is the last owner of %(organization)s and cannot be removed; "
        "make another member owner first."
    ),
}


def _check_not_last_owner(current: Membership, owners: list[int], change: str) -> None:
    if current.role == Role.OWNER and owners == [current.pk]:
        raise LastOwnerError(
            str(LAST_OWNER_MESSAGES[change])
            % {"user": current.user, "organization": current.organization}
        )


def change_role(membership, role: str, *, actor_role: str) -> Membership:
    """Give a member another role, keeping at least one owner."""
    check_grantable(role, actor_role)
    with transaction.atomic():
        current, owners = _lock_owners(membership)
        if current.role == Role.OWNER and actor_role != Role.OWNER:
            raise OwnerRoleRequired(_("Only an owner may change the role of an owner."))
        if role != Role.OWNER:
            _check_not_last_owner(current, owners, "demote")
        current.role = role
        current.save(update_fields=["role"])
    return current


def remove_member(membership, *, actor_role: str | None) -> None:
    """End a membership (an admin removing a member, or a member leaving), keeping an owner."""
    with transaction.atomic():
        current, owners = _lock_owners(membership)
        if current.role == Role.OWNER and actor_role != Role.OWNER:
            raise OwnerRoleRequired(_("Only an owner may remove an owner."))
        _check_not_last_owner(current, owners, "remove")
        current.delete()


# Invitations: nobody becomes a member without accepting one addressed to their email.


class InvitationNotOpen(MembershipRuleError):
    """The invitation was answered or revoked, or it has expired."""


class NotTheInvitee(MembershipRuleError):
    """The invitation is addressed to another email address."""


NOT_OPEN_MESSAGES = {
    InvitationStatus.ACCEPTED: gettext_lazy("This invitation has been accepted already."),
    InvitationStatus.DECLINED: gettext_lazy("This invitation has been declined."),
    InvitationStatus.REVOKED: gettext_lazy("This invitation has been withdrawn."),
    InvitationStatus.EXPIRED: gettext_lazy("This invitation has expired; ask for a new one."),
}


def invitation_token_hash(token: str) -> str:
    """The stored form of an invitation's secret: its SHA-256 (the secret is 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_invitation(token: str) -> Invitation | None:
    """The invitation whose link carries `token`, or None."""
    return (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )


def invitation_ttl() -> timedelta:
    """How long a new or resent invitation can be accepted."""
    return timedelta(days=settings.INVITATION_TTL_DAYS)


def _check_open(invitation: Invitation) -> None:
    status = invitation.effective_status()
    if status != InvitationStatus.PENDING:
        raise InvitationNotOpen(str(NOT_OPEN_MESSAGES[status]))


def invite_member(
    organization,
    email: str,
    role: str,
    *,
    invited_by,
    inviter_role: str,
    link_for: Callable[[str], str],
) -> tuple[Invitation, str]:
    """Invite an address with a role and email it the link after commit; returns the secret."""
    # No user is looked up here: the answer and its work are the same whether or not an
    # account (or a member) has this address, so inviting cannot tell who exists.
    check_grantable(role, inviter_role)
    email = normalize_email(email)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    fields = {
        "role": role,
        "token_hash": invitation_token_hash(token),
        "invited_by": invited_by,
        "expires_at": now + invitation_ttl(),
        "sent_at": None,
    }
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                # Inviting an address again refreshes its pending invitation (the old link dies).
                pending = (
                    Invitation.objects.select_for_update()
                    .filter(organization=organization, email=email, status=InvitationStatus.PENDING)
                    .first()
                )
                if pending is None:
                    invitation = Invitation.objects.create(
                        organization=organization, email=email, created=now, **fields
                    )
                else:
                    for name, value in fields.items():
                        setattr(pending, name, value)
                    pending.save(update_fields=list(fields))
                    invitation = pending
            break
        except IntegrityError:
            # A concurrent invite of the same address created the pending row first.
            if attempt == 2:
                raise
    link = link_for(token)
    transaction.on_commit(lambda: send_invitation_email(invitation, link))
    return invitation, token


def send_invitation_email(invitation: Invitation, link: str) -> bool:
    """Email the invitation's link; a failure is logged and never raised (the inviter resends)."""
    context = {
        "organization": invitation.organization.name,
        "role": Role(invitation.role).label,
        "inviter": str(invitation.invited_by or ""),
        "link": link,
        "expires_at": invitation.expires_at,
    }
    subject = _("Invitation to join %(organization)s") % context
    body = render_to_string("organizations/email/invitation.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except Exception:
        # SMTP errors come in many classes (socket, smtplib, TLS); none may fail the request.
        logger.exception("Invitation %s: sending the email failed", invitation.pk)
        return False
    invitation.sent_at = timezone.now()
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=invitation.sent_at)
    return True


def resend_invitation(
    invitation: Invitation, *, resent_by, resender_role: str, link_for: Callable[[str], str]
) -> tuple[Invitation, str]:
    """A new link and a new expiry for a pending (or expired) invitation, emailed again."""
    if invitation.status != InvitationStatus.PENDING:
        raise InvitationNotOpen(str(NOT_OPEN_MESSAGES[InvitationStatus(invitation.status)]))
    return invite_member(
        invitation.organization,
        invitation.email,
        invitation.role,
        invited_by=resent_by,
        inviter_role=resender_role,
        link_for=link_for,
    )


def revoke_invitation(invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation (expired ones too); its link stops working at once."""
    now = timezone.now()
    # One conditional UPDATE: an acceptance racing the revocation wins or loses as a whole.
    revoked = Invitation.objects.filter(pk=invitation.pk, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED, responded_at=now
    )
    if not revoked:
        invitation.refresh_from_db(fields=["status"])
        raise InvitationNotOpen(str(NOT_OPEN_MESSAGES[InvitationStatus(invitation.status)]))
    invitation.status, invitation.responded_at = InvitationStatus.REVOKED, now
    return invitation


def _lock_for_invitee(invitation: Invitation, user) -> Invitation:
    """The invitation as stored now, locked; refused unless it is addressed to `user`."""
    current = (
        Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
    )
    email = normalize_email(user.email or "")
    if not email or email != current.email:
        raise NotTheInvitee()
    _check_open(current)
    return current


def accept_invitation(invitation: Invitation, user) -> tuple[Membership, bool]:
    """Make the invited user a member with the invitation's role; (membership, created)."""
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_invitee(invitation, user)
        # Somebody who is a member already keeps their role: an invitation never changes it.
        membership, created = Membership.objects.get_or_create(
            user=user, organization=current.organization, defaults={"role": current.role}
        )
        current.status, current.accepted_by, current.responded_at = (
            InvitationStatus.ACCEPTED,
            user,
            now,
        )
        current.save(update_fields=["status", "accepted_by", "responded_at"])
    invitation.status, invitation.accepted_by, invitation.responded_at = (
        current.status,
        user,
        now,
    )
    return membership, created


def decline_invitation(invitation: Invitation, user) -> Invitation:
    """Say no to an invitation: nothing changes but the invitation's status."""
    now = timezone.now()
    with transaction.atomic():
        current = _lock_for_invitee(invitation, user)
        current.status, current.responded_at = InvitationStatus.DECLINED, now
        current.save(update_fields=["status", "responded_at"])
    invitation.status, invitation.responded_at = current.status, now
    return invitation


def create_api_key(
    organization, *, name: str, role: str, created_by, creator_role: str, expiry_date=None
) -> tuple[OrganizationAPIKey, str]:
    """A new API key and its secret, which is never stored and cannot be shown again."""
    check_grantable(role, creator_role)
    return OrganizationAPIKey.objects.create_key(
        organization=organization,
        name=name,
        role=role,
        created_by=created_by,
        expiry_date=expiry_date,
    )


class AlreadyRevoked(Exception):
    """The API key was revoked before."""


def revoke_api_key(api_key: OrganizationAPIKey) -> OrganizationAPIKey:
    """Revoke a key for good; its clients get 401 from the next request on."""
    now = timezone.now()
    # One conditional UPDATE: of two concurrent revocations exactly one succeeds.
    revoked = OrganizationAPIKey.objects.filter(pk=api_key.pk, revoked=False).update(
        revoked=True, revoked_at=now
    )
    if not revoked:
        raise AlreadyRevoked(_("The API key was revoked already."))
    api_key.revoked, api_key.revoked_at = True, now
    return api_key


# Cards: status, access-group membership and CSV import (the API of issue 6).

# Lookups by many uids go in chunks that stay under SQLite's 999 query parameters.
UID_CHUNK = 500


class UnknownCards(Exception):
    """Some uids name no card of the organization."""

    def __init__(self, uids: list[str]):
        super().__init__(", ".join(uids))
        self.uids = uids


def chunked(items: list, size: int = UID_CHUNK):
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cards_by_uid(organization_id: int, uids: list[str]) -> dict[str, IdToken]:
    """The organization's cards with these normalized uids, by uid, in one query per chunk."""
    found = {}
    for chunk in chunked(list(uids)):
        for token in IdToken.objects.for_org(organization_id).filter(uid__in=chunk):
            found[token.uid] = token
    return found


def card_ids_of(organization_id: int, uids: list[str]) -> list[int]:
    """Ids of the organization's cards with these normalized uids; UnknownCards if any is not."""
    found = cards_by_uid(organization_id, uids)
    unknown = [uid for uid in uids if uid not in found]
    if unknown:
        raise UnknownCards(unknown)
    return [found[uid].pk for uid in uids]


def add_cards_to_group(group: AccessGroup, uids: list[str]) -> None:
    """Put the cards with these uids into the group: all of them, or none if one is unknown."""
    ids = card_ids_of(group.organization_id, uids)
    with transaction.atomic():
        # add() skips the cards already in the group.
        for chunk in chunked(ids):
            group.id_tokens.add(*chunk)


def remove_cards_from_group(group: AccessGroup, uids: list[str]) -> None:
    """Take the cards with these uids out of the group; cards not in it are left alone."""
    ids = card_ids_of(group.organization_id, uids)
    with transaction.atomic():
        for chunk in chunked(ids):
            group.id_tokens.remove(*chunk)


def set_id_token_status(token: IdToken, status: str) -> bool:
    """Give the card a status; False (and nothing written) when it already has it."""
    if token.status == status:
        return False
    token.status = status
    token.save(update_fields=["status", "updated"])
    return True


def block_id_token(token: IdToken) -> bool:
    """Block the card, whatever its status; False when it was blocked already."""
    return set_id_token_status(token, IdTokenStatus.BLOCKED)


def unblock_id_token(token: IdToken) -> bool:
    """Lift a block (the card is Accepted again); any other card stays as it is."""
    if token.status != IdTokenStatus.BLOCKED:
        return False
    return set_id_token_status(token, IdTokenStatus.ACCEPTED)


# The PostgreSQL types of the card columns an import may change, for update_from_values.
CARD_COLUMN_TYPES = {
    "CharField": "varchar",
    "DateTimeField": "timestamptz",
    "PositiveSmallIntegerField": "smallint",
}


def _update_cards(tokens: list[IdToken], fields: list[str]) -> None:
    """Write `fields` of many cards in a statement per 1,000 (bulk_update's CASE is far slower)."""
    columns = [IdToken._meta.get_field(name) for name in fields]
    types = [(f.column, CARD_COLUMN_TYPES[f.get_internal_type()]) for f in columns]
    update_from_values(
        IdToken,
        [("id", "bigint"), *types],
        [(token.pk, *(getattr(token, f.attname) for f in columns)) for token in tokens],
        ", ".join(f"{f.column} = v.{f.column}" for f in columns),
    )


# A card to write and its access groups; None leaves an existing card's groups as they are.
CardWrite = tuple[IdToken, list[AccessGroup] | None]


def import_id_tokens(creates: list[CardWrite], updates: list[CardWrite], fields: list[str]):
    """Write an import's new cards and its changes to existing ones (`fields`), all or none."""
    # A few statements per thousand cards, none per card: 10,000 rows take seconds.
    membership = IdToken.access_groups.through
    now = timezone.now()
    changed = [token for token, _groups in updates]
    for token in changed:
        # A raw UPDATE does not touch auto_now fields.
        token.updated = now
    with transaction.atomic():
        # Batches keep a statement under PostgreSQL's 65,535 parameters (SQLite's cap is lower).
        IdToken.objects.bulk_create([token for token, _groups in creates], batch_size=1000)
        _update_cards(changed, [*fields, "updated"])
        wanted = {
            (token.pk, group.pk)
            for token, groups in [*creates, *updates]
            if groups is not None
            for group in groups
        }
        regrouped = [token.pk for token, groups in updates if groups is not None]
        existing = {}
        for chunk in chunked(regrouped):
            rows = membership.objects.filter(idtoken_id__in=chunk)
            for pk, token_id, group_id in rows.values_list("pk", "idtoken_id", "accessgroup_id"):
                existing[token_id, group_id] = pk
        stale = [pk for pair, pk in existing.items() if pair not in wanted]
        for chunk in chunked(stale):
            membership.objects.filter(pk__in=chunk).delete()
        membership.objects.bulk_create(
            [
                membership(idtoken_id=token_id, accessgroup_id=group_id)
                for token_id, group_id in sorted(wanted - existing.keys())
            ],
            batch_size=5000,
        )
