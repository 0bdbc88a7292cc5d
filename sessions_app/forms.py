"""Forms of the sessions pages: the API's session filters for one organization, the period."""

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from cards.models import IdToken
from core import timezones
from core.api.filters import StrictBooleanFilter
from sessions_app.choices import AuthMethod
from sessions_app.filtersets import ChargingSessionFilterSet
from stations.models import ChargingStation, Site

# The related filters' choices, narrowed to the page's organization (the API narrows them to
# every organization of the user).
ORGANIZATION_ROWS = {"site": Site, "station": ChargingStation, "id_token": IdToken}

# The API's filter labels are English help for developers; the portal shows these instead.
LABELS = {
    "start_after": _("Started at or after"),
    "start_before": _("Started before"),
    "date_from": _("From"),
    "date_to": _("To"),
    "site": _("Site"),
    "station": _("Station"),
    "ocpp_id": _("OCPP identity"),
    "id_token": _("Card"),
    "id_tag": _("Card uid"),
    "state": _("State"),
    "auth_method": _("Authorized by"),
    "stop_reason": _("Stop reason"),
    "billing_stopped": _("Billing stopped"),
    "authorized_or_roaming": _("Only cards of authorized access groups and roaming"),
}

# The filters the portal's filter bar shows, in order; the others (the API's) still apply
# when a link carries them, so a URL means the same in the portal, its CSV and the API.
SHOWN = ["site", "station", "state", "auth_method", "date_from", "date_to", "id_tag"]


def started_by_authorized_card_or_roaming() -> Q:
    """Sessions authorized by roaming, or by a card in a group authorized at their station."""
    # A group counts when it is opened at the session's site or at its station, the two places
    # authorize_id_tag looks: the site's sessions tab lists what the site's access admits.
    card_groups = IdToken.access_groups.through.objects.filter(idtoken_id=OuterRef("id_token_id"))
    authorized = card_groups.filter(
        Q(accessgroup__sites=OuterRef("station__site"))
        | Q(accessgroup__stations=OuterRef("station_id"))
    )
    return Q(auth_method=AuthMethod.ROAMING) | Exists(authorized)


class PortalSessionFilterSet(ChargingSessionFilterSet):
    """The API's session filters over one organization's sessions, with translated labels."""

    # The page's organization is the URL's; a filter naming another would only mislead.
    organization = None
    authorized_or_roaming = StrictBooleanFilter(method="filter_authorized_or_roaming")

    class Meta(ChargingSessionFilterSet.Meta):
        fields = [
            name for name in ChargingSessionFilterSet.Meta.fields if name != "organization"
        ] + ["authorized_or_roaming"]

    def __init__(self, data=None, queryset=None, *, request=None, organization):
        self.organization = organization
        super().__init__(data, queryset, request=request)
        for filter_ in self.filters.values():
            # The filters are deep copies of the API filterset's, and a copy keeps a form field
            # built before (the API schema builds them): the labels, empty choices and the
            # organization's rows set below would then be ignored. Built again from them.
            filter_.__dict__.pop("_field", None)
        for name, model in ORGANIZATION_ROWS.items():
            self.filters[name].queryset = model.objects.for_org(organization)
        for name, label in LABELS.items():
            self.filters[name].label = label
        for name in ("site", "station", "state", "auth_method"):
            self.filters[name].extra["empty_label"] = _("Any")
        for name in ("date_from", "date_to"):
            # ISO in the value whatever the language: the browser's date picker reads only that.
            self.filters[name].extra["widget"] = forms.DateInput(
                attrs={"type": "date"}, format="%Y-%m-%d"
            )

    def filter_authorized_or_roaming(self, queryset, name, value):
        if value:
            return queryset.filter(started_by_authorized_card_or_roaming())
        return queryset

    def _zones(self):
        # Every session here is the one organization's: its zone, without a query.
        return {self.organization.pk: timezones.zone_of(self.organization)}

    def shown_fields(self, exclude=()):
        """The filter bar's bound fields."""
        return [self.form[name] for name in SHOWN if name not in exclude]


class PeriodForm(forms.Form):
    """The analytics period: the last 7, 30 or 90 days, today included."""

    DEFAULT = 30

    days = forms.TypedChoiceField(
        label=_("Period"),
        choices=[
            (7, _("Last 7 days")),
            (30, _("Last 30 days")),
            (90, _("Last 90 days")),
        ],
        coerce=int,
        initial=DEFAULT,
        required=False,
        empty_value=DEFAULT,
    )


class CorrectReadingsForm(forms.Form):
    """The corrected meter registers of a session held for review."""

    meter_start = forms.IntegerField(label=_("Meter start (Wh)"), min_value=0, max_value=10**14)
    meter_stop = forms.IntegerField(label=_("Meter stop (Wh)"), min_value=0, max_value=10**14)
