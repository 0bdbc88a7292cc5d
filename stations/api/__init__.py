"""REST API of the stations app."""
