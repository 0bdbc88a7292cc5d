"""What a running session costs so far: a seam billing fills in its AppConfig.ready().

The sessions app sits below billing and may not import its engine; billing registers the one
estimator (its own rating, as if the session stopped at the given moment), and the session page
asks for it here. Model-free, so an AppConfig may import it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class CostEstimate:
    """An amount, tax included, in a currency."""

    amount: Decimal
    currency: str


# Called with the ChargingSession and the moment it is priced as stopped; None: no price known
# (no tariff applies, or the session is held for review).
CostEstimator = Callable[[Any, datetime], CostEstimate | None]

_estimators: list[CostEstimator] = []


def register_cost_estimator(estimator: CostEstimator) -> CostEstimator:
    """Price sessions with `estimator`; the first registered answers."""
    if estimator not in _estimators:
        _estimators.append(estimator)
    return estimator


def cost_so_far(session, until: datetime) -> CostEstimate | None:
    """The session's price as if it stopped at `until`, or None without an estimator or price."""
    for estimator in _estimators:
        return estimator(session, until)
    return None
