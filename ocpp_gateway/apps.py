from django.apps import AppConfig


class OcppGatewayConfig(AppConfig):
    """OCPP-J WebSocket gateway, command log and message log."""

    name = "ocpp_gateway"
    verbose_name = "OCPP gateway"
