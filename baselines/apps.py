from django.apps import AppConfig


class BaselinesConfig(AppConfig):
    """Configuration baselines per vendor and model, and the drift of stations from them."""

    name = "baselines"
