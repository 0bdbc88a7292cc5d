"""Query-string filters of the cards API (and of the portal's card and group lists)."""

import django_filters
from django.db.models import Q

from cards.choices import IdTokenStatus, IdTokenType
from cards.models import AccessGroup, IdToken, normalize_uid
from core.api.filters import StrictBooleanFilter, UtcDateTimeFilter, visible
from core.ordering import Ordering
from stations.models import ChargingStation, Site

# `?ordering=` of the card and group pages and of the API's lists. `last_used` and `cards` are
# annotations of the pages (the API's rows do not carry them).
CARD_ORDERING = Ordering(
    {
        "uid": "uid",
        "label": "label",
        "type": "type",
        "status": "status",
        "expires_at": "expires_at",
        "last_used": "last_used",
        "created": "created",
    },
    default="uid",
)
GROUP_ORDERING = Ordering(
    {"name": "name", "description": "description", "cards": "card_count", "created": "created"},
    default="name",
)


class AccessGroupFilterSet(django_filters.FilterSet):
    """Access groups by name, and by a site or station they open."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    site = django_filters.ModelChoiceFilter(
        field_name="sites", queryset=visible(Site), label="Opens this site"
    )
    station = django_filters.ModelChoiceFilter(
        field_name="stations", queryset=visible(ChargingStation), label="Opens this station"
    )

    class Meta:
        model = AccessGroup
        fields = ["name", "site", "station"]


class IdTokenFilterSet(django_filters.FilterSet):
    """Cards by uid, status, type, access group, expiry, or a search."""

    uid = django_filters.CharFilter(method="filter_uid", label="Uid (any case)")
    status = django_filters.ChoiceFilter(choices=IdTokenStatus.choices)
    type = django_filters.ChoiceFilter(choices=IdTokenType.choices)
    access_group = django_filters.ModelChoiceFilter(
        field_name="access_groups", queryset=visible(AccessGroup), label="In this access group"
    )
    search = django_filters.CharFilter(
        method="filter_search", label="Uid, label or holder name contains"
    )
    roaming = StrictBooleanFilter(label="May charge at roaming partners")
    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    expires_after = UtcDateTimeFilter(
        field_name="expires_at", lookup_expr="gte", label="Expires at or after"
    )
    expires_before = UtcDateTimeFilter(
        field_name="expires_at", lookup_expr="lt", label="Expires before"
    )

    class Meta:
        model = IdToken
        fields = [
            "uid",
            "status",
            "type",
            "access_group",
            "search",
            "roaming",
            "expires_after",
            "expires_before",
        ]

    def filter_uid(self, queryset, name, value):
        # Stored upper-cased: an exact match on the normalized uid keeps the index usable.
        return queryset.filter(uid=normalize_uid(value))

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(uid__icontains=value) | Q(label__icontains=value) | Q(holder_name__icontains=value)
        )
