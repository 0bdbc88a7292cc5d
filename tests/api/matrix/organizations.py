"""Matrix rows of the organizations API: organizations, members and API keys."""

from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, make_api_key


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


def new_user(world):
    return {"username": UserFactory().username, "role": Role.VIEWER}


ORGANIZATION = {"name": "Renamed", "slug": "renamed", "currency": "CHF", "timezone": "UTC"}


def org_url(suffix=""):
    return lambda w: f"/api/v1/organizations/{w.org.pk}/{suffix}"


def member_url(w):
    return f"/api/v1/members/{w.membership.pk}/"


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
    Endpoint(
        "organization-member-list",
        "post",
        org_url("members/"),
        Role.ADMIN,
        body=new_user,
        ok=(201,),
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
