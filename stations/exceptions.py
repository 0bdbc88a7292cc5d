"""Errors raised by station services."""


class StationAssignmentError(Exception):
    """A station cannot be assigned where asked."""


class DeletionRefused(Exception):
    """The object cannot be deleted in its current state; the message says why."""
