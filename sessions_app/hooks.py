"""Hooks a higher app fills in its AppConfig.ready() to take part in a session's own write."""

from collections.abc import Callable
from typing import Any

# Called with the locked ChargingSession. Model-free, so an AppConfig may import it.
BillingStopHook = Callable[[Any], object]

# Run by `services.stop_billing` inside its transaction, with the session locked and already
# marked stopped: billing writes there the credit that cancels a charge already rated. Not a
# domain event (those run after commit): the credit commits with the stop or not at all, and
# no sweep would find a credit lost between the two.
billing_stop_hooks: list[BillingStopHook] = []


def on_billing_stop(hook: BillingStopHook) -> BillingStopHook:
    """Run `hook(session)` inside every stop of billing, after those registered before it."""
    if hook not in billing_stop_hooks:
        billing_stop_hooks.append(hook)
    return hook
