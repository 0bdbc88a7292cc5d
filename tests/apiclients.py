"""API clients for tests: as a new member with a role, as a user, or with an API key."""

from rest_framework.test import APIClient

from organizations.choices import Role
from tests.factories import MembershipFactory, UserFactory


def member(*memberships):
    """A user with the given (organization, role) memberships."""
    user = UserFactory()
    for organization, role in memberships:
        MembershipFactory(user=user, organization=organization, role=role)
    return user


def client_for(user):
    """An API client authenticated as `user`."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def client_as(organization, role=Role.VIEWER):
    """An API client for a new member of `organization` with `role`."""
    return client_for(member((organization, role)))


def key_client(secret):
    """An API client that sends an organization API key."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {secret}")
    return client
