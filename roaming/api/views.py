"""Views of the roaming API: our OCPI profile, partners (with the OCPI handshake's actions), and
the daily roaming activity (read-only). The OCPI exchange log is for support, in the admin."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from roaming import partners as partner_actions
from roaming import selectors
from roaming.api.serializers import (
    ConnectSerializer,
    RetriedSerializer,
    RoamingActivitySerializer,
    RoamingPartnerSerializer,
    RoamingProfileSerializer,
    SyncResultSerializer,
    TokenASerializer,
)
from roaming.filtersets import (
    PARTNER_ORDERING,
    RoamingActivityFilterSet,
    RoamingPartnerFilterSet,
)
from roaming.models import RoamingActivity, RoamingPartner, RoamingProfile
from roaming.ocpi import registration

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
PARTY_TAKEN = _("Another request registered this partner meanwhile; reload and try again.")
PARTNER_BILLED = _(
    "The partner has charging sessions, charge detail records or invoices; they are billing "
    "records and stay. Suspend the partner instead."
)
PROFILE_EXISTS = _("The organization has a roaming profile already; change it instead.")
REFUSED = OpenApiResponse(response=DETAIL, description="The partner's state does not allow it.")
PARTNER_FAILED = OpenApiResponse(
    response=DETAIL, description="The partner could not be reached, or refused; `detail` says why."
)


class PartnerFailed(APIException):
    """502: the partner did not answer as OCPI requires, or refused; `detail` is its reason."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = _("The partner could not be reached or refused.")
    default_code = "partner_failed"


@extend_schema_view(
    destroy=extend_schema(
        responses={
            204: OpenApiResponse(description="Deleted."),
            409: OpenApiResponse(response=DETAIL, description=PARTNER_BILLED),
        }
    ),
)
class RoamingPartnerViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """OCPI partners of the user's organizations; admins register, change and remove them."""

    # Removing a partner removes its roaming activity with it (CASCADE); one with sessions,
    # CDRs or invoices stays (PROTECT), as they are billing records.
    queryset = selectors.with_health(RoamingPartner.objects.all())
    serializer_class = RoamingPartnerSerializer
    filterset_class = RoamingPartnerFilterSet
    sorting = PARTNER_ORDERING
    ordering_fields = sorting.keys
    ordering = ["name"]
    required_role = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "issue_token": Role.ADMIN,
        "connect": Role.ADMIN,
        "rotate": Role.ADMIN,
        "unregister": Role.ADMIN,
        "sync": Role.ADMIN,
        "retry_pushes": Role.ADMIN,
    }

    # The serializer checks the party is new first; these only catch a concurrent request
    # that registered the same party between that check and the write.
    def perform_create(self, serializer):
        try:
            with transaction.atomic():
                super().perform_create(serializer)
        except IntegrityError:
            raise ValidationError({"party_id": [PARTY_TAKEN]}) from None

    def perform_update(self, serializer):
        try:
            with transaction.atomic():
                super().perform_update(serializer)
        except IntegrityError:
            raise ValidationError({"party_id": [PARTY_TAKEN]}) from None

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError:
            raise Conflict(PARTNER_BILLED) from None

    def _act(self, act, *args, **kwargs):
        """Run one partner action; a refusal is 409, a partner's failure 502."""
        try:
            return act(*args, **kwargs)
        except partner_actions.PartnerActionRefused as refusal:
            raise Conflict(refusal.message) from None
        except partner_actions.RegistrationError as failure:
            raise PartnerFailed(failure.message) from None

    def _partner_answer(self):
        """The partner as it is now (re-read, with its module states and push counts)."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=None,
        responses={200: TokenASerializer, 409: REFUSED},
        description="A token A for the partner to register with us (admin), with our versions "
        "URL to give it. Only its hash is kept: this answer is the only time it is shown. It "
        "replaces any token A issued before; 409 when the partner is registered already.",
    )
    @action(detail=True, methods=["post"], url_path="issue-token")
    def issue_token(self, request, pk=None):
        """Issue a token A."""
        partner = self.get_object()
        token = self._act(partner_actions.issue_token_a, partner)
        body = {"token": token, "versions_url": registration.versions_url(partner.organization)}
        return Response(TokenASerializer(body).data)

    @extend_schema(
        request=ConnectSerializer,
        responses={
            200: RoamingPartnerSerializer,
            400: OpenApiResponse(
                description="Field errors; `versions_url` says why the partner did not register."
            ),
            409: REFUSED,
        },
        description="Register with the partner (admin) from its versions URL and the token A it "
        "gave us: versions, version details and the credentials exchange. When the partner "
        "cannot be reached or refuses, 400 with its reason under `versions_url`: what was "
        "given does not lead to a registration.",
    )
    @action(detail=True, methods=["post"])
    def connect(self, request, pk=None):
        """Connect to the partner with its token A."""
        partner = self.get_object()
        body = ConnectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            self._act(
                partner_actions.connect,
                partner,
                versions_url=body.validated_data["versions_url"],
                token=body.validated_data["token"],
            )
        except PartnerFailed as failure:
            raise ValidationError({"versions_url": [failure.detail]}) from None
        return self._partner_answer()

    @extend_schema(
        request=None,
        responses={200: RoamingPartnerSerializer, 409: REFUSED, 502: PARTNER_FAILED},
        description="New tokens for both sides (admin): our new one is sent with our "
        "credentials, the partner answers with its new one. The old ones stop working.",
    )
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """Rotate both credentials tokens."""
        self._act(partner_actions.rotate, self.get_object())
        return self._partner_answer()

    @extend_schema(
        request=None,
        responses={200: RoamingPartnerSerializer},
        description="End the registration (admin): the partner is told (DELETE credentials), "
        "then both tokens are forgotten here whatever it answered; `last_error` says if it "
        "could not be told. The partner is pending registration again.",
    )
    @action(detail=True, methods=["post"])
    def unregister(self, request, pk=None):
        """Unregister the partner."""
        self._act(partner_actions.unregister, self.get_object())
        return self._partner_answer()

    @extend_schema(
        request=None,
        responses={200: SyncResultSerializer, 409: REFUSED},
        description="Pull now what changed at the partner since the last pull (admin): its "
        "locations, tariffs, sessions and CDRs for our eMSP role, its tokens for our CPO role. "
        "`pulled` counts the objects stored per module, `errors` says why a module failed.",
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        """Pull the partner's data now."""
        result = self._act(partner_actions.sync, self.get_object())
        return Response(SyncResultSerializer(result).data)

    @extend_schema(
        request=None,
        responses={200: RetriedSerializer, 409: REFUSED},
        description="Owe every failed push to the partner again (admin): each is sent at once "
        "with the object's current state, then retried with backoff.",
    )
    @action(detail=True, methods=["post"], url_path="retry-pushes")
    def retry_pushes(self, request, pk=None):
        """Retry the failed pushes."""
        retried = self._act(partner_actions.retry_pushes_of, self.get_object())
        return Response(RetriedSerializer({"retried": retried}).data)


class RoamingProfileViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    TenantViewSet,
):
    """How each of the user's organizations appears in OCPI; one profile per organization."""

    queryset = RoamingProfile.objects.select_related("organization")
    serializer_class = RoamingProfileSerializer
    ordering_fields = ["country_code", "party_id", "created"]
    ordering = ["organization__name", "pk"]
    required_role = {**READ, "update": Role.ADMIN, "partial_update": Role.ADMIN}


@extend_schema_view(
    create=extend_schema(
        responses={
            201: RoamingProfileSerializer,
            409: OpenApiResponse(response=DETAIL, description=PROFILE_EXISTS),
        }
    ),
)
class OrganizationRoamingProfileViewSet(TenantCreateModelMixin, TenantViewSet):
    """Creates an organization's profile under /organizations/{id}/ (read it by its id)."""

    # Create only: with one profile per organization, a list under it would say nothing.
    queryset = RoamingProfile.objects.select_related("organization")
    serializer_class = RoamingProfileSerializer
    required_role = {"create": Role.ADMIN}

    def perform_create(self, serializer):
        if RoamingProfile.objects.filter(organization=self.get_organization()).exists():
            raise Conflict(PROFILE_EXISTS)
        try:
            with transaction.atomic():
                super().perform_create(serializer)
        except IntegrityError:
            raise Conflict(PROFILE_EXISTS) from None


class RoamingActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Daily roaming rollups per partner, location and role, filled hourly from real data."""

    queryset = RoamingActivity.objects.select_related("partner", "site")
    serializer_class = RoamingActivitySerializer
    filterset_class = RoamingActivityFilterSet
    ordering_fields = ["date", "sessions", "energy_wh", "revenue"]
    ordering = ["-date", "partner__name"]
    required_role = READ
