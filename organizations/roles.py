"""Who may do what: the role a request holds in each organization, read once per request."""

from organizations.choices import Role
from organizations.models import Membership

LOWEST_ROLE = Role.lowest()


def role_at_least(role: str | None, minimum: str) -> bool:
    """Whether `role` (None: no membership) ranks at least `minimum`."""
    return role is not None and Role(role).at_least(minimum)


def organization_roles(request) -> dict[int, str]:
    """The user's role in each of their organizations, read once per request."""
    roles = getattr(request, "_organization_roles", None)
    api_key = getattr(request.user, "api_key", None)
    if roles is None and api_key is not None:
        roles = {api_key.organization_id: api_key.role}
        request._organization_roles = roles
    elif roles is None:
        roles = dict(
            Membership.objects.filter(user=request.user).values_list("organization_id", "role")
        )
        request._organization_roles = roles
    return roles


def organizations_with_role(request, minimum: str) -> list[int]:
    """Ids of the organizations where the user holds at least `minimum`."""
    return [
        org for org, role in organization_roles(request).items() if role_at_least(role, minimum)
    ]
