from django.apps import AppConfig

from stations.pages import register_station_panel, register_station_part


class OcppGatewayConfig(AppConfig):
    """OCPP-J WebSocket gateway, command log and message log."""

    name = "ocpp_gateway"
    verbose_name = "OCPP gateway"

    def ready(self):
        # Loaded once the models are (Django's place for it): the module reads the command log.
        from ocpp_gateway.remote import views  # noqa: PLC0415

        # The station page shows the command log and the "Control charging station" panel.
        register_station_part("commands", "stations/_station_commands.html", views.station_commands)
        register_station_panel(views.panel_context)

        # Roaming partners' commands (OCPI) are carried out through the same remote control.
        from ocpp_gateway.remote import roaming  # noqa: PLC0415
        from roaming.commands import register_command_runner  # noqa: PLC0415

        register_command_runner(roaming.run_roaming_command)
