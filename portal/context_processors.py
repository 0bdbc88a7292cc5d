"""Template context of every portal page: the organizations the user may switch between."""

from django.utils.functional import SimpleLazyObject

from organizations.models import Membership


def portal(request):
    """`memberships` (lazily, one query) and `current_org_slug` from the URL."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    return {
        "memberships": SimpleLazyObject(
            lambda: list(Membership.objects.filter(user=user).select_related("organization"))
        ),
        "current_org_slug": (match.kwargs.get("org") if match else None),
    }
