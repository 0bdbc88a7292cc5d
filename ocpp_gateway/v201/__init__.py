"""OCPP 2.0.1 (and 2.1, which extends it): handlers, calls and formats."""
