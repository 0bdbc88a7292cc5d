"""Alerts, alert rules, webhook endpoints and their deliveries, the caller's notification wishes."""

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from alerts import webhooks
from alerts.api.serializers import (
    AlertDetailSerializer,
    AlertNoteSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    NotificationPreferenceSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSecretSerializer,
    WebhookEndpointSerializer,
)
from alerts.choices import AlertState
from alerts.exceptions import AlertNotLive
from alerts.filtersets import (
    ALERT_ORDERING,
    AlertFilterSet,
    AlertRuleFilterSet,
    WebhookDeliveryFilterSet,
    WebhookEndpointFilterSet,
)
from alerts.models import (
    Alert,
    AlertHistory,
    AlertRule,
    NotificationPreference,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)
from alerts.services import acknowledge_alert, resolve_alert
from core.api.exceptions import Conflict
from core.api.schema import DETAIL
from organizations.api.authentication import api_key_of
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from organizations.models import Membership

NOT_LIVE = OpenApiResponse(DETAIL, description="The alert is not in a state that allows this.")


def not_live_reason(alert) -> str:
    """Why an alert cannot be acknowledged or resolved, in words."""
    if alert.state == AlertState.RESOLVED:
        return _("The alert is resolved already.")
    if alert.state == AlertState.ACKNOWLEDGED:
        return _("The alert is acknowledged already.")
    return _("The alert cannot be changed in its current state.")


def actor_and_note(request, note: str):
    """The user who acts (None for an API key, named in the note instead) and the note."""
    if api_key_of(request.user) is not None:
        return None, f"{request.user}: {note}" if note else str(request.user)
    return request.user, note


# --- Endpoint writes shared with the portal -----------------------------------------------------


def save_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Store an endpoint and tell the webhook sender its organization's endpoints changed."""
    endpoint.save()
    webhooks.endpoints_changed()
    return endpoint


def rotate_endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret (the old one stops at once); the new secret."""
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret", "updated"])
    webhooks.endpoints_changed()
    return endpoint.secret


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its delivery log."""
    endpoint.delete()
    webhooks.endpoints_changed()


# --- Alerts -------------------------------------------------------------------------------------

ALERT_ROWS = Alert.objects.select_related("station", "connector", "acknowledged_by", "resolved_by")


