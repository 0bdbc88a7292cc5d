from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Tariffs, charge detail records and invoices."""

    name = "billing"
