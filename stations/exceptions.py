"""Errors raised by station services."""


class StationAssignmentError(Exception):
    """A station cannot be assigned where asked."""
