"""Query-string filters of the organizations API: organizations, members, invitations, keys."""

import django_filters
from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from core.api.filters import StrictBooleanFilter, visible
from core.ordering import Ordering
from organizations.choices import InvitationStatus, Role
from organizations.models import (
    APIKeyRole,
    Invitation,
    Membership,
    Organization,
    OrganizationAPIKey,
)
from organizations.roles import organization_roles


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


# `?ordering=` of the members page and of the API's /members/ alike; roles sort by rank
# (owners first ascending).
MEMBER_ORDERING = Ordering(
    {
        "username": "user__username",
        "email": "user__email",
        "role": Case(
            *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values)),
            default=Value(len(Role.values)),
            output_field=IntegerField(),
        ),
        "created": "created",
    },
    default="username",
)
