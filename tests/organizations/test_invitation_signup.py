"""An invited person without an account: the emailed link offers to log in or to sign up."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from organizations.choices import InvitationStatus, Role
from organizations.forms import InvitationSignupForm
from organizations.models import Invitation, Membership
from organizations.services import InvitationNotOpen, revoke_invitation
from tests.factories import MembershipFactory, UserFactory, make_invitation
from tests.portalclients import ROLES, portal_client

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "Ladesaeule-Nord-42"


def link(token):
    return f"/invitations/{token}/"


def signup(token):
    return f"/invitations/{token}/sign-up/"


def details(**overrides):
    """A complete sign-up form body."""
    body = {
        "username": "newbie",
        "first_name": "Nora",
        "last_name": "Neu",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    body.update(overrides)
    return body


def nothing_written(invitation, username="newbie"):
    """No account and no membership appeared, and the invitation is still as it was."""
    status = invitation.status
    invitation.refresh_from_db()
    return (
        not User.objects.filter(username=username).exists()
        and not Membership.objects.filter(user__username=username).exists()
        and invitation.status == status
        and invitation.accepted_by is None
    )


# --- The link, logged out --------------------------------------------------------------------


def test_a_logged_out_visitor_is_offered_to_log_in_or_to_sign_up(org):
    _invitation, token = make_invitation(org, "Nora@Example.com", Role.OPERATOR)
    response = Client().get(link(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert org.name in page
    assert "Operator" in page
    # Log in and come back to this link.
    assert f'href="/accounts/login/?next=/invitations/{token}/"' in page
    # Or create an account, for the invited address only.
    assert f'action="/invitations/{token}/sign-up/"' in page
    form = response.context["form"]
    assert form["email"].value() == "nora@example.com"
    assert form.fields["email"].disabled
    assert 'name="password1"' in page and 'name="password2"' in page


def test_logging_in_from_the_link_comes_back_to_it(org):
    _invitation, token = make_invitation(org, "nora@example.com")
    UserFactory(username="nora", email="nora@example.com")
    client = Client()
    response = client.post(
        f"/accounts/login/?next={link(token)}",
        {"username": "nora", "password": "user-secret-123", "next": link(token)},
    )
    assert response.status_code == 302
    assert response["Location"] == link(token)
    assert 'value="accept"' in client.get(link(token)).content.decode()


@pytest.mark.parametrize("state", ["expired", "revoked", "accepted", "declined", "unknown"])
def test_a_link_that_no_longer_works_shows_the_invalid_page_and_no_form(org, state):
    invitation, token = make_invitation(org, "nora@example.com")
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    elif state == "unknown":
        token = "no-such-token"
    elif state != "expired":
        Invitation.objects.filter(pk=invitation.pk).update(status=state)
    response = Client().get(link(token))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Invitation not found" in page
    assert org.name not in page
    assert 'name="password1"' not in page


# --- Signing up ------------------------------------------------------------------------------


def test_signing_up_creates_the_account_and_membership_and_logs_in(org):
    invitation, token = make_invitation(org, "Nora@Example.com", Role.OPERATOR)
    client = Client()
    response = client.post(signup(token), details())
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/"
    user = User.objects.get(username="newbie")
    assert (user.email, user.first_name, user.last_name) == ("nora@example.com", "Nora", "Neu")
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(user=user, organization=org).role == Role.OPERATOR
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == (InvitationStatus.ACCEPTED, user)
    # Logged in: the organization's dashboard opens, with the welcome.
    dashboard = client.get(f"/o/{org.slug}/")
    assert dashboard.status_code == 200
    assert dashboard.wsgi_request.user == user
    assert "You are now a member of Stadtwerke Demo as Operator." in dashboard.content.decode()


def test_the_new_account_can_log_in_again_with_its_password(org):
    _invitation, token = make_invitation(org, "nora@example.com")
    Client().post(signup(token), details())
    client = Client()
    response = client.post("/accounts/login/", {"username": "newbie", "password": PASSWORD})
    assert response.status_code == 302


def test_the_link_is_used_up_after_signing_up(org):
    _invitation, token = make_invitation(org, "nora@example.com")
    Client().post(signup(token), details())
    again = Client()
    assert again.get(link(token)).status_code == 404
    assert again.post(signup(token), details(username="second")).status_code == 404
    assert not User.objects.filter(username="second").exists()


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("password2", {"password1": "abc", "password2": "abc"}),
        ("password2", {"password1": "12345678901", "password2": "12345678901"}),
        ("password2", {"password1": "password", "password2": "password"}),
        ("password2", {"password1": PASSWORD, "password2": PASSWORD + "x"}),
        # Too like the invited address: Django's UserAttributeSimilarityValidator sees the email.
        ("password2", {"password1": "nora.neumann", "password2": "nora.neumann"}),
        ("username", {"username": ""}),
        ("username", {"username": "no spaces allowed"}),
    ],
)
def test_a_bad_form_shows_the_field_error_and_writes_nothing(org, field, overrides):
    invitation, token = make_invitation(org, "nora.neumann@example.com")
    response = Client().post(signup(token), details(**overrides))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'role="alert"' in response.content.decode()
    assert nothing_written(invitation, overrides.get("username", "newbie"))
    assert not User.objects.exists()


def test_an_existing_username_is_refused_with_a_hint_to_log_in(org):
    invitation, token = make_invitation(org, "nora@example.com")
    existing = UserFactory(username="Newbie", email="someone@example.com")
    response = Client().post(signup(token), details(username="newbie"))
    assert response.status_code == 400
    (error,) = response.context["form"].errors["username"]
    assert "log in" in error
    assert User.objects.filter(username__iexact="newbie").get() == existing
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(organization=org).exists()


def test_an_address_that_has_an_account_is_refused_with_a_hint_to_log_in(org):
    invitation, token = make_invitation(org, "nora@example.com")
    UserFactory(username="nora", email="NORA@example.com")
    response = Client().post(signup(token), details())
    assert response.status_code == 400
    (error,) = response.context["form"].errors["email"]
    assert "log in" in error
    assert nothing_written(invitation)


def test_the_email_of_the_account_cannot_be_changed_by_the_post_body(org):
    _invitation, token = make_invitation(org, "nora@example.com")
    response = Client().post(signup(token), details(email="mallory@example.com"))
    assert response.status_code == 302
    assert User.objects.get(username="newbie").email == "nora@example.com"
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_a_token_signs_up_only_its_own_address_into_its_own_organization(org, other_org):
    """The holder of one invitation cannot use it for another address or organization."""
    _ours, token = make_invitation(org, "nora@example.com", Role.VIEWER)
    theirs, _their_token = make_invitation(other_org, "mallory@example.com", Role.OWNER)
    also_nora, _token = make_invitation(other_org, "nora@example.com", Role.ADMIN)
    Client().post(signup(token), details(email="mallory@example.com", role=Role.OWNER))
    user = User.objects.get(username="newbie")
    assert user.email == "nora@example.com"
    assert list(Membership.objects.filter(user=user).values_list("organization", "role")) == [
        (org.pk, Role.VIEWER)
    ]
    for invitation in (theirs, also_nora):
        invitation.refresh_from_db()
        assert invitation.status == InvitationStatus.PENDING
    assert not Membership.objects.filter(organization=other_org).exists()


@pytest.mark.parametrize("state", ["expired", "revoked", "accepted"])
def test_signing_up_on_a_link_that_no_longer_works_writes_nothing(org, state):
    invitation, token = make_invitation(org, "nora@example.com")
    if state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    else:
        Invitation.objects.filter(pk=invitation.pk).update(status=state)
    response = Client().post(signup(token), details())
    assert response.status_code == 404
    assert "Invitation not found" in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    assert not Membership.objects.filter(organization=org).exists()


def test_an_invitation_withdrawn_while_the_form_is_filled_in_leaves_no_account(org):
    """The acceptance fails after the account was saved: the account is rolled back with it."""
    invitation, token = make_invitation(org, "nora@example.com")
    admin = MembershipFactory(organization=org, role=Role.ADMIN).user

    def accept_after_withdrawal(current, user):
        # The account is saved by now, inside the transaction the refusal rolls back.
        assert User.objects.filter(username="newbie").exists()
        raise InvitationNotOpen("This invitation has been withdrawn.")

    with mock.patch(
        "organizations.views.accept_invitation", side_effect=accept_after_withdrawal
    ) as accept:
        response = Client().post(signup(token), details())
    assert accept.called
    assert response.status_code == 404
    assert "This invitation has been withdrawn." in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    assert set(User.objects.values_list("pk", flat=True)) == {admin.pk}
    assert nothing_written(invitation)


def test_the_real_service_refuses_a_withdrawn_invitation_and_the_account_rolls_back(org):
    """The same race through the real acceptance: the invitation is revoked after validation."""
    invitation, token = make_invitation(org, "nora@example.com")
    original_is_valid = InvitationSignupForm.is_valid

    def valid_then_withdrawn(form):
        valid = original_is_valid(form)
        revoke_invitation(invitation)
        return valid

    with mock.patch.object(InvitationSignupForm, "is_valid", valid_then_withdrawn):
        response = Client().post(signup(token), details())
    assert response.status_code == 404
    assert "This invitation has been withdrawn." in response.content.decode()
    assert not User.objects.filter(username="newbie").exists()
    assert not Membership.objects.filter(organization=org).exists()


# --- Logged-in visitors ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_logged_in_member_does_not_get_the_sign_up_and_creates_nothing(org, other_org, role):
    invitation, token = make_invitation(org, "nora@example.com")
    client = portal_client(other_org, role)
    page = client.get(link(token))
    assert page.status_code == 404
    assert 'name="password1"' not in page.content.decode()
    response = client.post(signup(token), details())
    assert response.status_code == 302
    assert response["Location"] == link(token)
    assert nothing_written(invitation)


def test_the_addressee_logged_in_still_accepts_with_the_button(org):
    _invitation, token = make_invitation(org, "nora@example.com")
    nora = UserFactory(username="nora", email="nora@example.com")
    client = Client()
    client.force_login(nora)
    page = client.get(link(token)).content.decode()
    assert 'value="accept"' in page
    assert 'name="password1"' not in page


def test_a_logged_out_post_to_the_link_asks_to_log_in_and_accepts_nothing(org):
    invitation, token = make_invitation(org, "nora@example.com")
    response = Client().post(link(token), {"action": "accept"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
