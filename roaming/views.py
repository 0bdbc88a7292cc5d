"""Portal pages of the roaming app: activity of the last 30 days, partners and our OCPI profile."""

from datetime import date, timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from core.ordering import PARAM as ORDERING
from core.timezones import zone_of
from organizations.choices import Role
from organizations.portal import OrganizationMixin, PortalView
from roaming import partners as partner_actions
from roaming import selectors
from roaming.choices import OurRole, PartnerStatus
from roaming.filtersets import PARTNER_ORDERING
from roaming.forms import ConnectForm, RoamingPartnerForm, RoamingProfileForm
from roaming.models import RoamingActivity, RoamingPartner, RoamingProfile
from roaming.ocpi import registration
from sessions_app.choices import AuthMethod
from stations.site_views import SiteTabMixin

WINDOW_DAYS = 30
PAGE_SIZE = 50
# Where a token A waits between the POST that made it and the page that shows it once.
TOKEN_A_SESSION_KEY = "roaming:new-token-a"
ROLE_HEADINGS = {
    OurRole.CPO: _("Partners' drivers at our sites (we are the CPO)"),
    OurRole.EMSP: _("Our drivers at partners' locations (we are the eMSP)"),
}
REVENUE_LABELS = {
    OurRole.CPO: _("Revenue"),
    OurRole.EMSP: _("Cost"),
}


def activity_window(organization, now=None) -> tuple[date, date]:
    """The last 30 local days of the organization, today included: (first, last)."""
    today = (now or timezone.now()).astimezone(zone_of(organization)).date()
    return today - timedelta(days=WINDOW_DAYS - 1), today


def totals_per_partner(activity: QuerySet) -> list[dict]:
    """Sessions, energy and money of each partner per role; one row per currency."""
    return list(
        activity.order_by()
        .values(
            "role",
            "partner",
            "partner__name",
            "partner__country_code",
            "partner__party_id",
            "partner__status",
            "currency",
        )
        .annotate(sessions=Sum("sessions"), energy_wh=Sum("energy_wh"), revenue=Sum("revenue"))
        .order_by("role", "partner__name", "partner", "currency")
    )


def totals_per_currency(per_partner: list[dict]) -> list[dict]:
    """The partners' totals added up; money only within one currency."""
    totals: dict[str, dict] = {}
    for row in per_partner:
        total = totals.setdefault(
            row["currency"],
            {"currency": row["currency"], "sessions": 0, "energy_wh": 0, "revenue": 0},
        )
        for name in ("sessions", "energy_wh", "revenue"):
            total[name] += row[name] or 0
    return [totals[currency] for currency in sorted(totals)]


def role_sections(per_partner: list[dict], roles) -> list[dict]:
    """One section per role: its partners' totals and their sum (revenue and cost never mix)."""
    sections = []
    for role in roles:
        rows = [row for row in per_partner if row["role"] == role]
        sections.append(
            {
                "role": role,
                "heading": ROLE_HEADINGS[role],
                "money_label": REVENUE_LABELS[role],
                "partners": rows,
                "totals": totals_per_currency(rows),
            }
        )
    return sections


