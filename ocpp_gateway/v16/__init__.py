"""OCPP 1.6J: handlers (station → CSMS), calls (CSMS → station) and formats of version 1.6."""
