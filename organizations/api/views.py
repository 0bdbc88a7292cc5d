"""Placeholder until the views of the organizations API land."""


def register(router, org_router):
    """Register this module's viewsets on the flat and the organization router."""
