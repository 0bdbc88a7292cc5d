"""What each rule kind watches: domain events and periodic checks become alert conditions."""


def evaluate_time_rules() -> int:
    """Check the rules that need a clock (offline, stuck, silent, start failures, capacity)."""
    # TODO(rules helper): implement.
    return 0