class RoamingActivityMixin:
    """The roaming activity of the last 30 days: totals per role and partner, then each day."""

    # The roles a page shows: a site only has partners' drivers (CPO role).
    roles = (OurRole.CPO, OurRole.EMSP)

    def window(self) -> tuple[date, date]:
        # Once per request, so the totals and the rows agree even across midnight.
        if not hasattr(self, "_window"):
            self._window = activity_window(self.organization)
        return self._window

    def activity(self) -> QuerySet:
        first, last = self.window()
        return RoamingActivity.objects.for_org(self.organization).filter(
            date__gte=first, date__lte=last, role__in=self.roles
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = self.activity()
        per_partner = totals_per_partner(activity)
        days = activity.select_related("partner", "site").order_by(
            "-date", "role", "partner__name", "location_name", "location_id"
        )
        page = Paginator(days, PAGE_SIZE).get_page(self.request.GET.get("page"))
        first, last = self.window()
        context.update(
            first_day=first,
            last_day=last,
            partner_totals=per_partner,
            sections=role_sections(per_partner, self.roles),
            page_obj=page,
            days=page.object_list,
            cpo_role=OurRole.CPO,
            roaming_sessions_query=f"auth_method={AuthMethod.ROAMING}&date_from={first:%Y-%m-%d}",
        )
        return context


class RoamingActivityView(RoamingActivityMixin, PortalView):
    """The organization's roaming activity of the last 30 days, in both roles."""

    section = "roaming"
    template_name = "roaming/activity.html"


class SiteRoamingActivityView(RoamingActivityMixin, SiteTabMixin, TemplateView):
    """One site's roaming activity of the last 30 days: partners' drivers charging there."""

    tab = "roaming"
    template_name = "roaming/site_activity.html"
    roles = (OurRole.CPO,)

    def activity(self) -> QuerySet:
        return super().activity().filter(site=self.get_site())


# --- partners -------------------------------------------------------------------------------


class PartnerPageMixin(OrganizationMixin):
    """Pages of roaming partners: viewers see, admins act."""

    section = "roaming"

    def list_url(self) -> str:
        return reverse("roaming:partner-list", kwargs={"org": self.organization.slug})

    def partner_url(self, partner) -> str:
        return reverse(
            "roaming:partner-detail", kwargs={"org": self.organization.slug, "pk": partner.pk}
        )

    def get_partner(self):
        if not hasattr(self, "_partner"):
            # Another organization's partner is a 404, like one that does not exist.
            self._partner = get_object_or_404(
                selectors.partners_of(self.organization), pk=self.kwargs["pk"]
            )
        return self._partner

    def profile(self) -> RoamingProfile | None:
        if not hasattr(self, "_profile"):
            self._profile = RoamingProfile.objects.filter(organization=self.organization).first()
        return self._profile


def _with_health(partner):
    partner.healthy = selectors.is_healthy(partner)
    partner.last_sync = selectors.last_sync(partner)
    return partner


class PartnerListView(PartnerPageMixin, TemplateView):
    """Our OCPI profile and every partner with its state; admins add partners, edit the profile."""

    template_name = "roaming/partner_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        profile = self.profile()
        partners = selectors.partners_of(self.organization)
        raw = self.request.GET.get(ORDERING)
        if self.can.administer:
            context.setdefault(
                "profile_form",
                RoamingProfileForm(instance=profile, prefix="profile"),
            )
            context.setdefault(
                "partner_form", RoamingPartnerForm(organization=self.organization, prefix="new")
            )
        context.update(
            profile=profile,
            partners=[_with_health(p) for p in PARTNER_ORDERING.apply(partners, raw)],
            sort=PARTNER_ORDERING.parse(raw),
            our_versions_url=registration.versions_url(self.organization),
        )
        return context


class ProfileUpdateView(PartnerListView):
    """Create or change the organization's OCPI profile (admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = RoamingProfileForm(request.POST, instance=self.profile(), prefix="profile")
        if not form.is_valid():
            del self._profile  # the page shows the profile as stored
            return self.render_to_response(self.get_context_data(profile_form=form), status=400)
        profile = form.save(commit=False)
        profile.organization = self.organization
        profile.save()
        saved = _("Roaming profile saved: we are %(party)s.") % {"party": profile}
        messages.success(request, saved)
        moved = {"country_code", "party_id", "cpo_enabled", "emsp_enabled"} & set(form.changed_data)
        if moved and form.instance.pk and self._registered_partners():
            # Registered partners hold our credentials as they were: a PUT tells them.
            messages.warning(
                request,
                _("Registered partners learn the new party or roles when tokens are rotated."),
            )
        return HttpResponseRedirect(self.list_url())

    def _registered_partners(self) -> bool:
        partners = RoamingPartner.objects.for_org(self.organization)
        return partners.filter(status=PartnerStatus.ACTIVE).exists()


class PartnerCreateView(PartnerListView):
    """Add a partner (admins); it is registered afterwards from its page."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = RoamingPartnerForm(request.POST, organization=self.organization, prefix="new")
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(partner_form=form), status=400)
        partner = form.save(commit=False)
        partner.organization = self.organization
        partner.save()
        messages.success(
            request,
            _("Partner %(name)s added. Issue it a token A, or connect with the one it gave you.")
            % {"name": partner.name},
        )
        return HttpResponseRedirect(self.partner_url(partner))


@method_decorator(never_cache, name="dispatch")
class PartnerDetailView(PartnerPageMixin, TemplateView):
    """A partner: registration, roles and parties, each module's last sync, failed pushes."""

    template_name = "roaming/partner_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        partner = _with_health(self.get_partner())
        token_a = None
        waiting = self.request.session.get(TOKEN_A_SESSION_KEY)
        if waiting and waiting.get("partner") == partner.pk:
            # Shown on this page once, then forgotten: only its hash is stored.
            token_a = self.request.session.pop(TOKEN_A_SESSION_KEY)["token"]
        if self.can.administer:
            context.setdefault(
                "partner_form",
                RoamingPartnerForm(instance=partner, organization=self.organization),
            )
            context.setdefault("connect_form", ConnectForm())
        context.update(
            partner=partner,
            profile=self.profile(),
            modules=selectors.module_states(partner),
            parties=selectors.hub_parties(partner),
            failed_pushes=selectors.failed_pushes(partner),
            token_a=token_a,
            our_versions_url=registration.versions_url(self.organization),
        )
        return context


