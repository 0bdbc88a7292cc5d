"""Views of the organizations API: the caller's organizations, members, invitations, API keys."""

from django.db import IntegrityError
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from core.api.exceptions import Conflict
from core.api.pagination import StableOrderingFilter, StandardPagination
from core.api.parameters import StrictQueryParametersMixin
from core.api.schema import DETAIL
from organizations.api.authentication import api_key_of
from organizations.api.permissions import RolePermission, required_role_message
from organizations.api.serializers import (
    InvitationCreateSerializer,
    InvitationSerializer,
    IssuedInvitationSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    MyInvitationSerializer,
    OrganizationAPIKeyCreateSerializer,
    OrganizationAPIKeySerializer,
    OrganizationSerializer,
)
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.filtersets import (
    MEMBER_ORDERING,
    InvitationFilterSet,
    MembershipFilterSet,
    OrganizationAPIKeyFilterSet,
    OrganizationFilterSet,
)
from organizations.models import Invitation, Membership, Organization, OrganizationAPIKey
from organizations.roles import organization_roles, role_at_least
from organizations.services import (
    AlreadyRevoked,
    InvitationNotOpen,
    LastOwnerError,
    NotTheInvitee,
    OwnerRoleRequired,
    RoleAboveOwn,
    accept_invitation,
    change_role,
    create_api_key,
    create_organization,
    decline_invitation,
    invite_member,
    remove_member,
    resend_invitation,
    revoke_api_key,
    revoke_invitation,
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
    OrganizationsBaseViewSet,
):
    """Members of the caller's organizations; admins change and remove them, nobody adds them."""

    # `username` as a name of its own, so ordering uses the same name as the field and filter.
    queryset = Membership.objects.select_related("user").annotate(username=F("user__username"))
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet
    # The members page's column keys (organizations.filtersets.MEMBER_ORDERING).
    sorting = MEMBER_ORDERING
    ordering_fields = sorting.keys
    ordering = ["username"]
    people_only_actions = frozenset({"partial_update", "destroy"})
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "partial_update": Role.ADMIN,
        # Any member may leave: destroy checks admin itself unless the membership is the
        # caller's own.
        "destroy": Role.VIEWER,
    }

    def get_serializer_class(self):
        if self.action == "partial_update":
            return MembershipRoleSerializer
        return MembershipSerializer

    def answer(self, membership, status_code=status.HTTP_200_OK):
        return Response(
            MembershipSerializer(membership, context=self.get_serializer_context()).data,
            status=status_code,
        )

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


def invitation_link(request, token: str) -> str:
    """The absolute URL of the portal page where the invited person answers."""
    return request.build_absolute_uri(reverse("invitations:respond", kwargs={"token": token}))


NOT_OPEN = OpenApiResponse(
    DETAIL, description="The invitation was answered or withdrawn, or has expired."
)