@extend_schema_view(
    list=extend_schema(
        description="Alerts of your organizations, newest first. `state=live` lists those "
        "whose condition still holds (open or acknowledged)."
    ),
    retrieve=extend_schema(description="One alert with its history."),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Alerts: opened and resolved by the rules; operators acknowledge or resolve them."""

    queryset = ALERT_ROWS
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    sorting = ALERT_ORDERING
    ordering_fields = sorting.keys
    ordering = ["-opened_at"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "acknowledge": Role.OPERATOR,
        "resolve": Role.OPERATOR,
    }

    def get_queryset(self):
        alerts = super().get_queryset()
        if self.detail:
            history = AlertHistory.objects.select_related("actor").order_by("at", "id")
            alerts = alerts.prefetch_related(Prefetch("history", queryset=history))
        return alerts

    def get_serializer_class(self):
        return AlertDetailSerializer if self.detail else AlertSerializer

    @extend_schema(
        request=AlertNoteSerializer,
        responses={200: AlertDetailSerializer, 409: NOT_LIVE},
        description="Take care of an open alert (operator): escalation stops, and it resolves "
        "by itself when the condition clears. An alert acknowledged or resolved already is 409.",
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Acknowledge the alert, with an optional note."""
        return self._change(request, acknowledge_alert)

    @extend_schema(
        request=AlertNoteSerializer,
        responses={200: AlertDetailSerializer, 409: NOT_LIVE},
        description="Close an open or acknowledged alert by hand (operator), with an optional "
        "note; a resolved alert is 409. It opens again if the condition is seen again.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Resolve the alert by hand, with an optional note."""
        return self._change(request, resolve_alert)

    def _change(self, request, change):
        alert = self.get_object()
        body = AlertNoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user, note = actor_and_note(request, body.validated_data["note"])
        try:
            change(alert, user, note)
        except AlertNotLive as error:
            raise Conflict(not_live_reason(error.alert)) from None
        return Response(self.get_serializer(self.get_object()).data)


# --- Alert rules --------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Alert rules of your organizations."),
    create=extend_schema(
        description="Watch a condition (admin). Unset thresholds take their defaults."
    ),
)
class AlertRuleViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Alert rules: every member reads them, admins shape them."""

    queryset = AlertRule.objects.select_related("site", "station")
    serializer_class = AlertRuleSerializer
    filterset_class = AlertRuleFilterSet
    ordering_fields = ["name", "kind", "severity", "created"]
    ordering = ["kind", "name"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
    }


# --- Webhook endpoints and deliveries -----------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Webhook endpoints of the organizations where you are admin."),
    create=extend_schema(
        description="Add an endpoint (admin). The answer carries its signing `secret`, the "
        "only time it is shown.",
        responses={201: WebhookEndpointSecretSerializer},
    ),
)
class WebhookEndpointViewSet(
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Webhook endpoints (admins): signed JSON events of the organization, a test, the log."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    filterset_class = WebhookEndpointFilterSet
    ordering_fields = ["url", "created"]
    ordering = ["url"]
    required_role = {
        "list": Role.ADMIN,
        "retrieve": Role.ADMIN,
        "create": Role.ADMIN,
        "update": Role.ADMIN,
        "partial_update": Role.ADMIN,
        "destroy": Role.ADMIN,
        "rotate_secret": Role.ADMIN,
        "test": Role.ADMIN,
    }

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookEndpointSecretSerializer
        return WebhookEndpointSerializer

    def perform_create(self, serializer):
        serializer.save(organization=self.get_organization())
        webhooks.endpoints_changed()

    def perform_update(self, serializer):
        serializer.save()
        webhooks.endpoints_changed()

    def perform_destroy(self, instance):
        delete_endpoint(instance)

    @extend_schema(
        request=None,
        responses={200: WebhookEndpointSecretSerializer},
        description="Replace the signing secret (admin); the old one stops at once. The answer "
        "carries the new `secret`, the only time it is shown.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """Give the endpoint a new signing secret."""
        endpoint = self.get_object()
        rotate_endpoint_secret(endpoint)
        return Response(WebhookEndpointSecretSerializer(endpoint).data)

    @extend_schema(
        request=None,
        responses={200: WebhookDeliverySerializer},
        description="Send a `ping` event to the endpoint now (admin) and answer with its "
        "delivery: the status code the endpoint answered, or the error.",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Send a test event now."""
        delivery = webhooks.send_test(self.get_object())
        return Response(WebhookDeliverySerializer(delivery).data)


@extend_schema_view(
    list=extend_schema(
        description="Deliveries to the webhook endpoints of the organizations where you are "
        "admin, newest first; `endpoint=` narrows them to one."
    ),
)
class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The delivery log of webhook endpoints: each event, its attempts and their answers."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilterSet
    ordering_fields = ["created", "delivered_at"]
    ordering = ["-created"]
    required_role = {"list": Role.ADMIN, "retrieve": Role.ADMIN}


# --- Notification preferences -------------------------------------------------------------------


class NotificationPreferenceViewSet(TenantViewSet):
    """The caller's own notification preferences in the organization of the URL (people only)."""

    queryset = NotificationPreference.objects.all()
    serializer_class = NotificationPreferenceSerializer
    required_role = {
        "retrieve": Role.VIEWER,
        "update": Role.VIEWER,
        "partial_update": Role.VIEWER,
    }

    def get_object(self):
        if api_key_of(self.request.user) is not None:
            # An API key acts for the organization: it is nobody who could receive a mail.
            raise PermissionDenied(_("Only a person may do this; API keys may not."))
        membership = get_object_or_404(
            Membership, user=self.request.user, organization=self.get_organization()
        )
        preference = (
            NotificationPreference.objects.filter(membership=membership)
            .prefetch_related("sites")
            .first()
        )
        if preference is None:
            preference = NotificationPreference(membership=membership)
        self.check_object_permissions(self.request, preference)
        return preference

    @extend_schema(description="Your notification preferences in this organization.")
    def retrieve(self, request, *args, **kwargs):
        """The caller's preferences (the defaults until changed)."""
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(description="Change your notification preferences in this organization.")
    def update(self, request, *args, **kwargs):
        """Replace the caller's preferences."""
        return self._save(request, partial=False)

    @extend_schema(description="Change some of your notification preferences.")
    def partial_update(self, request, *args, **kwargs):
        """Change some of the caller's preferences."""
        return self._save(request, partial=True)

    def _save(self, request, partial):
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError:
            # A second request stored the member's first preferences meanwhile: go again.
            serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            serializer.save()
        return Response(serializer.data)
