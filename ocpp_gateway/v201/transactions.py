"""OCPP 2.0.1 handlers of transactions (being built)."""

HANDLERS: dict = {}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
