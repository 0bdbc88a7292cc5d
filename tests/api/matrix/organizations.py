"""Matrix rows of the organizations API: organizations, members, invitations and API keys."""

from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    make_api_key,
    make_invitation,
)


def more_organizations(world, n):
    owner = world.users[Role.OWNER]
    for _ in range(n):
        MembershipFactory(user=owner, organization=OrganizationFactory(), role=Role.VIEWER)


def more_members(world, n):
    for _ in range(n):
        MembershipFactory(organization=world.org, role=Role.VIEWER)


def more_api_keys(world, n):
    for number in range(n):
        make_api_key(world.org, role=Role.VIEWER, name=f"More {number}", created_by=UserFactory())


def more_invitations(world, n):
    for number in range(n):
        make_invitation(world.org, f"more-{number}@example.com", invited_by=UserFactory())


def more_my_invitations(world, n):
    # Invitations of other organizations to the owner, who lists them.
    for _ in range(n):
        make_invitation(OrganizationFactory(), world.users[Role.OWNER].email)


ORGANIZATION = {"name": "Renamed", "slug": "renamed", "currency": "CHF", "timezone": "UTC"}


def org_url(suffix=""):
    return lambda w: f"/api/v1/organizations/{w.org.pk}/{suffix}"


def member_url(w):
    return f"/api/v1/members/{w.membership.pk}/"


def invitation_url(suffix=""):
    return lambda w: f"/api/v1/invitations/{w.invitation.pk}/{suffix}"


def my_invitation_url(suffix):
    return lambda w: f"/api/v1/my-invitations/{w.invitation.pk}/{suffix}"


def api_key_url(suffix=""):
    return lambda w: f"/api/v1/api-keys/{w.api_key.prefix}/{suffix}"


ENDPOINTS = [
    # Organizations ("mine").
    Endpoint(
        "organization-list",
        "get",
        lambda w: "/api/v1/organizations/",
        Role.VIEWER,
        ours=lambda w: w.org.pk,
        more=more_organizations,
    ),
    Endpoint(
        "organization-list",
        "post",
        lambda w: "/api/v1/organizations/",
        Role.VIEWER,
        body=lambda w: {"name": "Brand new"},
        ok=(201,),
        people_only=True,
        # Anybody signed in creates an organization of their own; nothing of ours changes.
        outsider_ok=(201,),
    ),
    Endpoint("organization-detail", "get", org_url(), Role.VIEWER),
    Endpoint("organization-detail", "put", org_url(), Role.OWNER, body=lambda w: ORGANIZATION),
    Endpoint(
        "organization-detail", "patch", org_url(), Role.OWNER, body=lambda w: {"name": "Renamed"}
    ),
    # Members.
    Endpoint(
        "member-list",
        "get",
        lambda w: "/api/v1/members/",
        Role.VIEWER,
        ours=lambda w: w.membership.pk,
        more=more_members,
    ),
    Endpoint("member-detail", "get", member_url, Role.VIEWER),
    Endpoint(
        "member-detail",
        "patch",
        member_url,
        Role.ADMIN,
        body=lambda w: {"role": Role.OPERATOR},
        people_only=True,
    ),
    Endpoint("member-detail", "delete", member_url, Role.ADMIN, ok=(204,), people_only=True),
    Endpoint(
        "organization-member-list",
        "get",
        org_url("members/"),
        Role.VIEWER,
        ours=lambda w: w.membership.pk,
        more=more_members,
    ),
    # Invitations (members join only by accepting one).
    Endpoint(
        "invitation-list",
        "get",
        lambda w: "/api/v1/invitations/",
        Role.ADMIN,
        ours=lambda w: w.invitation.pk,
        more=more_invitations,
    ),
    Endpoint("invitation-detail", "get", invitation_url(), Role.ADMIN),
    Endpoint("invitation-resend", "post", invitation_url("resend/"), Role.ADMIN, people_only=True),
    Endpoint("invitation-revoke", "post", invitation_url("revoke/"), Role.ADMIN, people_only=True),
    Endpoint(
        "organization-invitation-list",
        "get",
        org_url("invitations/"),
        Role.ADMIN,
        ours=lambda w: w.invitation.pk,
        more=more_invitations,
    ),
    Endpoint(
        "organization-invitation-list",
        "post",
        org_url("invitations/"),
        Role.ADMIN,
        body=lambda w: {"email": "someone@example.com", "role": Role.OPERATOR},
        ok=(201,),
        people_only=True,
    ),
    # The invited person's own: every row is reached through the caller's email address.
    Endpoint(
        "my-invitation-list",
        "get",
        lambda w: "/api/v1/my-invitations/",
        Role.VIEWER,
        ours=lambda w: w.invitation.pk,
        more=more_my_invitations,
        people_only=True,
    ),
    # The world's invitation goes to an address none of the callers has: only its invitee
    # could answer it, so every member and the outsider get 404, exactly like a missing one
    # (tests/organizations/test_invitations_api.py answers as the invitee).
    Endpoint(
        "my-invitation-accept",
        "post",
        my_invitation_url("accept/"),
        Role.VIEWER,
        ok=(404,),
        people_only=True,
    ),
    Endpoint(
        "my-invitation-decline",
        "post",
        my_invitation_url("decline/"),
        Role.VIEWER,
        ok=(404,),
        people_only=True,
    ),
    # API keys.
    Endpoint(
        "apikey-list",
        "get",
        lambda w: "/api/v1/api-keys/",
        Role.ADMIN,
        ours=lambda w: w.api_key.prefix,
        key="prefix",
        more=more_api_keys,
    ),
    Endpoint("apikey-detail", "get", api_key_url(), Role.ADMIN),
    Endpoint(
        "apikey-revoke", "post", api_key_url("revoke/"), Role.ADMIN, ok=(200,), people_only=True
    ),
    Endpoint(
        "organization-apikey-list",
        "get",
        org_url("api-keys/"),
        Role.ADMIN,
        ours=lambda w: w.api_key.prefix,
        key="prefix",
        more=more_api_keys,
    ),
    Endpoint(
        "organization-apikey-list",
        "post",
        org_url("api-keys/"),
        Role.ADMIN,
        body=lambda w: {"name": "New ERP", "role": Role.OPERATOR},
        ok=(201,),
        people_only=True,
    ),
]
