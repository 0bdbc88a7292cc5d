"""Portal forms of the organizations app: inviting members."""

from django import forms
from django.utils.translation import gettext_lazy as _

from organizations.choices import Role


class InvitationForm(forms.Form):
    """Invite an email address with a role; the choices stop at the inviter's own role."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), initial=Role.VIEWER)

    def __init__(self, *args, inviter_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [
            (value, label) for value, label in Role.choices if Role(inviter_role).at_least(value)
        ]
