from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    """Organizations, memberships, access groups and id tokens."""

    name = "organizations"
