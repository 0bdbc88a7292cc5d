"""Portal pages of members and invitations: the members page, inviting, the emailed link."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from organizations.choices import InvitationStatus, Role
from organizations.models import Invitation, Membership
from tests.apiclients import member
from tests.factories import MembershipFactory, UserFactory, make_invitation
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

ADMINS = [Role.ADMIN, Role.OWNER]
BELOW_ADMIN = [Role.VIEWER, Role.OPERATOR]


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def max_(db):
    """Somebody with an account who is not a member of `org`."""
    return UserFactory(username="max", email="max@example.com")


def without_csrf(response, token) -> str:
    """The page without its CSRF tokens (new on every render) and its own link's token."""
    page = response.content.decode().replace(token, "TOKEN")
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def link(token):
    return f"/invitations/{token}/"


# --- The members page ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_members_page_lists_the_members_for_every_role(org, role):
    MembershipFactory(user=UserFactory(username="erika"), organization=org, role=Role.VIEWER)
    response = portal_client(org, role).get(org_url(org, "members/"))
    assert response.status_code == 200
    assert "erika" in response.content.decode()


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_the_members_page_shows_no_invitations_and_no_form(org, role):
    make_invitation(org, "secret-guest@example.com")
    page = portal_client(org, role).get(org_url(org, "members/")).content.decode()
    assert "secret-guest@example.com" not in page
    assert 'name="email"' not in page


@pytest.mark.parametrize("role", ADMINS)
def test_admins_see_pending_invitations_and_the_invite_form(org, role):
    make_invitation(org, "guest@example.com")
    page = portal_client(org, role).get(org_url(org, "members/")).content.decode()
    assert "guest@example.com" in page
    assert 'name="email"' in page


def test_an_admin_is_offered_no_role_above_their_own(org):
    response = portal_client(org, Role.ADMIN).get(org_url(org, "members/"))
    roles = [value for value, _label in response.context["form"].fields["role"].choices]
    assert roles == [Role.ADMIN, Role.OPERATOR, Role.VIEWER]


def test_the_members_page_of_another_organization_is_404(org, other_org):
    assert portal_client(other_org, Role.OWNER).get(org_url(org, "members/")).status_code == 404


def test_the_members_page_stays_within_its_query_budget(org, django_assert_max_num_queries):
    for number in range(6):
        MembershipFactory(organization=org, role=Role.VIEWER)
        make_invitation(org, f"n{number}@example.com", invited_by=UserFactory())
    client = portal_client(org, Role.ADMIN)
    # Session, user, membership, the header's memberships, members with users, invitations
    # with inviters: none per member or per invitation.
    with django_assert_max_num_queries(6):
        response = client.get(org_url(org, "members/"))
    assert response.content.decode().count("data-invitation=") == 6


# --- Inviting --------------------------------------------------------------------------------


