"""OCPP 2.0.1 handlers of device_model (being built)."""

HANDLERS: dict = {}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
