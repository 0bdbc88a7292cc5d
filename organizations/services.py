"""Business rules of organizations: who holds which role, invitations, API keys."""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.events import emit
from core.tokens import new_token, token_hash
from organizations.choices import InvitationStatus, Role
from organizations.events import ORGANIZATION_CREATED
from organizations.models import (
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    normalize_email,
)

logger = logging.getLogger(__name__)


# Members, organizations and API keys: the rules the API (and any other caller) goes through.


class MembershipRuleError(Exception):
    """A membership change the organization's rules refuse."""


class OwnerRoleRequired(MembershipRuleError):
    """Only an owner may change or remove an owner."""


class LastOwnerError(MembershipRuleError):
    """The organization would be left without an owner."""


class RoleAboveOwn(MembershipRuleError):
    """Nobody may grant a role above their own."""


def check_grantable(role: str, actor_role: str) -> None:
    """Refuse to grant a role above the granter's own (an admin cannot make owners)."""
    if not Role(actor_role).at_least(role):
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
        emit(ORGANIZATION_CREATED, organization_id=organization.pk)
    return organization


def update_organization(organization: Organization, **fields) -> Organization:
    """Change an organization's settings, writing only the given fields."""
    for name, value in fields.items():
        setattr(organization, name, value)
    # `updated` is auto_now: it must be named for update_fields to write it.
    organization.save(update_fields=[*fields, "updated"])
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
    return token_hash(token)


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
    token = new_token()
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
