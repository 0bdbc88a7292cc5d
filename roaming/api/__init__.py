"""REST API of the roaming app."""
