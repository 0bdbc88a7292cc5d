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
        from organizations.models import Membership

        org_ids = Membership.objects.filter(user=user).values("organization_id")
        return self.filter(**{f"{self.org_path}__in": org_ids})
