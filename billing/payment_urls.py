"""Public payment routes (under /payments/): provider webhooks."""

from django.urls import path

from billing.payment_views import ProviderWebhookView

app_name = "payments"

urlpatterns = [
    path("stripe/webhook/", ProviderWebhookView.as_view(provider="stripe"), name="stripe-webhook"),
]
