"""Query-string filters of the organizations API."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone

from cms.api.filters import StrictBooleanFilter, UtcDateTimeFilter, visible
from cms.api.permissions import organization_roles
from organizations.choices import IdTokenStatus, IdTokenType, InvitationStatus, Role
from organizations.models import (
    AccessGroup,
    APIKeyRole,
    IdToken,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
    normalize_uid,
)
from stations.models import ChargingStation, Site

# --- Organizations, members and API keys -----------------------------------------------------


class IntegerFilter(django_filters.NumberFilter):
    """A whole number; `0.5` is an error rather than a filter that matches nothing."""

    field_class = forms.IntegerField


class OrganizationFilterSet(django_filters.FilterSet):
    """The user's organizations by name, slug and the user's own role in them."""

    name = django_filters.CharFilter(lookup_expr="icontains")
    slug = django_filters.CharFilter()
    role = django_filters.ChoiceFilter(
        choices=Role.choices, method="filter_role", label="Your role in the organization"
    )

    class Meta:
        model = Organization
        fields = ["name", "slug", "role"]

    def filter_role(self, queryset, name, value):
        # The roles are read once per request already (RolePermission): no join needed.
        roles = organization_roles(self.request)
        return queryset.filter(pk__in=[org for org, role in roles.items() if role == value])


class MembershipFilterSet(django_filters.FilterSet):
    """Members by organization, role, user, username and email."""

    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))
    role = django_filters.ChoiceFilter(choices=Role.choices)
    # A plain number, not a choice of every user: a filter must not tell who has an account.
    user = IntegerFilter(field_name="user")
    username = django_filters.CharFilter(field_name="user__username", lookup_expr="icontains")
    email = django_filters.CharFilter(field_name="user__email", lookup_expr="iexact")

    class Meta:
        model = Membership
        fields = ["organization", "role", "user", "username", "email"]


class InvitationFilterSet(django_filters.FilterSet):
    """Invitations by organization, status (expired follows from the date) and email."""

    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))
    status = django_filters.ChoiceFilter(choices=InvitationStatus.choices, method="filter_status")
    email = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Invitation
        fields = ["organization", "status", "email"]

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        if value == InvitationStatus.EXPIRED:
            return queryset.filter(status=InvitationStatus.PENDING, expires_at__lte=now)
        if value == InvitationStatus.PENDING:
            return queryset.open(now)
        return queryset.filter(status=value)


class OrganizationAPIKeyFilterSet(django_filters.FilterSet):
    """API keys by organization, role, name and whether revoked."""

    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))
    role = django_filters.ChoiceFilter(choices=APIKeyRole.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")
    revoked = StrictBooleanFilter()

    class Meta:
        model = OrganizationAPIKey
        fields = ["organization", "role", "name", "revoked"]


# --- Access groups and id tokens (cards) -----------------------------------------------------


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
