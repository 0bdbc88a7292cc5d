"""The session page's cost so far (sessions_app.estimates): rating's own price, stopped now."""

from datetime import datetime

from billing.services import preview_price, tariff_for
from sessions_app.estimates import CostEstimate


def estimate_session_cost(session, until: datetime) -> CostEstimate | None:
    """The price `rate_session` would give the session if it stopped at `until`."""
    amount = preview_price(session, until)
    if amount is None:
        return None
    # preview_price found the same tariff; a free session (no tariff needed) is in the org's.
    tariff = tariff_for(session)
    currency = tariff.currency if tariff else session.organization.currency
    return CostEstimate(amount=amount, currency=currency)
