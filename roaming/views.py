"""Portal pages of the roaming app: the last 30 days of roaming activity, per partner."""

from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.views.generic import TemplateView

from core.timezones import zone_of
from organizations.portal import PortalView
from roaming.models import RoamingActivity
from sessions_app.choices import AuthMethod
from stations.site_views import SiteTabMixin

WINDOW_DAYS = 30
PAGE_SIZE = 50


def activity_window(organization, now=None) -> tuple[date, date]:
    """The last 30 local days of the organization, today included: (first, last)."""
    today = (now or timezone.now()).astimezone(zone_of(organization)).date()
    return today - timedelta(days=WINDOW_DAYS - 1), today


def totals_per_partner(activity: QuerySet) -> list[dict]:
    """Sessions, energy and revenue of each partner; one row per currency it was paid in."""
    return list(
        activity.order_by()
        .values(
            "partner",
            "partner__name",
            "partner__country_code",
            "partner__party_id",
            "partner__status",
            "currency",
        )
        .annotate(sessions=Sum("sessions"), energy_wh=Sum("energy_wh"), revenue=Sum("revenue"))
        .order_by("partner__name", "partner", "currency")
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


class RoamingActivityMixin:
    """The roaming activity of the last 30 days: totals per partner, then every day's rows."""

    def window(self) -> tuple[date, date]:
        # Once per request, so the totals and the rows agree even across midnight.
        if not hasattr(self, "_window"):
            self._window = activity_window(self.organization)
        return self._window

    def activity(self) -> QuerySet:
        first, last = self.window()
        return RoamingActivity.objects.for_org(self.organization).filter(
            date__gte=first, date__lte=last
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = self.activity()
        per_partner = totals_per_partner(activity)
        days = activity.select_related("partner", "site").order_by(
            "-date", "partner__name", "site__name"
        )
        page = Paginator(days, PAGE_SIZE).get_page(self.request.GET.get("page"))
        first, last = self.window()
        context.update(
            first_day=first,
            last_day=last,
            partner_totals=per_partner,
            totals=totals_per_currency(per_partner),
            page_obj=page,
            days=page.object_list,
            roaming_sessions_query=f"auth_method={AuthMethod.ROAMING}&date_from={first:%Y-%m-%d}",
        )
        return context


class RoamingActivityView(RoamingActivityMixin, PortalView):
    """The organization's roaming activity of the last 30 days."""

    section = "roaming"
    template_name = "roaming/activity.html"


class SiteRoamingActivityView(RoamingActivityMixin, SiteTabMixin, TemplateView):
    """One site's roaming activity of the last 30 days."""

    tab = "roaming"
    template_name = "roaming/site_activity.html"

    def activity(self) -> QuerySet:
        return super().activity().filter(site=self.get_site())
