"""Portal forms of cards and access groups: the API's rules, through its own checks."""

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cards.api.serializers import AccessGroupSerializer, CardUidsSerializer, IdTokenSerializer
from cards.filtersets import AccessGroupFilterSet, IdTokenFilterSet
from cards.models import AccessGroup, IdToken
from cards.services import UnknownCards, card_ids_of
from core.timezones import zone_of
from organizations.portal import OrganizationModelForm
from stations.models import ChargingStation, Site


def api_rule(check, value):
    """Run one of the API serializer's field checks; its refusal becomes a form error."""
    try:
        return check(value)
    except serializers.ValidationError as error:
        raise forms.ValidationError([str(message) for message in error.detail]) from None


def unknown_uids_error(uids: list[str]) -> forms.ValidationError:
    """The API's message for uids that name no card of the organization."""
    return forms.ValidationError(
        _("No card with uid %(uids)s in this organization."),
        code="unknown_uids",
        params={"uids": ", ".join(uids)},
    )


class ZonedDateTimeField(forms.DateTimeField):
    """A date and time typed and shown in the organization's time zone, stored aware."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = timezone.get_default_timezone()

    # Django's field converts with the active time zone; the organization's is the one here.
    def prepare_value(self, value):
        with timezone.override(self.zone):
            return super().prepare_value(value)

    def to_python(self, value):
        with timezone.override(self.zone):
            return super().to_python(value)


class IdTokenForm(OrganizationModelForm):
    """Add or edit a card: the fields and checks of the API's card serializer."""

    expires_at = ZonedDateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = IdToken
        fields = [
            "uid",
            "label",
            "type",
            "holder_name",
            "holder_email",
            "status",
            "expires_at",
            "parent_id_tag",
            "max_concurrent_transactions",
            "roaming",
            "access_groups",
        ]
        labels = {"uid": _("UID"), "roaming": _("Roaming")}
        help_texts = {
            "uid": _(
                "As the card reader sends it; stored upper-cased, unique in the organization."
            ),
            "parent_id_tag": _(
                "Sent to stations as the card's parentIdTag: cards with the same one share "
                "reservations."
            ),
            "status": _("Blocked and expired cards are refused at every station."),
            "roaming": _(
                "Published to the organization's roaming partners: the card may charge at "
                "their stations too."
            ),
        }
        widgets = {"access_groups": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = zone_of(self.organization)
        self.fields["expires_at"].zone = zone
        self.fields["expires_at"].help_text = _(
            "In the organization's time zone (%(zone)s). Empty: the card never expires."
        ) % {"zone": zone}
        self.fields["access_groups"].help_text = _(
            "The card may charge wherever one of its groups is authorized."
        )

    def clean_uid(self):
        serializer = IdTokenSerializer(
            instance=self.instance if self.instance.pk else None,
            context={"organization_id": self.organization.pk},
        )
        return api_rule(serializer.validate_uid, self.cleaned_data["uid"])


def split_uids(text: str) -> list[str]:
    """Uids typed or pasted one per line, or separated by spaces, commas or semicolons."""
    return [uid for uid in re.split(r"[\s,;]+", text) if uid]


class UidsField(forms.CharField):
    """A list of card uids in a text area, checked like the API's `uids` body."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"})

    def to_python(self, value):
        uids = split_uids(super().to_python(value))
        if not uids:
            return []
        body = CardUidsSerializer(data={"uids": uids})
        if body.is_valid():
            return body.validated_data["uids"]
        errors = body.errors["uids"]
        if isinstance(errors, dict):
            # One entry per bad uid, by position: name the uid rather than its index.
            errors = [f"{uids[index]}: {message}" for index, ms in errors.items() for message in ms]
        raise forms.ValidationError([str(message) for message in errors])


def add_uids_field() -> UidsField:
    """The "Add cards" text box of a group's forms."""
    return UidsField(
        label=_("Add cards"),
        required=False,
        help_text=_("UIDs of the organization's cards, one per line; cards in the group stay."),
    )


def check_known_uids(form, organization, field: str):
    """Name every uid in `field` that is no card of the organization, as that field's error."""
    uids = form.cleaned_data.get(field) or []
    try:
        card_ids_of(organization.pk, uids)
    except UnknownCards as error:
        form.add_error(field, unknown_uids_error(error.uids))


class AccessGroupForm(OrganizationModelForm):
    """Edit an access group (admins): name, description, and where its cards may charge."""

    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The group's cards may charge at every station of these sites."),
    )
    stations = forms.ModelMultipleChoiceField(
        label=_("Stations"),
        queryset=ChargingStation.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Stations where the cards may charge beyond the sites above."),
    )

    class Meta:
        model = AccessGroup
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("sites", list(self.instance.sites.values_list("pk", flat=True)))
            self.initial.setdefault(
                "stations", list(self.instance.stations.values_list("pk", flat=True))
            )

    def clean_name(self):
        serializer = AccessGroupSerializer(
            instance=self.instance if self.instance.pk else None,
            context={"organization_id": self.organization.pk},
        )
        return api_rule(serializer.validate_name, self.cleaned_data["name"])

    def _save_m2m(self):
        super()._save_m2m()
        self.instance.sites.set(self.cleaned_data["sites"])
        self.instance.stations.set(self.cleaned_data["stations"])


