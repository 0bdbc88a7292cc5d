"""/api/v1/members/: who is in an organization, changing roles, removing and leaving."""

import pytest

from organizations.choices import Role
from organizations.models import Membership
from tests.apiclients import client_for, key_client, member
from tests.factories import MembershipFactory, UserFactory, make_api_key

pytestmark = pytest.mark.django_db

FLAT = "/api/v1/members/"


def nested(organization):
    return f"/api/v1/organizations/{organization.pk}/members/"


def detail(membership):
    return f"{FLAT}{membership.pk}/"


def results(response):
    assert response.status_code == 200, response.data
    return response.data["results"]


def membership_of(user, organization):
    return Membership.objects.get(user=user, organization=organization)


@pytest.fixture
def owner(org):
    return member((org, Role.OWNER))


@pytest.fixture
def admin(org):
    return member((org, Role.ADMIN))


@pytest.fixture
def erika(org):
    """A viewer of `org` others act on."""
    user = UserFactory(username="erika", email="Erika@Example.com")
    MembershipFactory(user=user, organization=org, role=Role.VIEWER)
    return user


# Reading


def test_a_member_is_shown_with_user_id_username_email_role_and_created(org, erika, admin):
    membership = membership_of(erika, org)
    data = client_for(admin).get(detail(membership)).data
    assert data == {
        "id": membership.pk,
        "organization": org.pk,
        "user": erika.pk,
        "username": "erika",
        "email": "Erika@Example.com",
        "role": "viewer",
        "created": data["created"],
    }


def test_the_flat_list_is_the_union_of_the_callers_organizations(org, other_org, erika):
    theirs = MembershipFactory(organization=other_org, role=Role.ADMIN)
    MembershipFactory(role=Role.OWNER)  # a third organization
    user = member((org, Role.VIEWER), (other_org, Role.VIEWER))
    listed = {row["id"] for row in results(client_for(user).get(FLAT))}
    assert listed == {
        membership_of(erika, org).pk,
        theirs.pk,
        *Membership.objects.filter(user=user).values_list("pk", flat=True),
    }


def test_the_organization_list_shows_that_organization_only(org, other_org, erika):
    user = member((org, Role.VIEWER), (other_org, Role.VIEWER))
    listed = results(client_for(user).get(nested(org)))
    assert {row["organization"] for row in listed} == {org.pk}
    assert {row["username"] for row in listed} == {"erika", user.username}


def test_the_list_filters_by_role_and_username(org, erika, admin):
    client = client_for(admin)
    assert [row["username"] for row in results(client.get(FLAT, {"role": "viewer"}))] == ["erika"]
    assert [row["username"] for row in results(client.get(FLAT, {"username": "RIK"}))] == ["erika"]


def test_the_list_is_ordered_by_username_unless_asked_otherwise(org, admin):
    for name in ("zoe", "anna"):
        MembershipFactory(user=UserFactory(username=name), organization=org, role=Role.VIEWER)
    client = client_for(admin)
    names = [row["username"] for row in results(client.get(FLAT))]
    assert names == sorted(names)
    newest_first = [row["username"] for row in results(client.get(FLAT, {"ordering": "-created"}))]
    assert newest_first[0] == "anna"


def test_an_api_key_reads_the_members_of_its_organization(org, other_org, erika):
    MembershipFactory(organization=other_org)
    _key, secret = make_api_key(org, role=Role.VIEWER)
    listed = results(key_client(secret).get(FLAT))
    assert {row["organization"] for row in listed} == {org.pk}
    assert "erika" in {row["username"] for row in listed}


def test_an_outsider_sees_no_member_of_ours(org, other_org, erika):
    outsider = member((other_org, Role.OWNER))
    client = client_for(outsider)
    assert {row["organization"] for row in results(client.get(FLAT))} == {other_org.pk}
    assert client.get(detail(membership_of(erika, org))).status_code == 404
    assert client.get(nested(org)).status_code == 404


# Adding: there is no way to add anybody; people join by accepting an invitation
# (test_invitations_api.py).


@pytest.mark.parametrize(
    "body",
    [
        {"username": "max", "role": "viewer"},
        {"email": "max@example.com", "role": "owner"},
    ],
)
@pytest.mark.parametrize("url", [nested, lambda organization: FLAT])
def test_nobody_can_add_an_existing_user_as_a_member(org, owner, body, url):
    superuser = UserFactory(username="max", email="max@example.com", is_superuser=True)
    response = client_for(owner).post(url(org), body, format="json")
    assert response.status_code == 405
    assert not Membership.objects.filter(user=superuser).exists()
    assert "max@example.com" not in response.content.decode()


# Changing roles


