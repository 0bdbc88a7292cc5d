from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    """Organizations, memberships, invitations, API keys and the tenancy machinery."""

    name = "organizations"
