"""The base class of every API viewset: tenant-narrowed rows, a role per action."""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.viewsets import GenericViewSet

from core.api.pagination import StableOrderingFilter, StandardPagination
from core.api.parameters import StrictQueryParametersMixin
from organizations.api.permissions import RolePermission, organization_id_of
from organizations.models import Organization
from organizations.roles import LOWEST_ROLE, organizations_with_role, role_at_least
from organizations.tenancy import TenantQuerySet


class TenantViewSet(StrictQueryParametersMixin, GenericViewSet):
    """Rows of the user's organizations only; each action requires a role in the row's one."""

    # Subclasses declare `queryset` over a TenantQuerySet model (with the select_related and
    # prefetch_related they need) and `required_role`: one role for every action, or a map
    # from action name to role. An action missing from the map is refused to everybody.
    required_role: str | Mapping[str, str] | None = None
    pagination_class = StandardPagination
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    # Nothing is orderable unless the subclass says so (DRF's default is every field).
    ordering_fields = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # DRF's CreateModelMixin saves without the URL's organization: a viewset that creates
        # through it unchanged must use TenantCreateModelMixin instead. Refused at import.
        create = getattr(cls, "create", None)
        if (
            create is mixins.CreateModelMixin.create
            and cls.perform_create is mixins.CreateModelMixin.perform_create
        ):
            raise ImproperlyConfigured(
                f"{cls.__name__}: use TenantCreateModelMixin, so new rows get the "
                "organization from the URL"
            )

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

    def initial(self, request, *args, **kwargs):
        # A method the route does not map has no action and so no role: without this it would
        # be refused as a 403, which reads like a permission problem rather than a wrong verb.
        if self.action is None and request.method.lower() != "options":
            raise MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)

    def get_organization(self) -> Organization | None:
        """The organization named in the URL (`/organizations/{id}/...`), or None."""
        pk = self.kwargs.get("organization_pk")
        if pk is None:
            return None
        if getattr(self, "_url_organization", None) is None:
            # RolePermission has already answered 404 for an organization the user is not in;
            # this lookup repeats the narrowing so no caller depends on that order.
            found = Organization.objects.visible_to(self.request.user).filter(pk=pk).first()
            if found is None:
                raise Http404
            self._url_organization = found
        return self._url_organization

    def get_queryset(self):
        queryset = super().get_queryset()
        if not isinstance(queryset, TenantQuerySet):
            raise ImproperlyConfigured(
                f"{type(self).__name__}.queryset must be a TenantQuerySet, so it can be "
                "narrowed to the user's organizations"
            )
        # An object of another organization is then a 404, exactly like a missing one.
        queryset = queryset.visible_to(self.request.user)
        if self.kwargs.get("organization_pk") is not None:
            queryset = queryset.for_org(self.get_organization().pk)
        required = self.get_required_role()
        if not self.detail and required and not role_at_least(LOWEST_ROLE, required):
            # A collection action above the lowest role covers only the organizations where
            # the user holds it; object actions keep every visible row so a shortfall is a 403.
            orgs = organizations_with_role(self.request, required)
            queryset = queryset.filter(**{f"{queryset.org_path}__in": orgs})
        return queryset

    def get_object(self):
        obj = super().get_object()
        # Serializers narrow related fields to the organization of the object being changed.
        self.object_organization_id = organization_id_of(obj)
        return obj

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        organization = self.get_organization() if self.kwargs.get("organization_pk") else None
        context["organization_id"] = (
            organization.pk if organization else getattr(self, "object_organization_id", None)
        )
        return context


class TenantCreateModelMixin(mixins.CreateModelMixin):
    """POST under /organizations/{id}/<resource>/: the new row belongs to that organization."""

    # Collections only accept POST under /organizations/{id}/ (see core.api.routers), so the
    # organization always comes from the URL, never from the body.
    def perform_create(self, serializer):
        organization = self.get_organization()
        if organization is None:
            raise ImproperlyConfigured(f"{type(self).__name__} creates outside an organization")
        serializer.save(organization=organization)
