"""Portal member management: change a member's role, remove a member, leave; owners protected."""

import pytest
from django.test import Client

from organizations.choices import Role
from organizations.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

ADMINS = [Role.ADMIN, Role.OWNER]
BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]


def logged_in(membership):
    client = Client()
    client.force_login(membership.user)
    return client


def role_url(membership):
    return org_url(membership.organization, f"members/{membership.pk}/role/")


def remove_url(membership):
    return org_url(membership.organization, f"members/{membership.pk}/remove/")


def role_body(membership, role):
    return {f"member-{membership.pk}-role": role}


@pytest.fixture
def erika(org):
    """A viewer of `org`."""
    return MembershipFactory(user=UserFactory(username="erika"), organization=org, role="viewer")


@pytest.fixture
def owner(org):
    """The only owner of `org`."""
    return MembershipFactory(user=UserFactory(username="olga"), organization=org, role=Role.OWNER)


# --- Changing roles --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMINS)
def test_an_admin_changes_a_members_role(org, erika, owner, role):
    response = portal_client(org, role).post(role_url(erika), role_body(erika, Role.OPERATOR))
    assert response.status_code == 302
    erika.refresh_from_db()
    assert erika.role == Role.OPERATOR


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_nobody_changes_a_role(org, erika, role):
    response = portal_client(org, role).post(role_url(erika), role_body(erika, Role.ADMIN))
    assert response.status_code == 403
    erika.refresh_from_db()
    assert erika.role == Role.VIEWER


def test_an_outsider_changes_no_role_of_ours(org, other_org, erika):
    response = portal_client(other_org, Role.OWNER).post(
        org_url(other_org, f"members/{erika.pk}/role/"), role_body(erika, Role.OWNER)
    )
    assert response.status_code == 404
    erika.refresh_from_db()
    assert erika.role == Role.VIEWER


def test_a_member_of_another_organization_cannot_be_changed_through_ours(org, other_org):
    foreign = MembershipFactory(organization=other_org, role=Role.VIEWER)
    response = portal_client(org, Role.OWNER).post(
        org_url(org, f"members/{foreign.pk}/role/"), role_body(foreign, Role.ADMIN)
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.role == Role.VIEWER


@pytest.mark.parametrize("bad_role", ["", "superuser", Role.OWNER])
def test_an_admin_gets_a_field_error_for_an_unknown_or_too_high_role(org, erika, bad_role):
    response = portal_client(org, Role.ADMIN).post(role_url(erika), role_body(erika, bad_role))
    assert response.status_code == 400
    expected = "This field is required" if bad_role == "" else "Select a valid choice"
    assert expected in response.content.decode()
    erika.refresh_from_db()
    assert erika.role == Role.VIEWER


def test_an_admin_may_not_change_an_owner(org, erika, owner):
    MembershipFactory(organization=org, role=Role.OWNER)
    response = portal_client(org, Role.ADMIN).post(role_url(owner), role_body(owner, Role.ADMIN))
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_the_last_owner_cannot_be_demoted_and_the_page_says_why(org, owner):
    response = logged_in(owner).post(role_url(owner), role_body(owner, Role.ADMIN))
    assert response.status_code == 409
    assert "last owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_is_demoted_when_another_owner_remains(org, owner):
    second = MembershipFactory(organization=org, role=Role.OWNER)
    response = logged_in(second).post(role_url(owner), role_body(owner, Role.ADMIN))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.role == Role.ADMIN


def test_an_owner_makes_another_member_owner(org, owner, erika):
    response = logged_in(owner).post(role_url(erika), role_body(erika, Role.OWNER))
    assert response.status_code == 302
    erika.refresh_from_db()
    assert erika.role == Role.OWNER


# --- Removing and leaving --------------------------------------------------------------------


@pytest.mark.parametrize("role", ADMINS)
def test_an_admin_removes_a_member(org, erika, owner, role):
    response = portal_client(org, role).post(remove_url(erika))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=erika.pk).exists()


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_nobody_removes_another_member(org, erika, role):
    assert portal_client(org, role).post(remove_url(erika)).status_code == 403
    assert Membership.objects.filter(pk=erika.pk).exists()


def test_an_outsider_removes_nobody_of_ours(org, other_org, erika):
    response = portal_client(other_org, Role.OWNER).post(
        org_url(other_org, f"members/{erika.pk}/remove/")
    )
    assert response.status_code == 404
    assert Membership.objects.filter(pk=erika.pk).exists()


def test_a_viewer_leaves_the_organization(org, erika, owner):
    response = logged_in(erika).post(remove_url(erika))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=erika.pk).exists()


def test_an_admin_may_not_remove_an_owner(org, owner):
    MembershipFactory(organization=org, role=Role.OWNER)
    assert portal_client(org, Role.ADMIN).post(remove_url(owner)).status_code == 403
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_the_last_owner_can_neither_be_removed_nor_leave(org, owner):
    response = logged_in(owner).post(remove_url(owner))
    assert response.status_code == 409
    assert "last owner" in response.content.decode()
    assert Membership.objects.filter(pk=owner.pk).exists()


def test_removing_is_post_only(org, erika):
    assert portal_client(org, Role.OWNER).get(remove_url(erika)).status_code == 405


# --- The page --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_members_page_explains_what_each_role_may_do(org, role):
    page = portal_client(org, role).get(org_url(org, "members/")).content.decode()
    assert "What each role may do" in page
    assert "runs remote commands" in page


def test_admins_get_role_forms_but_no_form_for_an_owner(org, erika, owner):
    page = portal_client(org, Role.ADMIN).get(org_url(org, "members/")).content.decode()
    assert f'action="{role_url(erika)}"' in page
    assert f'action="{role_url(owner)}"' not in page
    assert "Only an owner may change or remove an owner." in page


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_the_page_has_no_role_forms(org, erika, role):
    page = portal_client(org, role).get(org_url(org, "members/")).content.decode()
    assert f'action="{role_url(erika)}"' not in page
    assert f'action="{remove_url(erika)}"' not in page


def test_the_last_owner_sees_why_they_cannot_go(org, owner):
    page = logged_in(owner).get(org_url(org, "members/")).content.decode()
    assert "The last owner cannot be demoted or removed" in page
    assert f'action="{remove_url(owner)}"' not in page
