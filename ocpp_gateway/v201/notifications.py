"""OCPP 2.0.1 handlers of notifications (being built)."""

HANDLERS: dict = {}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
