"""Per-request state of the portal that must not leak from one request to the next."""

from django.utils import timezone


class OrganizationTimezoneMiddleware:
    """Starts every request in the default time zone; portal views switch to their org's."""

    # A thread serves many requests: the zone an organization page activated (its templates
    # render lazily, after the view returns) must not carry over to the next request.

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.deactivate()
        return self.get_response(request)