def test_an_admin_invites_from_the_portal_and_the_email_goes_out(
    org, django_capture_on_commit_callbacks
):
    client = portal_client(org, Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            org_url(org, "members/invite/"), {"email": "New@Example.com", "role": "operator"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new@example.com", Role.OPERATOR)
    assert len(mail.outbox) == 1
    assert "http://testserver/invitations/" in mail.outbox[0].body


def test_inviting_an_account_or_a_stranger_shows_the_same_page(org, max_):
    client = portal_client(org, Role.ADMIN)
    pages = []
    for email in ("max@example.com", "nobody@example.com"):
        response = client.post(
            org_url(org, "members/invite/"), {"email": email, "role": "viewer"}, follow=True
        )
        assert response.status_code == 200
        pages.append(response.content.decode().replace(email, "EMAIL"))
    assert pages[0].count("Invitation sent to EMAIL.") == 1
    # Both pending rows are listed, so compare the message area only.
    assert (
        pages[0].split("<main")[1].split("</ul>")[0] == pages[1].split("<main")[1].split("</ul>")[0]
    )
    assert not Membership.objects.filter(user=max_).exists()


def test_an_admin_may_not_invite_an_owner_from_the_portal(org):
    response = portal_client(org, Role.ADMIN).post(
        org_url(org, "members/invite/"), {"email": "x@example.com", "role": "owner"}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", BELOW_ADMIN)
def test_below_admin_nobody_invites_from_the_portal(org, role):
    response = portal_client(org, role).post(
        org_url(org, "members/invite/"), {"email": "x@example.com", "role": "viewer"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_outsider_invites_nobody_and_changes_no_invitation_of_ours(org, other_org):
    invitation, _token = make_invitation(org, "guest@example.com")
    client = portal_client(other_org, Role.OWNER)
    invited = client.post(org_url(org, "members/invite/"), {"email": "x@example.com"})
    assert invited.status_code == 404
    for action in ("revoke", "resend"):
        path = org_url(other_org, f"invitations/{invitation.pk}/{action}/")
        assert client.post(path).status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert Invitation.objects.count() == 1


def test_an_admin_withdraws_and_resends_invitations(org, django_capture_on_commit_callbacks):
    withdrawn, _token = make_invitation(org, "a@example.com")
    resent, resent_token = make_invitation(org, "b@example.com")
    client = portal_client(org, Role.ADMIN)
    assert client.post(org_url(org, f"invitations/{withdrawn.pk}/revoke/")).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(org_url(org, f"invitations/{resent.pk}/resend/")).status_code == 302
    withdrawn.refresh_from_db()
    assert withdrawn.status == InvitationStatus.REVOKED
    assert [message.to for message in mail.outbox] == [["b@example.com"]]
    # The resent invitation's old link no longer works.
    invitee = UserFactory(username="b", email="b@example.com")
    assert logged_in(invitee).get(link(resent_token)).status_code == 404


# --- The emailed link ------------------------------------------------------------------------


def test_the_link_asks_an_anonymous_visitor_to_log_in(org):
    _invitation, token = make_invitation(org, "max@example.com")
    response = Client().get(link(token))
    # Or to create an account: tests/organizations/test_invitation_signup.py.
    assert response.status_code == 200
    assert f'href="/accounts/login/?next={link(token)}"' in response.content.decode()


def test_the_invitee_sees_organization_role_and_inviter(org, max_):
    inviter = member((org, Role.OWNER))
    _invitation, token = make_invitation(org, "MAX@example.com", Role.OPERATOR, invited_by=inviter)
    response = logged_in(max_).get(link(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert org.name in page
    assert "Operator" in page
    assert inviter.username in page
    assert 'value="accept"' in page


def test_accepting_on_the_link_page_makes_a_member_and_opens_the_dashboard(org, max_):
    invitation, token = make_invitation(org, "max@example.com", Role.OPERATOR)
    response = logged_in(max_).post(link(token), {"action": "accept"})
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    assert Membership.objects.get(user=max_, organization=org).role == Role.OPERATOR
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


def test_declining_on_the_link_page_leaves_no_membership(org, max_):
    invitation, token = make_invitation(org, "max@example.com")
    response = logged_in(max_).post(link(token), {"action": "decline"})
    assert response.status_code == 302
    assert not Membership.objects.filter(user=max_).exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.DECLINED


def test_another_account_learns_nothing_from_the_link(org):
    _invitation, token = make_invitation(org, "max@example.com", Role.OWNER)
    eve = UserFactory(username="eve", email="eve@example.com")
    client = logged_in(eve)
    theirs = client.get(link(token))
    unknown = client.get(link("no-such-token"))
    assert theirs.status_code == unknown.status_code == 404
    assert without_csrf(theirs, token) == without_csrf(unknown, "no-such-token")
    assert org.name not in theirs.content.decode()
    assert client.post(link(token), {"action": "accept"}).status_code == 404
    assert not Membership.objects.filter(user=eve).exists()


def test_a_used_link_cannot_be_used_again(org, max_):
    _invitation, token = make_invitation(org, "max@example.com", Role.ADMIN)
    client = logged_in(max_)
    client.post(link(token), {"action": "accept"})
    Membership.objects.filter(user=max_).delete()
    again = client.post(link(token), {"action": "accept"})
    assert again.status_code == 302
    assert not Membership.objects.filter(user=max_).exists()
    page = client.get(link(token)).content.decode()
    assert "can no longer be answered" in page
    assert 'value="accept"' not in page


def test_an_expired_link_cannot_be_accepted(org, max_):
    _invitation, token = make_invitation(
        org, "max@example.com", expires_at=timezone.now() - timedelta(minutes=1)
    )
    client = logged_in(max_)
    page = client.get(link(token)).content.decode()
    assert "Expired" in page
    assert 'value="accept"' not in page
    response = client.post(link(token), {"action": "accept"}, follow=True)
    assert "This invitation has expired; ask for a new one." in response.content.decode()
    assert not Membership.objects.filter(user=max_).exists()


# --- My invitations --------------------------------------------------------------------------


def test_my_invitations_lists_open_invitations_and_answers_them(org, other_org, max_):
    ours, _token = make_invitation(org, "max@example.com")
    theirs, _token = make_invitation(other_org, "max@example.com")
    client = logged_in(max_)
    page = client.get("/invitations/").content.decode()
    assert org.name in page and other_org.name in page
    client.post(f"/invitations/{ours.pk}/answer/", {"action": "accept"})
    client.post(f"/invitations/{theirs.pk}/answer/", {"action": "decline"})
    assert list(Membership.objects.filter(user=max_).values_list("organization", flat=True)) == [
        org.pk
    ]
    assert "You have no pending invitations." in client.get("/invitations/").content.decode()


def test_nobody_answers_an_invitation_of_somebody_else_by_its_id(org):
    invitation, _token = make_invitation(org, "max@example.com")
    eve = UserFactory(username="eve", email="eve@example.com")
    response = logged_in(eve).post(f"/invitations/{invitation.pk}/answer/", {"action": "accept"})
    assert response.status_code == 404
    assert not Membership.objects.filter(user=eve).exists()


def test_a_user_without_an_organization_is_pointed_to_their_invitations(org, max_):
    make_invitation(org, "max@example.com")
    page = logged_in(max_).get("/").content.decode()
    assert "You have 1 invitation waiting for an answer" in page
    assert 'href="/invitations/"' in page
