"""In headless Chromium: an admin invites a new address, the invitee signs up from the email."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import expect

from organizations.choices import Role
from organizations.models import Membership
from tests.browser.conftest import DESKTOP, login, screenshot
from tests.factories import USER_PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise's static files stream from sync iterators under ASGI.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def test_a_person_without_an_account_signs_up_from_the_invitation_and_is_a_member(
    page, browser, portal_server
):
    """The admin invites nora@…, who has no account; she creates one and lands on the dashboard."""
    org = OrganizationFactory(name="Stadtwerke Nord", slug="stadtwerke-nord")
    MembershipFactory(user=UserFactory(username="anna"), organization=org, role=Role.ADMIN)

    login(page, "anna", USER_PASSWORD)
    page.goto(f"/o/{org.slug}/members/")
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email address").fill("nora@example.com")
    invite.get_by_label("Role").select_option(Role.OPERATOR)
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to nora@example.com")

    (email,) = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", email.body).group(0)
    context = browser.new_context(base_url=portal_server.url, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    invitee = context.new_page()
    script_errors = []
    invitee.on("pageerror", lambda error: script_errors.append(str(error)))
    try:
        invitee.goto(link)
        main = invitee.locator("main")
        expect(main).to_contain_text("Stadtwerke Nord")
        expect(main.get_by_role("link", name="Log in")).to_be_visible()
        signup = invitee.get_by_role("region", name="I am new here")
        expect(signup.get_by_label("Email address")).to_have_value("nora@example.com")
        expect(signup.get_by_label("Email address")).to_be_disabled()
        signup.get_by_label("Username").fill("nora")
        signup.get_by_label("First name").fill("Nora")
        signup.get_by_label(re.compile(r"^Password:?$")).fill("Ladesaeule-Nord-42")
        signup.get_by_label("Password confirmation").fill("Ladesaeule-Nord-42")
        screenshot(invitee, "invitation-signup")
        signup.get_by_role("button", name="Create account and join").click()
        expect(invitee).to_have_url(re.compile(rf"/o/{org.slug}/$"))
        expect(invitee.locator(".messages")).to_contain_text(
            "You are now a member of Stadtwerke Nord as Operator."
        )
        assert script_errors == []
    finally:
        context.close()

    nora = get_user_model().objects.get(username="nora")
    assert nora.email == "nora@example.com"
    assert Membership.objects.get(organization=org, user=nora).role == Role.OPERATOR
    page.reload()
    expect(page.locator("tr[data-member]", has_text="nora")).to_be_visible()
    expect(page.locator("[data-invitation]")).to_have_count(0)
    assert page.script_errors == []
