"""REST API of the organizations app."""
