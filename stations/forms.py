"""Forms of the portal's station pages: the list's filters and adding a station."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from organizations.portal import OrganizationModelForm
from stations.api.serializers import OCPP_ID_CHARACTERS, OCPP_ID_PATTERN
from stations.choices import ConnectionState, ConnectorStatus, Plan
from stations.filtersets import ChargingStationFilterSet
from stations.models import ChargingStation, Connector, Site, access_group_model
from stations.selectors import shown_status_q

# --- The station list's filters ----------------------------------------------------------------


class StationFilterSet(ChargingStationFilterSet):
    """The API's station filters, narrowed to one organization, with a search over more fields."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))
    site = django_filters.ModelChoiceFilter(
        queryset=Site.objects.none(), label=_("Site"), empty_label=_("All sites")
    )
    connection_state = django_filters.ChoiceFilter(
        choices=ConnectionState.choices, label=_("Connection"), empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        choices=ConnectorStatus.choices,
        method="filter_connector_status",
        label=_("A connector is"),
        empty_label=_("Any status"),
    )
    plan = django_filters.ChoiceFilter(choices=Plan.choices, label=_("Plan"), empty_label=_("Any"))

    # The inputs the list page shows, in this order.
    shown = ("search", "site", "connection_state", "status", "plan")

    def __init__(self, data=None, queryset=None, *, organization, **kwargs):
        super().__init__(data, queryset, **kwargs)
        # The API's choice is every site the user can see; a page shows one organization.
        self.filters["site"].queryset = Site.objects.for_org(organization)

    def filter_connector_status(self, queryset, name, value):
        # As the list shows them: an offline station's connectors are not available.
        shown = Connector.objects.filter(shown_status_q(value), station=OuterRef("pk"))
        return queryset.filter(Exists(shown))

    def filter_search(self, queryset, name, value):
        # Every word must match some field, so "ABB Terra" finds vendor ABB, model Terra AC.
        for word in value.split():
            queryset = queryset.filter(
                Q(ocpp_id__icontains=word)
                | Q(serial_number__icontains=word)
                | Q(site__name__icontains=word)
                | Q(vendor__icontains=word)
                | Q(model__icontains=word)
            )
        return queryset

    @property
    def shown_fields(self):
        return [self.form[name] for name in self.shown]


# --- Adding a station --------------------------------------------------------------------------

DUPLICATE_IDENTITY = _("A station with this OCPP identity already exists.")
DUPLICATE_SITE = _("A site with this name already exists in this organization.")


class NewStationForm(OrganizationModelForm):
    """A new station of the organization, on one of its sites or on a site created with it."""

    site = forms.ModelChoiceField(
        queryset=Site.objects.all(),
        required=False,
        label=_("Site"),
        empty_label=_("A new site (below)"),
    )
    new_site_name = forms.CharField(
        label=_("Name of the new site"),
        max_length=Site._meta.get_field("name").max_length,
        required=False,
    )
    new_site_street = forms.CharField(
        label=_("Street"), max_length=Site._meta.get_field("street").max_length, required=False
    )
    new_site_postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=Site._meta.get_field("postal_code").max_length,
        required=False,
    )
    new_site_city = forms.CharField(
        label=_("City"), max_length=Site._meta.get_field("city").max_length, required=False
    )
    new_site_country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter code (ISO 3166-1), e.g. DE."),
    )
    # A new site in no access group refuses every card, so its groups are chosen with it.
    new_site_access_groups = forms.ModelMultipleChoiceField(
        queryset=access_group_model().objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Access groups of the new site"),
        help_text=_(
            "Cards in these groups may charge at the new site; a site in no access group "
            "refuses every card."
        ),
    )

    class Meta:
        model = ChargingStation
        fields = ["ocpp_id", "site", "plan", "security_profile"]
        help_texts = {
            "ocpp_id": _(
                "The identity the station connects with: the last segment of its OCPP URL and "
                "its Basic-auth username (%(characters)s)."
            )
            % {"characters": OCPP_ID_CHARACTERS},
        }

    field_order = [
        "ocpp_id",
        "site",
        "new_site_name",
        "new_site_street",
        "new_site_postal_code",
        "new_site_city",
        "new_site_country",
        "new_site_access_groups",
        "plan",
        "security_profile",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = list(self.fields["new_site_access_groups"].queryset.order_by("name")[:2])
        if len(groups) == 1:
            # The organization's only group: what an operator means, and one click to undo.
            self.fields["new_site_access_groups"].initial = [groups[0].pk]
        elif not groups:
            self.fields["new_site_access_groups"].help_text = _(
                "The organization has no access groups yet: the new site refuses every card "
                "until you create one (Access groups) and add it to the site."
            )

    def clean_ocpp_id(self):
        ocpp_id = self.cleaned_data["ocpp_id"]
        if not OCPP_ID_PATTERN.fullmatch(ocpp_id):
            raise forms.ValidationError(
                _("Use %(characters)s only.") % {"characters": OCPP_ID_CHARACTERS}
            )
        # Unique across every organization: the identity alone tells the gateway who connects.
        # The message names no organization, so it tells nothing about whose station it is.
        if ChargingStation.objects.filter(ocpp_id=ocpp_id).exists():
            raise forms.ValidationError(DUPLICATE_IDENTITY)
        return ocpp_id

    def clean_new_site_country(self):
        country = self.cleaned_data["new_site_country"]
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE."))
        return country.upper()

    def clean(self):
        cleaned = super().clean()
        site, name = cleaned.get("site"), cleaned.get("new_site_name", "").strip()
        if site is None and not name and "site" not in self.errors:
            self.add_error("new_site_name", _("Choose a site, or name the new one."))
        elif site is not None and name:
            self.add_error("new_site_name", _("Choose a site or name a new one, not both."))
        elif name and Site.objects.for_org(self.organization).filter(name=name).exists():
            self.add_error("new_site_name", DUPLICATE_SITE)
        cleaned["new_site_name"] = name
        return cleaned

    def new_site(self) -> Site | None:
        """The site to create with the station, unsaved; None when an existing one is chosen."""
        if self.cleaned_data.get("site") is not None:
            return None
        return Site(
            organization=self.organization,
            name=self.cleaned_data["new_site_name"],
            street=self.cleaned_data["new_site_street"],
            postal_code=self.cleaned_data["new_site_postal_code"],
            city=self.cleaned_data["new_site_city"],
            country=self.cleaned_data["new_site_country"],
        )
