"""The per-organization role check every API viewset runs through."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from organizations.choices import Role
from organizations.roles import organization_roles, role_at_least


def organization_id_of(obj) -> int | None:
    """The id of the organization that owns `obj`, following its queryset's `org_path`."""
    org_path = getattr(type(obj)._default_manager.none(), "org_path", None)
    if org_path is None:
        raise ImproperlyConfigured(f"{type(obj).__name__} has no TenantQuerySet manager")
    *hops, last = org_path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    if last == "pk":
        return obj.pk
    # The foreign key's own column: no query for the organization row itself.
    return getattr(obj, obj._meta.get_field(last).attname)


class RolePermission(BasePermission):
    """Require the view's role for the action, in the organization that owns the object."""

    # Collection actions only need a signed-in user here: TenantViewSet.get_queryset narrows
    # them to the organizations where the user holds the role.

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        required = view.get_required_role()
        # An action without a declared role is closed to everybody, not open to everybody.
        if required is None:
            return False
        organization = view.kwargs.get("organization_pk")
        if organization is not None:
            # A collection under /organizations/{id}/: 404 for an organization the user is not
            # in (as for any object of another organization), 403 for a role shortfall.
            role = organization_roles(request).get(int(organization))
            if role is None:
                raise NotFound()
            if not role_at_least(role, required):
                self.message = required_role_message(required)
                return False
        return True

    def has_object_permission(self, request, view, obj):
        required = view.get_required_role()
        if required is None:
            return False
        role = organization_roles(request).get(organization_id_of(obj))
        if role_at_least(role, required):
            return True
        self.message = required_role_message(required)
        return False


def required_role_message(role: str) -> str:
    """The 403 text for a role shortfall."""
    return _("Requires role %(role)s.") % {"role": Role(role).label}
