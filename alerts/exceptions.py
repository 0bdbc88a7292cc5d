"""Errors of alerting."""


class AlertNotLive(Exception):
    """The alert is no longer in a state that allows this (acknowledged or resolved already)."""

    def __init__(self, alert):
        super().__init__(f"alert {alert.pk} is {alert.state}")
        self.alert = alert
