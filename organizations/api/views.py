"""Views of the organizations API: the caller's organizations, their members and API keys."""

from django.db import IntegrityError
from django.db.models import F
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from cms.api.authentication import api_key_of
from cms.api.exceptions import Conflict
from cms.api.permissions import (
    RolePermission,
    organization_roles,
    required_role_message,
    role_at_least,
)
from cms.api.schema import DETAIL
from cms.api.viewsets import TenantViewSet
from organizations.api.serializers import (
    MembershipCreateSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    OrganizationAPIKeyCreateSerializer,
    OrganizationAPIKeySerializer,
    OrganizationSerializer,
)
from organizations.choices import Role
from organizations.filtersets import (
    MembershipFilterSet,
    OrganizationAPIKeyFilterSet,
    OrganizationFilterSet,
)
from organizations.models import Membership, Organization, OrganizationAPIKey
from organizations.services import (
    AlreadyMember,
    AlreadyRevoked,
    LastOwnerError,
    OwnerRoleRequired,
    RoleAboveOwn,
    add_member,
    change_role,
    create_api_key,
    create_organization,
    remove_member,
    revoke_api_key,
)

LAST_OWNER = OpenApiResponse(DETAIL, description="The organization's last owner cannot go.")


class PeopleOnly(BasePermission):
    """Refuses the view's `people_only_actions` to API keys: those actions are for people."""

    message = _("Only a person may do this; API keys may not.")

    def has_permission(self, request, view):
        if view.action not in getattr(view, "people_only_actions", ()):
            return True
        return api_key_of(request.user) is None


class OrganizationsBaseViewSet(TenantViewSet):
    """The role check first (so 404 stays 404), then the people-only rule."""

    permission_classes = [IsAuthenticated, RolePermission, PeopleOnly]
    people_only_actions: frozenset[str] = frozenset()

    def caller_role(self, organization_id: int) -> str | None:
        """The caller's role in an organization (an API key's own role for a key)."""
        return organization_roles(self.request).get(organization_id)


@extend_schema_view(
    list=extend_schema(description="The organizations you are a member of, with your role."),
    create=extend_schema(
        description="Create an organization; you become its owner. People only: an API key "
        "belongs to one organization and gets 403."
    ),
    update=extend_schema(
        description="Change the organization (owner only). Organizations are not deleted over "
        "the API: support staff do that in the Django admin."
    ),
    partial_update=extend_schema(
        description="Change some fields of the organization (owner only). Organizations are not "
        "deleted over the API: support staff do that in the Django admin."
    ),
)
class OrganizationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    OrganizationsBaseViewSet,
):
    """The caller's organizations; no DELETE (support staff delete in the Django admin)."""

    queryset = Organization.objects.all()
    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilterSet
    ordering_fields = ["name", "slug", "created"]
    ordering = ["name"]
    # Creating an organization is not inside one: POST on the flat list.
    create_at_top_level = True
    people_only_actions = frozenset({"create"})
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        # Anybody signed in: RolePermission checks no organization for a flat collection.
        "create": Role.VIEWER,
        "update": Role.OWNER,
        "partial_update": Role.OWNER,
    }

    def perform_create(self, serializer):
        try:
            organization = create_organization(self.request.user, **serializer.validated_data)
        except IntegrityError:
            # The slug was taken between validation and the insert.
            raise ValidationError(
                {"slug": [_("An organization with this slug exists already.")]}
            ) from None
        # The roles this request read before are now out of date: the caller owns the new one.
        organization_roles(self.request)[organization.pk] = Role.OWNER
        serializer.instance = organization


