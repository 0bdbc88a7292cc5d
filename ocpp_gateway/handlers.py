"""Which handler table serves which OCPP version."""

from collections.abc import Callable


def handlers_for(version: str) -> dict[str, Callable[..., dict]]:
    """Handlers `on_<action>(station, payload) -> response` of one OCPP version."""
    if version == "ocpp1.6":
        from ocpp_gateway.v16.handlers import HANDLERS

        return HANDLERS
    raise ValueError(f"no handlers for {version}")