def test_an_admin_changes_a_members_role(org, admin, erika):
    membership = membership_of(erika, org)
    response = client_for(admin).patch(detail(membership), {"role": "admin"}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["role"] == "admin"
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_a_role_change_needs_a_role(org, admin, erika):
    response = client_for(admin).patch(detail(membership_of(erika, org)), {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"role"}


def test_an_admin_may_not_raise_anyone_to_owner(org, admin, erika):
    membership = membership_of(erika, org)
    response = client_for(admin).patch(detail(membership), {"role": "owner"}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"role"}
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_an_admin_may_not_raise_themself_to_owner(org, owner, admin):
    membership = membership_of(admin, org)
    response = client_for(admin).patch(detail(membership), {"role": "owner"}, format="json")
    assert response.status_code == 400
    membership.refresh_from_db()
    assert membership.role == Role.ADMIN


def test_an_admin_may_not_demote_an_owner(org, owner, admin):
    membership = membership_of(owner, org)
    response = client_for(admin).patch(detail(membership), {"role": "viewer"}, format="json")
    assert response.status_code == 403
    assert response.data["detail"] == "Only an owner may change the role of an owner."
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_an_owner_makes_a_member_owner_and_demotes_another_owner(org, owner, erika):
    client = client_for(owner)
    promoted = client.patch(detail(membership_of(erika, org)), {"role": "owner"}, format="json")
    assert promoted.status_code == 200, promoted.data
    demoted = client.patch(detail(membership_of(owner, org)), {"role": "admin"}, format="json")
    assert demoted.status_code == 200, demoted.data
    assert membership_of(erika, org).role == Role.OWNER
    assert membership_of(owner, org).role == Role.ADMIN


def test_the_last_owner_cannot_be_demoted(org, owner):
    membership = membership_of(owner, org)
    response = client_for(owner).patch(detail(membership), {"role": "admin"}, format="json")
    assert response.status_code == 409
    assert response.data["detail"] == (
        f"{owner.username} is the last owner of Stadtwerke Demo and cannot be demoted; "
        "make another member owner first."
    )
    membership.refresh_from_db()
    assert membership.role == Role.OWNER


def test_the_last_owner_may_stay_owner(org, owner):
    membership = membership_of(owner, org)
    response = client_for(owner).patch(detail(membership), {"role": "owner"}, format="json")
    assert response.status_code == 200, response.data


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_below_admin_nobody_changes_roles_not_even_their_own(org, role):
    user = member((org, role))
    membership = membership_of(user, org)
    response = client_for(user).patch(detail(membership), {"role": "admin"}, format="json")
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == role


def test_an_admin_api_key_may_not_change_roles(org, erika):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    membership = membership_of(erika, org)
    response = key_client(secret).patch(detail(membership), {"role": "admin"}, format="json")
    assert response.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER


def test_an_admin_here_changes_nothing_in_an_organization_where_they_are_a_viewer(org, other_org):
    user = member((org, Role.ADMIN), (other_org, Role.VIEWER))
    theirs = MembershipFactory(organization=other_org, role=Role.VIEWER)
    response = client_for(user).patch(detail(theirs), {"role": "operator"}, format="json")
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.role == Role.VIEWER


# Removing and leaving


def test_an_admin_removes_a_member(org, admin, erika):
    response = client_for(admin).delete(detail(membership_of(erika, org)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=erika).exists()
    assert erika.__class__.objects.filter(pk=erika.pk).exists(), "the user account stays"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_below_admin_nobody_removes_another_member(org, erika, role):
    response = client_for(member((org, role))).delete(detail(membership_of(erika, org)))
    assert response.status_code == 403
    assert response.data["detail"] == "Requires role Admin."
    assert Membership.objects.filter(user=erika).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR, Role.ADMIN])
def test_any_member_may_leave(org, owner, role):
    user = member((org, role))
    response = client_for(user).delete(detail(membership_of(user, org)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=user).exists()


def test_an_owner_may_leave_while_another_owner_stays(org, owner):
    other_owner = member((org, Role.OWNER))
    response = client_for(owner).delete(detail(membership_of(owner, org)))
    assert response.status_code == 204
    assert list(Membership.objects.filter(organization=org).values_list("user", flat=True)) == [
        other_owner.pk
    ]


def test_the_last_owner_can_never_leave(org, owner, erika):
    membership = membership_of(owner, org)
    response = client_for(owner).delete(detail(membership))
    assert response.status_code == 409
    assert "last owner" in response.data["detail"]
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_an_admin_may_not_remove_an_owner(org, owner, admin):
    member((org, Role.OWNER))  # not the last owner: the role, not the count, refuses
    response = client_for(admin).delete(detail(membership_of(owner, org)))
    assert response.status_code == 403
    assert response.data["detail"] == "Only an owner may remove an owner."
    assert Membership.objects.filter(user=owner).exists()


def test_an_owner_removes_another_owner(org, owner):
    other_owner = member((org, Role.OWNER))
    response = client_for(owner).delete(detail(membership_of(other_owner, org)))
    assert response.status_code == 204
    assert not Membership.objects.filter(user=other_owner).exists()


def test_an_api_key_may_not_remove_members(org, erika):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).delete(detail(membership_of(erika, org)))
    assert response.status_code == 403
    assert Membership.objects.filter(user=erika).exists()


def test_an_outsider_removes_nobody_and_gets_404(org, other_org, erika):
    outsider = member((other_org, Role.OWNER))
    response = client_for(outsider).delete(detail(membership_of(erika, org)))
    assert response.status_code == 404
    assert Membership.objects.filter(user=erika).exists()