@extend_schema_view(
    list=extend_schema(description="Members of your organizations."),
    destroy=extend_schema(
        description="Remove a member (admin), or leave an organization yourself (any role). "
        "Only an owner may remove an owner; the last owner can never go (409).",
        responses={204: None, 409: LAST_OWNER},
    ),
)
class MembershipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    OrganizationsBaseViewSet,
):
    """Members of the caller's organizations; admins add, change and remove them."""

    # `username` as a name of its own, so ordering uses the same name as the field and filter.
    queryset = Membership.objects.select_related("user").annotate(username=F("user__username"))
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    ordering_fields = ["username", "created"]
    ordering = ["username"]
    people_only_actions = frozenset({"create", "partial_update", "destroy"})
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.ADMIN,
        "partial_update": Role.ADMIN,
        # Any member may leave: destroy checks admin itself unless the membership is the
        # caller's own.
        "destroy": Role.VIEWER,
    }

    def get_serializer_class(self):
        if self.action == "create":
            return MembershipCreateSerializer
        if self.action == "partial_update":
            return MembershipRoleSerializer
        return MembershipSerializer

    def answer(self, membership, status_code=status.HTTP_200_OK):
        return Response(
            MembershipSerializer(membership, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        description="Add an existing user, named by username or email, with a role (admin). "
        "Nobody grants a role above their own.",
        request=MembershipCreateSerializer,
        responses={201: MembershipSerializer},
    )
    def create(self, request, *args, **kwargs):
        organization = self.get_organization()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            membership = add_member(
                organization,
                data["user"],
                data["role"],
                actor_role=self.caller_role(organization.pk),
            )
        except RoleAboveOwn as error:
            raise ValidationError({"role": [str(error)]}) from None
        except AlreadyMember as error:
            field = "username" if data.get("username") else "email"
            raise ValidationError({field: [str(error)]}) from None
        return self.answer(membership, status.HTTP_201_CREATED)

    @extend_schema(
        description="Change a member's role (admin). Only an owner grants or changes the owner "
        "role; the last owner cannot be demoted (409).",
        request=MembershipRoleSerializer,
        responses={200: MembershipSerializer, 409: LAST_OWNER},
    )
    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            membership = change_role(
                membership,
                serializer.validated_data["role"],
                actor_role=self.caller_role(membership.organization_id),
            )
        except RoleAboveOwn as error:
            raise ValidationError({"role": [str(error)]}) from None
        except OwnerRoleRequired as error:
            raise PermissionDenied(str(error)) from None
        except LastOwnerError as error:
            raise Conflict(str(error)) from None
        return self.answer(membership)

    def destroy(self, request, *args, **kwargs):
        membership = self.get_object()
        role = self.caller_role(membership.organization_id)
        leaving = membership.user_id == request.user.pk
        if not leaving and not role_at_least(role, Role.ADMIN):
            raise PermissionDenied(required_role_message(Role.ADMIN))
        try:
            remove_member(membership, actor_role=role)
        except OwnerRoleRequired as error:
            raise PermissionDenied(str(error)) from None
        except LastOwnerError as error:
            raise Conflict(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(description="API keys of the organizations where you are an admin."),
)
class OrganizationAPIKeyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationsBaseViewSet
):
    """Organization API keys for machine clients: admins create and revoke them."""

    queryset = OrganizationAPIKey.objects.select_related("created_by")
    serializer_class = OrganizationAPIKeySerializer
    filterset_class = OrganizationAPIKeyFilterSet
    # The primary key is `<prefix>.<hash>`: URLs name a key by its prefix only.
    lookup_field = "prefix"
    ordering_fields = ["created", "name", "last_used", "expiry_date"]
    ordering = ["-created"]
    people_only_actions = frozenset({"create", "revoke"})
    required_role = {
        "list": Role.ADMIN,
        "retrieve": Role.ADMIN,
        "create": Role.ADMIN,
        "revoke": Role.ADMIN,
    }

    def get_serializer_class(self):
        if self.action == "create":
            return OrganizationAPIKeyCreateSerializer
        return OrganizationAPIKeySerializer

    @extend_schema(
        description="Create a key (admin, people only). The answer carries the secret `key`, "
        "the only time it is ever shown; keep it safe.",
        responses={201: OrganizationAPIKeyCreateSerializer},
    )
    def create(self, request, *args, **kwargs):
        organization = self.get_organization()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            api_key, secret = create_api_key(
                organization,
                created_by=request.user,
                creator_role=self.caller_role(organization.pk),
                **serializer.validated_data,
            )
        except RoleAboveOwn as error:
            raise ValidationError({"role": [str(error)]}) from None
        context = {**self.get_serializer_context(), "secret": secret}
        return Response(
            OrganizationAPIKeyCreateSerializer(api_key, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        description="Revoke the key for good (admin, people only); revoking twice is 409.",
        request=None,
        responses={
            200: OrganizationAPIKeySerializer,
            409: OpenApiResponse(DETAIL, description="The key was revoked already."),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, prefix=None):
        api_key = self.get_object()
        try:
            revoke_api_key(api_key)
        except AlreadyRevoked as error:
            raise Conflict(str(error)) from None
        return Response(OrganizationAPIKeySerializer(api_key).data)


def register(router, org_router):
    """Register this module's viewsets on the flat and the organization router."""
    router.register("organizations", OrganizationViewSet, basename="organization")
    router.register("members", MembershipViewSet, basename="member")
    org_router.register("members", MembershipViewSet, basename="member")
    router.register("api-keys", OrganizationAPIKeyViewSet, basename="apikey")
    org_router.register("api-keys", OrganizationAPIKeyViewSet, basename="apikey")
