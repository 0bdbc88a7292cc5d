from django.apps import AppConfig


class RoamingConfig(AppConfig):
    """OCPI roaming: partners, both roles' modules, pushes and roaming activity."""

    name = "roaming"

    def ready(self):
        # Subscribers and the modules' push builders register themselves on import.
        from roaming import (  # noqa: PLC0415
            authorization,
            publishing,  # noqa: F401
            subscribers,  # noqa: F401
            token_push,  # noqa: F401
        )
        from roaming.ocpi.v221 import urls  # noqa: F401, PLC0415
        from sessions_app.authorization import register_authorizer  # noqa: PLC0415

        # Partners' tokens, asked about after the organization's own cards.
        register_authorizer(authorization.roaming_tokens)
