"""Template tags of invitations: how many the user can still answer."""

from django import template

from organizations.models import Invitation

register = template.Library()


@register.simple_tag
def open_invitation_count(user) -> int:
    """The number of invitations addressed to the user's email that can still be accepted."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Invitation.objects.addressed_to(user).open().count()
