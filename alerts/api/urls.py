"""Routes of the alerts API (included under /api/v1/)."""

from django.urls import path

from alerts.api.views import (
    AlertRuleViewSet,
    AlertViewSet,
    NotificationPreferenceViewSet,
    WebhookDeliveryViewSet,
    WebhookEndpointViewSet,
)
from core.api.routers import OrganizationRouter, TenantRouter

router = TenantRouter()
router.register("alerts", AlertViewSet, basename="alert")
router.register("alert-rules", AlertRuleViewSet, basename="alertrule")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhookendpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhookdelivery")
org_router = OrganizationRouter()
org_router.register("alerts", AlertViewSet, basename="alert")
org_router.register("alert-rules", AlertRuleViewSet, basename="alertrule")
org_router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhookendpoint")

# One row per member and organization, the caller's own: not a collection, so no router.
preference = NotificationPreferenceViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update"}
)

urlpatterns = [
    *router.urls,
    *org_router.urls,
    path(
        "organizations/<int:organization_pk>/notification-preference/",
        preference,
        name="organization-notification-preference",
    ),
]
