"""OCPP 2.1: 2.0.1's handlers and calls, plus the calls 2.1 adds that the platform models."""
