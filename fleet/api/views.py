"""Views of the fleet API: firmware campaigns, their actions and their stations."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from fleet import services
from fleet.api.serializers import (
    CampaignSerializer,
    CampaignStationSerializer,
    CountSerializer,
    LaunchResultSerializer,
)
from fleet.choices import CampaignState
from fleet.filtersets import CampaignFilterSet, CampaignStationFilterSet
from fleet.models import Campaign, CampaignStation
from fleet.selectors import progress_by_campaign
from fleet.tasks import advance_soon
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role

READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
ONLY_DRAFTS = _("Only a draft campaign can be changed or deleted; cancel a launched one.")


def _person(user):
    """The user to name as creator; None for an organization API key."""
    return user if getattr(user, "api_key", None) is None else None


@extend_schema_view(
    update=extend_schema(responses={200: CampaignSerializer, 409: DETAIL}),
    partial_update=extend_schema(responses={200: CampaignSerializer, 409: DETAIL}),
    destroy=extend_schema(responses={204: None, 409: DETAIL}),
)
class CampaignViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Firmware campaigns: admins create, change drafts, launch and cancel; operators run them."""

    queryset = Campaign.objects.select_related("image").prefetch_related(
        "target_sites", "target_stations"
    )
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    ordering_fields = ["created", "name", "state"]
    required_role = {
        **READ,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "launch": Role.ADMIN,
        "cancel": Role.ADMIN,
        "pause": Role.OPERATOR,
        "resume": Role.OPERATOR,
        "retry": Role.OPERATOR,
    }

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        # One query for every campaign's counts on the page.
        context = self.get_serializer_context()
        context["progress"] = progress_by_campaign_states(page)
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save(
                organization=self.get_organization(), created_by=_person(self.request.user)
            )

    def perform_update(self, serializer):
        if serializer.instance.state != CampaignState.DRAFT:
            raise Conflict(str(ONLY_DRAFTS))
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance):
        if instance.state != CampaignState.DRAFT:
            raise Conflict(str(ONLY_DRAFTS))
        instance.delete()

    def _answer(self, campaign):
        return CampaignSerializer(
            self.get_queryset().get(pk=campaign.pk), context=self.get_serializer_context()
        ).data

    @extend_schema(
        request=None,
        responses={200: LaunchResultSerializer, 409: DETAIL},
        description="Freeze the stations the criteria select now (only those the image's "
        "vendor and model fit) into a canary wave and waves, and start the rollout. "
        "A draft only (409 otherwise, or when no station matches).",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def launch(self, request, pk=None):
        """Launch a draft campaign."""
        campaign = self.get_object()
        try:
            result = services.launch_campaign(campaign, user=request.user)
        except services.CampaignRefused as refusal:
            raise Conflict(refusal.reason) from None
        advance_soon(campaign.pk)
        return Response(
            {
                "targets": result.targets,
                "not_fitting": result.not_fitting,
                "campaign": self._answer(campaign),
            }
        )

    @extend_schema(request=None, responses={200: CampaignSerializer, 409: DETAIL})
    @action(detail=True, methods=["post"], filter_backends=[])
    def pause(self, request, pk=None):
        """Pause a running campaign: no more stations are sent the update."""
        campaign = self.get_object()
        try:
            services.pause_campaign(campaign, user=request.user)
        except services.CampaignRefused as refusal:
            raise Conflict(refusal.reason) from None
        return Response(self._answer(campaign))

    @extend_schema(
        request=None,
        responses={200: CampaignSerializer, 409: DETAIL},
        description="Resume a paused campaign; the current wave's failures so far are "
        "accepted and do not pause it again.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def resume(self, request, pk=None):
        """Resume a paused campaign."""
        campaign = self.get_object()
        try:
            services.resume_campaign(campaign, user=request.user)
        except services.CampaignRefused as refusal:
            raise Conflict(refusal.reason) from None
        advance_soon(campaign.pk)
        return Response(self._answer(campaign))

    @extend_schema(request=None, responses={200: CountSerializer, 409: DETAIL})
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        """Cancel the campaign; `count` stations not yet sent the update are cancelled."""
        campaign = self.get_object()
        try:
            count = services.cancel_campaign(campaign, user=request.user)
        except services.CampaignRefused as refusal:
            raise Conflict(refusal.reason) from None
        return Response({"count": count, "campaign": self._answer(campaign)})

    @extend_schema(request=None, responses={200: CountSerializer, 409: DETAIL})
    @action(detail=True, methods=["post"], filter_backends=[])
    def retry(self, request, pk=None):
        """Send the `count` failed stations the update again."""
        campaign = self.get_object()
        try:
            count = services.retry_failed(campaign, user=request.user)
        except services.CampaignRefused as refusal:
            raise Conflict(refusal.reason) from None
        advance_soon(campaign.pk)
        return Response({"count": count, "campaign": self._answer(campaign)})


def progress_by_campaign_states(campaigns) -> dict[int, dict[str, int]]:
    """Each campaign's stations per state, for a page of campaigns (one query)."""
    return progress_by_campaign([campaign.pk for campaign in campaigns], by_state=True)


class CampaignStationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The stations of campaigns and how far each update got (`?campaign=` narrows)."""

    queryset = CampaignStation.objects.select_related("station")
    serializer_class = CampaignStationSerializer
    filterset_class = CampaignStationFilterSet
    ordering_fields = ["wave", "updated", "state"]
    required_role = READ
