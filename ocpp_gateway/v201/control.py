"""OCPP 2.0.1 control (being built)."""

# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict = {}
