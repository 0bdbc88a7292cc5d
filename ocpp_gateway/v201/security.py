"""OCPP 2.0.1 certificate messages (being built)."""

HANDLERS: dict = {}


def contract_certificate_status(station, payload: dict) -> str:
    """The certificateStatus of an Authorize with contract certificate data."""
    return "NoCertificateAvailable"


# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
