"""The kernel's app config."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Kernel: bulk SQL, domain events, API base pieces, time zones; imports no domain app."""

    name = "core"
    verbose_name = "Core"