@extend_schema_view(
    list=extend_schema(description="Invitations of the organizations where you are an admin."),
    retrieve=extend_schema(description="One invitation (admin)."),
)
class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationsBaseViewSet):
    """Invitations to join an organization: admins send, resend and revoke them."""

    queryset = Invitation.objects.select_related("invited_by", "accepted_by")
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilterSet
    ordering_fields = ["created", "expires_at", "email"]
    ordering = ["-created"]
    people_only_actions = frozenset({"create", "resend", "revoke"})
    required_role = {
        "list": Role.ADMIN,
        "retrieve": Role.ADMIN,
        "create": Role.ADMIN,
        "resend": Role.ADMIN,
        "revoke": Role.ADMIN,
    }

    def get_serializer_class(self):
        if self.action == "create":
            return InvitationCreateSerializer
        return InvitationSerializer

    def issued(self, invitation, token, status_code):
        context = {**self.get_serializer_context(), "link": invitation_link(self.request, token)}
        return Response(IssuedInvitationSerializer(invitation, context=context).data, status_code)

    @extend_schema(
        description="Invite an email address with a role (admin, people only); the link is "
        "emailed. The answer is the same whether or not the address has an account or is a "
        "member already. Inviting a pending address again sends a new link (the old one stops "
        "working). Nobody invites above their own role.",
        request=InvitationCreateSerializer,
        responses={201: IssuedInvitationSerializer},
    )
    def create(self, request, *args, **kwargs):
        organization = self.get_organization()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            invitation, token = invite_member(
                organization,
                serializer.validated_data["email"],
                serializer.validated_data["role"],
                invited_by=request.user,
                inviter_role=self.caller_role(organization.pk),
                link_for=lambda token: invitation_link(request, token),
            )
        except RoleAboveOwn as error:
            raise ValidationError({"role": [str(error)]}) from None
        return self.issued(invitation, token, status.HTTP_201_CREATED)

    @extend_schema(
        description="Send a pending (or expired) invitation again with a new link and a new "
        "expiry (admin, people only); the old link stops working.",
        request=None,
        responses={200: IssuedInvitationSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        invitation = self.get_object()
        try:
            invitation, token = resend_invitation(
                invitation,
                resent_by=request.user,
                resender_role=self.caller_role(invitation.organization_id),
                link_for=lambda token: invitation_link(request, token),
            )
        except RoleAboveOwn as error:
            raise PermissionDenied(str(error)) from None
        except InvitationNotOpen as error:
            raise Conflict(str(error)) from None
        return self.issued(invitation, token, status.HTTP_200_OK)

    @extend_schema(
        description="Withdraw a pending invitation (admin, people only); its link stops working.",
        request=None,
        responses={200: InvitationSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        invitation = self.get_object()
        try:
            revoke_invitation(invitation)
        except InvitationNotOpen as error:
            raise Conflict(str(error)) from None
        return Response(InvitationSerializer(invitation).data)


class PeopleOnlyAlways(BasePermission):
    """Every action is for a person: an API key acts for an organization, not for an invitee."""

    message = PeopleOnly.message

    def has_permission(self, request, view):
        return api_key_of(request.user) is None


@extend_schema_view(
    list=extend_schema(
        description="The invitations addressed to your email address that you can still accept."
    ),
)
class MyInvitationViewSet(StrictQueryParametersMixin, mixins.ListModelMixin, GenericViewSet):
    """The caller's own invitations: accept or decline them (people only)."""

    # Not a TenantViewSet: the caller is not (yet) a member of these organizations. Every row
    # is reached through the caller's own email address instead, so nothing else is visible.
    permission_classes = [IsAuthenticated, PeopleOnlyAlways]
    serializer_class = MyInvitationSerializer
    pagination_class = StandardPagination
    filter_backends = [StableOrderingFilter]
    ordering_fields = ["created", "expires_at"]
    ordering = ["-created"]
    queryset = Invitation.objects.none()

    def get_queryset(self):
        mine = Invitation.objects.addressed_to(self.request.user).select_related(
            "organization", "invited_by"
        )
        # Answering finds any invitation of the caller, so a used one is 409, not a 404.
        return mine.open() if self.action == "list" else mine

    @extend_schema(
        description="Accept the invitation: you become a member with its role (a member "
        "already keeps their role). Each invitation can be used once.",
        request=None,
        responses={200: MembershipSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        invitation = self.get_object()
        try:
            membership, _created = accept_invitation(invitation, request.user)
        except NotTheInvitee:
            raise NotFound() from None
        except InvitationNotOpen as error:
            raise Conflict(str(error)) from None
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        description="Decline the invitation: nothing changes but its status.",
        request=None,
        responses={200: MyInvitationSerializer, 409: NOT_OPEN},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        invitation = self.get_object()
        try:
            decline_invitation(invitation, request.user)
        except NotTheInvitee:
            raise NotFound() from None
        except InvitationNotOpen as error:
            raise Conflict(str(error)) from None
        return Response(MyInvitationSerializer(invitation).data)


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


def register(router, org_router, invitee_router):
    """Register this module's viewsets on the flat, the organization and the invitee router."""
    invitee_router.register("my-invitations", MyInvitationViewSet, basename="my-invitation")
    router.register("organizations", OrganizationViewSet, basename="organization")
    router.register("members", MembershipViewSet, basename="member")
    org_router.register("members", MembershipViewSet, basename="member")
    router.register("invitations", InvitationViewSet, basename="invitation")
    org_router.register("invitations", InvitationViewSet, basename="invitation")
    router.register("api-keys", OrganizationAPIKeyViewSet, basename="apikey")
    org_router.register("api-keys", OrganizationAPIKeyViewSet, basename="apikey")
