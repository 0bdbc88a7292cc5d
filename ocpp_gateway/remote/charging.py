"""Commands around charging: start, stop, unlock, reserve, cancel reservation, stop billing."""
