"""The base class of every API viewset: tenant-narrowed rows, a role per action."""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.viewsets import GenericViewSet

from cms.api.pagination import StableOrderingFilter, StandardPagination
from cms.api.permissions import (
    LOWEST_ROLE,
    RolePermission,
    organizations_with_role,
    role_at_least,
)
from cms.tenancy import TenantQuerySet


class TenantViewSet(GenericViewSet):
    """Rows of the user's organizations only; each action requires a role in the row's one."""

    # Subclasses declare `queryset` over a TenantQuerySet model (with the select_related and
    # prefetch_related they need) and `required_role`: one role for every action, or a map
    # from action name to role. An action missing from the map is refused to everybody.
    required_role: str | Mapping[str, str] | None = None
    pagination_class = StandardPagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    # Nothing is orderable unless the subclass says so (DRF's default is every field).
    ordering_fields = ()

    def get_required_role(self) -> str | None:
        """The role the current action requires, or None when the action declares none."""
        if isinstance(self.required_role, Mapping):
            return self.required_role.get(self.action)
        return self.required_role

    def get_permissions(self):
        permissions = super().get_permissions()
        # A subclass may add permission classes but can never drop the role check.
        if not any(isinstance(permission, RolePermission) for permission in permissions):
            permissions.append(RolePermission())
        return permissions

    def get_queryset(self):
        queryset = super().get_queryset()
        if not isinstance(queryset, TenantQuerySet):
            raise ImproperlyConfigured(
                f"{type(self).__name__}.queryset must be a TenantQuerySet, so it can be "
                "narrowed to the user's organizations"
            )
        # An object of another organization is then a 404, exactly like a missing one.
        queryset = queryset.visible_to(self.request.user)
        required = self.get_required_role()
        if not self.detail and required and not role_at_least(LOWEST_ROLE, required):
            # A collection action above the lowest role covers only the organizations where
            # the user holds it; object actions keep every visible row so a shortfall is a 403.
            orgs = organizations_with_role(self.request, required)
            queryset = queryset.filter(**{f"{queryset.org_path}__in": orgs})
        return queryset
