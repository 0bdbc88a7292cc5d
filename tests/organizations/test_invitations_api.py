"""Invitations over the API: nobody becomes a member without accepting; inviting tells nothing."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from organizations.choices import InvitationStatus, Role
from organizations.models import Invitation, Membership
from organizations.services import invitation_token_hash
from tests.apiclients import client_for, key_client, member
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    make_api_key,
    make_invitation,
)

pytestmark = pytest.mark.django_db

MINE = "/api/v1/my-invitations/"
FLAT = "/api/v1/invitations/"


def nested(organization):
    return f"/api/v1/organizations/{organization.pk}/invitations/"


def mine(invitation, action):
    return f"{MINE}{invitation.pk}/{action}/"


def flat(invitation, action=""):
    return f"{FLAT}{invitation.pk}/{action}"


@pytest.fixture
def owner(org):
    return member((org, Role.OWNER))


@pytest.fixture
def admin(org):
    return member((org, Role.ADMIN))


@pytest.fixture
def max_(db):
    """Somebody with an account who is not a member of `org`."""
    return UserFactory(username="max", email="Max@Example.com")


def invite(user, organization, email, role=Role.VIEWER):
    """POST an invitation as `user`."""
    return client_for(user).post(
        nested(organization), {"email": email, "role": role}, format="json"
    )


def token_of(link):
    return link.rstrip("/").rsplit("/", 1)[1]


# Inviting: consent


def test_inviting_makes_nobody_a_member_until_they_accept(org, admin, max_):
    response = invite(admin, org, "max@example.com", Role.OPERATOR)
    assert response.status_code == 201, response.data
    assert not Membership.objects.filter(user=max_).exists()
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.status) == (
        "max@example.com",
        Role.OPERATOR,
        InvitationStatus.PENDING,
    )
    assert invitation.invited_by == admin


def test_the_invitation_email_carries_the_link_after_commit_and_only_the_hash_is_stored(
    org, admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(admin, org, "Someone@Example.com", Role.VIEWER)
    assert response.status_code == 201, response.data
    link = response.data["link"]
    assert link.startswith("http://testserver/invitations/")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["someone@example.com"]
    assert org.name in message.subject
    assert link in message.body
    invitation = Invitation.objects.get()
    token = token_of(link)
    assert invitation.token_hash == invitation_token_hash(token)
    assert token not in invitation.token_hash
    assert invitation.sent_at is not None


def test_the_link_is_shown_once_and_never_in_the_list(org, admin):
    invite(admin, org, "someone@example.com")
    listed = client_for(admin).get(nested(org)).data["results"]
    assert "link" not in listed[0]
    assert set(listed[0]) == {
        "id",
        "organization",
        "email",
        "role",
        "status",
        "invited_by",
        "created",
        "expires_at",
        "sent_at",
        "accepted_by",
        "responded_at",
    }


def test_a_failing_mail_server_does_not_fail_the_invitation(
    org, admin, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch("organizations.services.send_mail", side_effect=ConnectionRefusedError),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = invite(admin, org, "someone@example.com")
    assert response.status_code == 201, response.data
    invitation = Invitation.objects.get()
    assert invitation.sent_at is None
    assert response.data["sent_at"] is None
    assert "sending the email failed" in caplog.text


# No enumeration


def answer_shape(response):
    """What an inviter learns: the status and every field but those naturally different."""
    varying = {"id", "email", "created", "expires_at", "sent_at", "link"}
    return response.status_code, {k: v for k, v in response.data.items() if k not in varying}


def test_inviting_an_account_a_member_or_a_stranger_answers_the_same(
    org, admin, django_capture_on_commit_callbacks
):
    UserFactory(username="has-account", email="account@example.com")
    MembershipFactory(
        user=UserFactory(username="is-member", email="member@example.com"), organization=org
    )
    UserFactory(username="root", email="root@example.com", is_superuser=True, is_staff=True)
    answers, queries = [], []
    for email in (
        "account@example.com",
        "member@example.com",
        "root@example.com",
        "nobody@example.com",
    ):
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = invite(admin, org, email)
        answers.append(answer_shape(response))
        queries.append(len(captured.captured_queries))
    assert answers[0][0] == 201
    assert all(answer == answers[0] for answer in answers), answers
    # The same work whoever the address belongs to: no user lookup that could show in timing.
    assert len(set(queries)) == 1, queries
    assert len(mail.outbox) == 4
    # A member stays as they were; the root account did not join.
    assert not Membership.objects.filter(user__username="root").exists()


def test_a_bad_address_is_the_only_field_error(org, admin):
    response = invite(admin, org, "not an address")
    assert response.status_code == 400
    assert set(response.data) == {"email"}
    assert not Invitation.objects.exists()


# Who may invite whom


def test_an_admin_may_not_invite_an_owner(org, admin):
    response = invite(admin, org, "someone@example.com", Role.OWNER)
    assert response.status_code == 400
    assert response.data["role"] == ["You may not grant a role above your own (Admin)."]
    assert not Invitation.objects.exists()


def test_an_owner_invites_an_owner_who_becomes_one_on_accepting(org, owner, max_):
    response = invite(owner, org, "max@example.com", Role.OWNER)
    assert response.status_code == 201, response.data
    invitation = Invitation.objects.get()
    assert client_for(max_).post(mine(invitation, "accept")).status_code == 200
    assert Membership.objects.get(user=max_, organization=org).role == Role.OWNER


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_below_admin_nobody_invites(org, role):
    response = invite(member((org, role)), org, "someone@example.com")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_admin_api_key_may_not_invite(org):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    response = key_client(secret).post(nested(org), {"email": "someone@example.com"}, format="json")
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_an_outsider_invites_nobody_and_sees_nothing_of_ours(org, other_org):
    invitation, _token = make_invitation(org, "someone@example.com")
    outsider = member((other_org, Role.OWNER))
    client = client_for(outsider)
    assert invite(outsider, org, "friend@example.com").status_code == 404
    assert client.get(nested(org)).status_code == 404
    assert client.get(flat(invitation)).status_code == 404
    assert client.post(flat(invitation, "revoke/")).status_code == 404
    assert client.post(flat(invitation, "resend/")).status_code == 404
    assert client.get(FLAT).data["results"] == []
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert list(Invitation.objects.values_list("email", flat=True)) == ["someone@example.com"]


def test_creating_an_organization_pulls_nobody_else_in(max_):
    creator = UserFactory()
    response = client_for(creator).post(
        "/api/v1/organizations/",
        {"name": "Mine", "members": [max_.pk], "owner": max_.pk},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert list(
        Membership.objects.filter(organization=response.data["id"]).values_list("user", "role")
    ) == [(creator.pk, Role.OWNER)]


# Inviting again, resending, revoking


def test_inviting_a_pending_address_again_refreshes_its_invitation(org, admin):
    first = invite(admin, org, "someone@example.com", Role.VIEWER).data
    second = invite(admin, org, "SOMEONE@example.com", Role.OPERATOR).data
    assert first["id"] == second["id"]
    invitation = Invitation.objects.get()
    assert invitation.role == Role.OPERATOR
    assert invitation.token_hash == invitation_token_hash(token_of(second["link"]))
    assert invitation.token_hash != invitation_token_hash(token_of(first["link"]))


def test_resending_gives_a_new_link_and_a_new_expiry(org, admin):
    invitation, old_token = make_invitation(
        org, "someone@example.com", expires_at=timezone.now() - timedelta(days=1)
    )
    response = client_for(admin).post(flat(invitation, "resend/"))
    assert response.status_code == 200, response.data
    assert response.data["status"] == "pending"
    invitation.refresh_from_db()
    assert invitation.expires_at > timezone.now() + timedelta(days=6)
    assert invitation.token_hash == invitation_token_hash(token_of(response.data["link"]))
    assert invitation.token_hash != invitation_token_hash(old_token)


def test_an_admin_may_not_resend_an_owner_invitation(org, admin):
    invitation, _token = make_invitation(org, "someone@example.com", role=Role.OWNER)
    response = client_for(admin).post(flat(invitation, "resend/"))
    assert response.status_code == 403


def test_a_revoked_invitation_cannot_be_accepted_or_revoked_again(org, admin, max_):
    invitation, _token = make_invitation(org, "max@example.com")
    client = client_for(admin)
    response = client.post(flat(invitation, "revoke/"))
    assert response.status_code == 200, response.data
    assert response.data["status"] == "revoked"
    assert client.post(flat(invitation, "revoke/")).status_code == 409
    assert client.post(flat(invitation, "resend/")).status_code == 409
    accepted = client_for(max_).post(mine(invitation, "accept"))
    assert accepted.status_code == 409
    assert accepted.data["detail"] == "This invitation has been withdrawn."
    assert not Membership.objects.filter(user=max_).exists()


# The invited person


def test_the_invitee_lists_open_invitations_to_their_address_in_any_case(org, other_org, max_):
    ours, _token = make_invitation(org, "max@example.com", role=Role.OPERATOR)
    make_invitation(other_org, "someone-else@example.com")
    make_invitation(
        OrganizationFactory(), "max@example.com", expires_at=timezone.now() - timedelta(minutes=1)
    )
    answered, _token = make_invitation(OrganizationFactory(), "max@example.com")
    answered.status = InvitationStatus.DECLINED
    answered.save()
    listed = client_for(max_).get(MINE).data["results"]
    assert [row["id"] for row in listed] == [ours.pk]
    assert listed[0]["organization_name"] == org.name
    assert listed[0]["role"] == "operator"


def test_accepting_makes_the_invitee_a_member_with_the_role(org, max_):
    invitation, _token = make_invitation(org, "max@example.com", role=Role.OPERATOR)
    response = client_for(max_).post(mine(invitation, "accept"))
    assert response.status_code == 200, response.data
    membership = Membership.objects.get(user=max_, organization=org)
    assert (response.data["id"], response.data["role"]) == (membership.pk, "operator")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED
    assert invitation.accepted_by == max_
    assert invitation.responded_at is not None


def test_an_invitation_can_be_accepted_only_once(org, max_):
    invitation, _token = make_invitation(org, "max@example.com", role=Role.OPERATOR)
    client = client_for(max_)
    assert client.post(mine(invitation, "accept")).status_code == 200
    Membership.objects.filter(user=max_).update(role=Role.VIEWER)
    again = client.post(mine(invitation, "accept"))
    assert again.status_code == 409
    assert again.data["detail"] == "This invitation has been accepted already."
    assert Membership.objects.get(user=max_).role == Role.VIEWER


def test_declining_leaves_no_membership_and_cannot_be_undone(org, max_):
    invitation, _token = make_invitation(org, "max@example.com")
    client = client_for(max_)
    response = client.post(mine(invitation, "decline"))
    assert response.status_code == 200, response.data
    assert response.data["status"] == "declined"
    assert not Membership.objects.filter(user=max_).exists()
    assert client.post(mine(invitation, "accept")).status_code == 409
    assert not Membership.objects.filter(user=max_).exists()


def test_an_expired_invitation_cannot_be_accepted(org, max_):
    invitation, _token = make_invitation(
        org, "max@example.com", expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client_for(max_).post(mine(invitation, "accept"))
    assert response.status_code == 409
    assert response.data["detail"] == "This invitation has expired; ask for a new one."
    assert not Membership.objects.filter(user=max_).exists()


def test_a_new_invitation_expires_after_the_configured_days(org, admin, settings):
    settings.INVITATION_TTL_DAYS = 3
    before = timezone.now()
    invite(admin, org, "someone@example.com")
    expires_at = Invitation.objects.get().expires_at
    assert before + timedelta(days=3) <= expires_at <= timezone.now() + timedelta(days=3)


def test_the_admin_list_shows_an_expired_invitation_as_expired(org, admin):
    make_invitation(org, "late@example.com", expires_at=timezone.now() - timedelta(hours=1))
    make_invitation(org, "fresh@example.com")
    client = client_for(admin)
    statuses = {row["email"]: row["status"] for row in client.get(nested(org)).data["results"]}
    assert statuses == {"late@example.com": "expired", "fresh@example.com": "pending"}
    expired = client.get(nested(org), {"status": "expired"}).data["results"]
    assert [row["email"] for row in expired] == ["late@example.com"]


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_somebody_else_cannot_answer_an_invitation(org, owner, action):
    invitation, _token = make_invitation(org, "max@example.com")
    stranger = UserFactory(username="eve", email="eve@example.com")
    for user in (stranger, owner):
        response = client_for(user).post(mine(invitation, action))
        assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(user=stranger).exists()


def test_a_user_without_an_email_address_has_no_invitations(org):
    make_invitation(org, "someone@example.com")
    user = UserFactory(username="no-mail", email="")
    assert client_for(user).get(MINE).data["results"] == []


def test_accepting_as_a_member_already_keeps_the_role(org, max_):
    MembershipFactory(user=max_, organization=org, role=Role.ADMIN)
    invitation, _token = make_invitation(org, "max@example.com", role=Role.VIEWER)
    response = client_for(max_).post(mine(invitation, "accept"))
    assert response.status_code == 200, response.data
    assert response.data["role"] == "admin"
    assert Membership.objects.get(user=max_, organization=org).role == Role.ADMIN


def test_an_api_key_has_no_invitations_of_its_own(org):
    invitation, _token = make_invitation(org, "someone@example.com")
    _key, secret = make_api_key(org, role=Role.ADMIN)
    client = key_client(secret)
    assert client.get(MINE).status_code == 403
    assert client.post(mine(invitation, "accept")).status_code == 403


# Query budgets


def test_my_invitation_list_stays_within_its_query_budget(max_, django_assert_max_num_queries):
    for _ in range(8):
        make_invitation(OrganizationFactory(), "max@example.com", invited_by=UserFactory())
    # Session-less token auth: the page count and the page, with organization and inviter.
    with django_assert_max_num_queries(2):
        response = client_for(max_).get(MINE)
    assert len(response.data["results"]) == 8


def test_the_admin_invitation_list_stays_within_its_query_budget(
    org, admin, django_assert_max_num_queries
):
    for number in range(8):
        make_invitation(org, f"n{number}@example.com", invited_by=UserFactory())
    # The caller's roles, the URL's organization, the page count, the page with inviter and
    # acceptor: none per invitation.
    with django_assert_max_num_queries(4):
        response = client_for(admin).get(nested(org))
    assert len(response.data["results"]) == 8


def test_links_in_two_invitations_differ(org, admin):
    first = invite(admin, org, "a@example.com").data["link"]
    second = invite(admin, org, "b@example.com").data["link"]
    assert first != second
    assert re.fullmatch(r"http://testserver/invitations/[\w-]{40,}/", first)
