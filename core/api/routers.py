"""Routers: flat resources for reads and changes, organization-nested ones for creating."""

from rest_framework.routers import Route, SimpleRouter

ORGANIZATION_PREFIX = r"organizations/(?P<organization_pk>[0-9]+)/"


class TenantRouter(SimpleRouter):
    """`/<resource>/` lists across the user's organizations; POST only if the viewset allows."""

    # New objects belong to the organization in the URL, so most collections are created
    # under /organizations/{id}/<resource>/ (OrganizationRouter) and their flat list is read-only.

    def get_method_map(self, viewset, method_map):
        methods = super().get_method_map(viewset, method_map)
        # dict.get: an @action's method map is a MethodMapper, whose .get is a decorator.
        if dict.get(method_map, "post") == "create" and not getattr(
            viewset, "create_at_top_level", False
        ):
            methods.pop("post", None)
        return methods


class OrganizationRouter(SimpleRouter):
    """`/organizations/{id}/<resource>/`: that organization's rows, and where new ones are made."""

    routes = [
        Route(
            url=r"^" + ORGANIZATION_PREFIX + r"{prefix}{trailing_slash}$",
            mapping={"get": "list", "post": "create"},
            name="organization-{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
    ]
