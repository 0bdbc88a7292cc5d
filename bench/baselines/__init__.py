"""Servers the CSMS is measured against: a raw websockets responder and a Channels echo."""
