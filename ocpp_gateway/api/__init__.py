"""REST API of the OCPP gateway: remote commands, raw OCPP calls and the command log."""
