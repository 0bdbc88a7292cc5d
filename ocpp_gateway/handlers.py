"""Which handler table serves which OCPP version, and how a handler is run."""

from collections.abc import Callable


def without_database(handler: Callable) -> Callable:
    """Mark a handler that touches no database: it is answered on the event loop at once."""
    handler.without_database = True
    return handler


def handlers_for(version: str) -> dict[str, Callable[..., dict]]:
    """Handlers `on_<action>(station, payload) -> response` of one OCPP version."""
    if version == "ocpp1.6":
        from ocpp_gateway.v16.handlers import HANDLERS

        return HANDLERS
    raise ValueError(f"no handlers for {version}")
