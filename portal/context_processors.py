"""Template context of every portal page: the organizations the user may switch between."""

from django.utils.functional import SimpleLazyObject

from alerts.selectors import with_open_alert_counts
from organizations.models import Membership


def portal(request):
    """`memberships` (lazily, one query, with open alert counts) and `current_org_slug`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    return {
        "memberships": SimpleLazyObject(
            # The navigation's open-alert count comes with them: no query of its own.
            lambda: list(
                with_open_alert_counts(
                    Membership.objects.filter(user=user).select_related("organization")
                )
            )
        ),
        "current_org_slug": (match.kwargs.get("org") if match else None),
    }
