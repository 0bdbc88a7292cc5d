"""Portal (browser session) clients for view tests: a new member with a role, or an outsider."""

from django.test import Client

from organizations.choices import Role
from tests.apiclients import member

# Every role, lowest first: view tests render each page for each of them.
ROLES = [Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER]


def portal_client(organization, role=Role.VIEWER):
    """A logged-in portal client for a new member of `organization` with `role`."""
    client = Client()
    client.force_login(member((organization, role)))
    return client


def org_url(organization, path: str = "") -> str:
    """The portal URL of a page of the organization: /o/<slug>/<path>."""
    return f"/o/{organization.slug}/{path}"
