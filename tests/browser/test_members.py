"""Members in headless Chromium: an admin invites, the invited person accepts, both see it."""

import re

import pytest
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


def test_an_admin_invites_a_person_who_accepts_and_shows_up_as_a_member(
    page, browser, portal_server
):
    """Two browsers: the admin invites Max as operator, Max follows the emailed link and accepts."""
    org = OrganizationFactory(name="Stadtwerke Nord", slug="stadtwerke-nord")
    MembershipFactory(user=UserFactory(username="anna"), organization=org, role=Role.ADMIN)
    MembershipFactory(user=UserFactory(username="olga"), organization=org, role=Role.OWNER)
    UserFactory(username="max", email="max@example.com")

    # The admin invites Max from the members page.
    login(page, "anna", USER_PASSWORD)
    page.goto(f"/o/{org.slug}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    invite = page.get_by_role("region", name="Invite someone")
    invite.get_by_label("Email address").fill("Max@Example.com")
    invite.get_by_label("Role").select_option(Role.OPERATOR)
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to Max@Example.com")
    expect(page.locator("[data-invitation]")).to_contain_text("max@example.com")
    screenshot(page, "members")
    assert not Membership.objects.filter(organization=org, user__username="max").exists()

    # Max, in a browser of his own, opens the link from the email and accepts.
    (email,) = mail.outbox
    link = re.search(r"https?://\S+/invitations/\S+/", email.body).group(0)
    context = browser.new_context(base_url=portal_server.url, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    invitee = context.new_page()
    try:
        login(invitee, "max", USER_PASSWORD)
        invitee.goto(link)
        expect(invitee.locator("main")).to_contain_text("Stadtwerke Nord")
        expect(invitee.locator("main")).to_contain_text("Operator")
        invitee.get_by_role("button", name="Accept").click()
        expect(invitee.locator(".messages")).to_contain_text(
            "You are now a member of Stadtwerke Nord as Operator."
        )
    finally:
        context.close()

    # The admin reloads the members page: Max is a member with his role, the invitation is gone.
    page.reload()
    row = page.locator("tr[data-member]", has_text="max")
    expect(row).to_be_visible()
    expect(row.locator("select")).to_have_value(Role.OPERATOR)
    expect(page.locator("[data-invitation]")).to_have_count(0)
    assert Membership.objects.get(organization=org, user__username="max").role == Role.OPERATOR
    assert page.script_errors == []
