"""Views of the roaming API: partners, and the daily roaming activity (read-only)."""

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.exceptions import ValidationError

from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from roaming.api.serializers import RoamingActivitySerializer, RoamingPartnerSerializer
from roaming.filtersets import RoamingActivityFilterSet, RoamingPartnerFilterSet
from roaming.models import RoamingActivity, RoamingPartner

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
PARTY_TAKEN = _("Another request registered this partner meanwhile; reload and try again.")
PARTNER_BILLED = _(
    "The partner has charging sessions, charge detail records or invoices; they are billing "
    "records and stay. Suspend the partner instead."
)


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
    queryset = RoamingPartner.objects.all()
    serializer_class = RoamingPartnerSerializer
    filterset_class = RoamingPartnerFilterSet
    ordering_fields = ["name", "country_code", "party_id", "status", "created", "updated"]
    ordering = ["name"]
    required_role = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
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


class RoamingActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Daily roaming rollups per partner and site; every day unless `date_after`/`date_before`."""

    queryset = RoamingActivity.objects.select_related("partner", "site")
    serializer_class = RoamingActivitySerializer
    filterset_class = RoamingActivityFilterSet
    ordering_fields = ["date", "sessions", "energy_wh", "revenue"]
    ordering = ["-date", "partner__name"]
    required_role = READ
