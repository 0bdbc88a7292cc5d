"""Portal forms of the organizations app: members, API keys and the organization's settings."""

import zoneinfo
from functools import cache

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.choices import CURRENCIES, Role
from organizations.models import APIKeyRole, Organization


def grantable_roles(choices, actor_role: str) -> list[tuple[str, str]]:
    """The (value, label) choices up to the actor's own role: nobody grants above it."""
    return [(value, label) for value, label in choices if Role(actor_role).at_least(value)]


class InvitationForm(forms.Form):
    """Invite an email address with a role; the choices stop at the inviter's own role."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), initial=Role.VIEWER)

    def __init__(self, *args, inviter_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(Role.choices, inviter_role)


class InvitationSignupForm(UserCreationForm):
    """A new account for the invited address: Django's user creation with the email fixed."""

    # Disabled: Django takes the value from `initial` and ignores whatever the POST body says.
    email = forms.EmailField(label=_("Email address"), disabled=True)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("email", "username", "first_name", "last_name")

    def __init__(self, *args, invitation, **kwargs):
        kwargs["initial"] = {**kwargs.get("initial", {}), "email": invitation.email}
        super().__init__(*args, **kwargs)
        self.fields["email"].help_text = _("The address the invitation was sent to.")

    def clean_email(self):
        email = self.cleaned_data["email"]
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _("An account with this email address exists already: log in with it instead."),
                code="email_taken",
            )
        return email

    def clean_username(self):
        # Django's own check says only "already exists"; this one also says what to do.
        username = self.cleaned_data.get("username")
        if username and get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("This username is taken: choose another one, or log in if it is your account."),
                code="unique",
            )
        return super().clean_username()


class MemberRoleForm(forms.Form):
    """A member's new role; the choices stop at the acting admin's own role."""

    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(Role.choices, actor_role)


class APIKeyForm(forms.Form):
    """A new API key: a name to recognise it by, a role and an optional expiry."""

    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        help_text=_("Say which system uses it, e.g. “Fleet dashboard”."),
    )
    role = forms.ChoiceField(label=_("Role"), initial=APIKeyRole.VIEWER)
    expiry_date = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Optional; in the organization's time zone. Leave empty for no expiry."),
    )

    def __init__(self, *args, creator_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(APIKeyRole.choices, creator_role)

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the key a name."))
        return name

    def clean_expiry_date(self):
        expiry_date = self.cleaned_data["expiry_date"]
        if expiry_date is not None and expiry_date <= timezone.now():
            raise forms.ValidationError(_("The expiry date must be in the future."))
        return expiry_date


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA time zone this server knows, sorted by name."""
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class OrganizationSettingsForm(forms.ModelForm):
    """The organization's name, contact, invoicing details, time zone and currency."""

    timezone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Pages, reports and invoice periods use this zone's local time."),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        help_text=_(
            "Used to price sessions without a tariff; tariffs and invoices keep their own."
        ),
    )
    confirm_currency_change = forms.BooleanField(
        label=_("Yes, change the currency"),
        required=False,
        help_text=_(
            "Tick to confirm a change of currency: invoices already issued and existing tariffs "
            "keep their currency, so new and old amounts will differ in currency."
        ),
    )

    class Meta:
        model = Organization
        fields = [
            "name",
            "contact_name",
            "contact_email",
            "contact_phone",
            "billing_address",
            "vat_id",
            "timezone",
            "currency",
            "billing_period",
            "invoice_prefix",
            "diagnostics_retention_days",
        ]
        widgets = {"billing_address": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = time_zone_choices()
        currencies = list(CURRENCIES)
        current = self.instance.currency
        if current and current not in dict(currencies):
            # A currency set before this list existed stays selectable, so saving other fields
            # does not force a change of currency.
            currencies.append((current, current))
        self.fields["currency"].choices = [
            (code, f"{code} – {label}") for code, label in currencies
        ]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("The organization needs a name."))
        return name

    def clean(self):
        cleaned_data = super().clean()
        currency = cleaned_data.get("currency")
        changing = currency and currency != self.initial.get("currency")
        if changing and not cleaned_data.get("confirm_currency_change"):
            self.add_error(
                "confirm_currency_change",
                _("Changing the currency needs your confirmation: tick the box."),
            )
        return cleaned_data

    def changed_fields(self) -> dict:
        """The model fields this form changed, with their new values."""
        return {
            name: self.cleaned_data[name] for name in self.changed_data if name in self.Meta.fields
        }
