"""The tenancy pattern: every tenant-owned queryset narrows by organization the same way."""

from django.db import models


class TenantQuerySet(models.QuerySet):
    """QuerySet of rows owned by an organization through `org_path`."""

    # Subclasses name the one declared path from the row to its organization.
    org_path = "organization"

    def for_org(self, org):
        """Rows owned by one organization (an object or a primary key)."""
        return self.filter(**{self.org_path: org})

    def visible_to(self, user):
        """Rows of every organization the user is a member of; nothing for anonymous users."""
        if user is None or not user.is_authenticated:
            return self.none()
        api_key = getattr(user, "api_key", None)
        if api_key is not None:
            # A machine client authenticated with an organization API key sees that one only.
            return self.for_org(api_key.organization_id)
        # Through the membership table by its reverse name, so this module needs no model import;
        # (user, organization) is unique there, so the join never repeats a row.
        return self.filter(**{self.member_lookup(): user})

    def member_lookup(self) -> str:
        """The lookup from a row to the users who are members of its organization."""
        return f"{self.org_path}__memberships__user"
