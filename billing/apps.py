from django.apps import AppConfig

from sessions_app.estimates import register_cost_estimator
from sessions_app.hooks import on_billing_stop
from sessions_app.panels import register_session_panel


class BillingConfig(AppConfig):
    """Tariffs, charge detail records and invoices."""

    name = "billing"

    def ready(self):
        # Loaded once the models are (Django's place for it): the modules below use them.
        from billing import estimates, services, subscribers, views  # noqa: F401, PLC0415

        on_billing_stop(services.credit_session)
        register_session_panel(views.session_price_panel)
        register_cost_estimator(estimates.estimate_session_cost)
