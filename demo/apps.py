"""The demo's app config."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and the commands of `make run`; imports every app, nothing imports it."""

    name = "demo"
    verbose_name = "Demo"