class NewAccessGroupForm(AccessGroupForm):
    """Add an access group (admins), with its first cards by uid."""

    add_uids = add_uids_field()

    def clean(self):
        cleaned = super().clean()
        # Checked here so the page names every unknown uid; the service checks again on save.
        check_known_uids(self, self.organization, "add_uids")
        return cleaned


class GroupCardsForm(forms.Form):
    """Put cards into a group and take cards out of it by uid: the API's add- and remove-cards."""

    add_uids = add_uids_field()
    remove_uids = UidsField(
        label=_("Remove cards"),
        required=False,
        help_text=_("UIDs of cards to take out of the group, one per line."),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean(self):
        cleaned = super().clean()
        add, remove = cleaned.get("add_uids") or [], cleaned.get("remove_uids") or []
        if not add and not remove:
            raise forms.ValidationError(
                _("Enter the UIDs of the cards to add or to remove."), code="no_uids"
            )
        both = set(add) & set(remove)
        if both:
            raise forms.ValidationError(
                _("A card cannot be added and removed at once: %(uids)s."),
                code="add_and_remove",
                params={"uids": ", ".join(sorted(both))},
            )
        # Checked here so the page names every unknown uid; the service checks again on save.
        check_known_uids(self, self.organization, "add_uids")
        check_known_uids(self, self.organization, "remove_uids")
        return cleaned


class IdTokenImportForm(forms.Form):
    """A CSV file of cards to import, and whether only to check it."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 text, comma-separated, header line first."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    dry_run = forms.BooleanField(
        label=_("Only check the file, write nothing"),
        required=False,
    )


class CardFilterSet(IdTokenFilterSet):
    """The API's card filters, with the group choices narrowed to the organization."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        group = self.filters["access_group"]
        group.queryset = AccessGroup.objects.for_org(organization)
        group.label = _("Access group")
        group.extra["empty_label"] = _("Any group")
        self.filters["search"].label = _("Search (UID, label, holder)")
        self.filters["status"].label = _("Status")
        self.filters["status"].extra["empty_label"] = _("Any status")
        self.filters["type"].label = _("Type")
        self.filters["type"].extra["empty_label"] = _("Any type")


class GroupFilterSet(AccessGroupFilterSet):
    """The API's access group filters, narrowed to the organization."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["name"].label = _("Name contains")
        site = self.filters["site"]
        site.queryset = Site.objects.for_org(organization)
        site.label = _("Opens this site")
        site.extra["empty_label"] = _("Any site")
        station = self.filters["station"]
        station.queryset = ChargingStation.objects.for_org(organization)
        station.label = _("Opens this station")
        station.extra["empty_label"] = _("Any station")
