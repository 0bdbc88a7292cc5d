"""OCPP 1.6J: handlers of the calls a 1.6 station sends to the CSMS."""
