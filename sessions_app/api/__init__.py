"""REST API of the sessions_app app."""
