"""Payment pages: the providers' webhook endpoint (public, signed)."""

import logging

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing import payments
from billing.providers import PaymentsNotConfigured, WebhookSignatureInvalid

logger = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")
class ProviderWebhookView(View):
    """Where a provider reports payments; only a delivery signed with our secret is read."""

    provider = "stripe"

    def post(self, request):
        try:
            _event, new = payments.record_webhook(self.provider, request.body, request.headers)
        except PaymentsNotConfigured:
            # Unconfigured: the provider retries later instead of losing the event.
            return JsonResponse({"detail": "Payments are not configured."}, status=503)
        except WebhookSignatureInvalid as error:
            logger.warning("%s webhook refused: %s", self.provider, error)
            return JsonResponse({"detail": "The signature does not verify."}, status=400)
        return JsonResponse({"received": True, "replay": not new})