class PartnerUpdateView(PartnerDetailView):
    """Change a partner's name, party, role or published tariff (admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        partner = self.get_partner()
        form = RoamingPartnerForm(request.POST, instance=partner, organization=self.organization)
        if not form.is_valid():
            del self._partner  # the page shows the partner as stored
            return self.render_to_response(self.get_context_data(partner_form=form), status=400)
        form.save()
        messages.success(request, _("Partner %(name)s saved.") % {"name": partner.name})
        return HttpResponseRedirect(self.partner_url(partner))


class PartnerConnectView(PartnerDetailView):
    """Register with a partner from its versions URL and the token A it gave us (admins)."""

    required_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        partner = self.get_partner()
        form = ConnectForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(connect_form=form), status=400)
        try:
            partner_actions.connect(
                partner,
                versions_url=form.cleaned_data["versions_url"],
                token=form.cleaned_data["token"],
            )
        except partner_actions.PartnerActionRefused as refusal:
            messages.error(request, refusal.message)
        except partner_actions.RegistrationError as failure:
            messages.error(request, partner_failed(failure))
        else:
            messages.success(
                request,
                _("Connected to %(name)s with OCPI %(version)s.")
                % {"name": partner.name, "version": partner.version},
            )
        return HttpResponseRedirect(self.partner_url(partner))


def partner_failed(failure) -> str:
    """What the portal says when the partner could not be reached or refused."""
    return _("The partner could not be reached or refused: %(why)s") % {"why": failure.message}


class PartnerActionView(PartnerPageMixin, View):
    """One admin action on a partner (POST only), reported as a message on its page."""

    required_role = Role.ADMIN
    http_method_names = ["post"]
    action = ""

    def post(self, request, *args, **kwargs):
        partner = self.get_partner()
        try:
            response = getattr(self, "do_" + self.action.replace("-", "_"))(request, partner)
        except partner_actions.PartnerActionRefused as refusal:
            messages.error(request, refusal.message)
        except partner_actions.RegistrationError as failure:
            messages.error(request, partner_failed(failure))
        else:
            if response is not None:
                return response
        return HttpResponseRedirect(self.partner_url(partner))

    def do_issue_token(self, request, partner):
        token = partner_actions.issue_token_a(partner)
        request.session[TOKEN_A_SESSION_KEY] = {"partner": partner.pk, "token": token}
        messages.success(
            request,
            _("Token A issued. Give it to %(name)s with our versions URL; it is shown only once.")
            % {"name": partner.name},
        )

    def do_rotate(self, request, partner):
        partner_actions.rotate(partner)
        messages.success(request, _("New tokens exchanged; the old ones no longer work."))

    def do_unregister(self, request, partner):
        failed_before = partner.last_error_at
        partner_actions.unregister(partner)
        if partner.last_error_at != failed_before:
            messages.warning(
                request,
                _("Unregistered here; the partner could not be told: %(why)s")
                % {"why": partner.last_error},
            )
        else:
            messages.success(request, _("Unregistered: neither side's token works any more."))

    def do_suspend(self, request, partner):
        partner_actions.suspend(partner)
        messages.success(request, _("Partner suspended: its calls are refused, nothing is sent."))

    def do_reactivate(self, request, partner):
        partner_actions.reactivate(partner)
        status = partner.get_status_display()
        messages.success(request, _("Partner reactivated (%(status)s).") % {"status": status})

    def do_retry_pushes(self, request, partner):
        count = partner_actions.retry_pushes_of(partner)
        messages.success(
            request,
            ngettext(
                "%(count)d failed push sent again.", "%(count)d failed pushes sent again.", count
            )
            % {"count": count},
        )

    def do_sync(self, request, partner):
        result = partner_actions.sync(partner)
        pulled = ", ".join(f"{module}: {count}" for module, count in result.pulled.items()) or _(
            "nothing"
        )
        messages.success(request, _("Synced. Stored: %(pulled)s.") % {"pulled": pulled})
        for module, error in result.errors.items():
            messages.error(
                request,
                _("%(module)s could not be pulled: %(why)s") % {"module": module, "why": error},
            )
