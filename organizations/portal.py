"""The portal's tenant base classes: every page and form starts from the user's organization."""

from dataclasses import dataclass

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from core.timezones import zone_of
from organizations.choices import Role
from organizations.models import Membership
from organizations.tenancy import TenantQuerySet


@dataclass(frozen=True)
class Abilities:
    """What the user's role allows in the current organization, for templates: `can.operate`."""

    role: str

    def _at_least(self, role: str) -> bool:
        return Role(self.role).at_least(role)

    @property
    def operate(self) -> bool:
        """Run remote commands (operator and up)."""
        return self._at_least(Role.OPERATOR)

    @property
    def administer(self) -> bool:
        """Change sites, stations, groups and cards (admin and up)."""
        return self._at_least(Role.ADMIN)


class OrganizationMixin(LoginRequiredMixin):
    """Resolves the organization from the URL's `org` slug through the user's membership."""

    # The least role that may open the view; a member below it gets 403, an outsider 404.
    required_role = Role.VIEWER

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        # Another organization's slug is a 404, exactly like one that does not exist.
        self.membership = get_object_or_404(
            Membership.objects.select_related("organization"),
            user=request.user,
            organization__slug=kwargs["org"],
        )
        self.organization = self.membership.organization
        self.can = Abilities(self.membership.role)
        # Times on the organization's pages are its local times (its sites' wall clock).
        timezone.activate(zone_of(self.organization))
        if not self.membership.has_role(self.required_role):
            # For the log line (portal.errors); a page shows it only with DEBUG on.
            raise PermissionDenied(f"role {self.membership.role}, needs {self.required_role}")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            organization=self.organization,
            membership=self.membership,
            can=self.can,
            section=getattr(self, "section", ""),
        )
        return context


class OrganizationObjectMixin(OrganizationMixin):
    """Generic views over `model`, narrowed to the organization: another org's row is a 404."""

    model = None

    def get_queryset(self):
        return self.model.objects.for_org(self.organization)


class OrganizationFormMixin:
    """Create/update views: the form narrows its related fields; a new row gets the URL's org."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["organization"] = self.organization
        return kwargs

    def form_valid(self, form):
        if form.instance.pk is None and hasattr(form.instance, "organization_id"):
            form.instance.organization = self.organization
        return super().form_valid(form)


class PortalView(OrganizationMixin, TemplateView):
    """A page of one organization."""


class OrganizationModelForm(forms.ModelForm):
    """A model form whose related choices are narrowed to one organization's rows."""

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if isinstance(queryset, TenantQuerySet):
                # Another organization's row is then refused like one that does not exist.
                field.queryset = queryset.for_org(organization)
