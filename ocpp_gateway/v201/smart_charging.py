"""OCPP 2.0.1 handlers of smart_charging (being built)."""

HANDLERS: dict = {}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
