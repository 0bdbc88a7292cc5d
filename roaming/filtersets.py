"""Query-string filters of the roaming API."""

import django_filters
from django.db.models.functions import Concat

from core.api.filters import visible
from core.ordering import Ordering
from roaming.choices import PartnerRole, PartnerStatus
from roaming.models import RoamingActivity, RoamingPartner
from stations.models import Site


class RoamingPartnerFilterSet(django_filters.FilterSet):
    """Roaming partners by OCPI role, connection status and country."""

    role = django_filters.ChoiceFilter(choices=PartnerRole.choices)
    status = django_filters.ChoiceFilter(choices=PartnerStatus.choices)
    country_code = django_filters.CharFilter()

    class Meta:
        model = RoamingPartner
        fields = ["role", "status", "country_code"]


class RoamingActivityFilterSet(django_filters.FilterSet):
    """Daily roaming rollups by partner, site and date (every day unless narrowed)."""

    partner = django_filters.ModelChoiceFilter(queryset=visible(RoamingPartner))
    site = django_filters.ModelChoiceFilter(queryset=visible(Site))
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="On or after this date"
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lt", label="Before this date"
    )

    class Meta:
        model = RoamingActivity
        fields = ["partner", "site", "date_after", "date_before"]


# `?ordering=` of the partners page and of the API's /roaming-partners/ alike; `party` is
# the "DE*ABC" the page shows, the push counts are selectors.with_health's annotations.
PARTNER_ORDERING = Ordering(
    {
        "name": "name",
        "party": Concat("country_code", "party_id"),
        "country_code": "country_code",
        "party_id": "party_id",
        "role": "role",
        "status": "status",
        "version": "version",
        "pushes_failed": "pushes_failed",
        "created": "created",
        "updated": "updated",
    },
    default="name",
)
# Our drivers' CDRs at partners: the "charging abroad" page, its CSV and /partner-cdrs/.
PARTNER_CDR_ORDERING = Ordering(
    {
        "start": "start",
        "partner": "partner__name",
        "location": "location_name",
        "card": "token_uid",
        "kwh": "kwh",
        "total_cost_incl_vat": "total_cost_incl_vat",
        "reconciliation": "reconciliation",
        "last_updated": "last_updated",
    },
    default="-start",
)
