"""OCPP 2.0.1 display (being built)."""

HANDLERS: dict = {}

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
