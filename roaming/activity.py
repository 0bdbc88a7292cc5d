"""The roaming activity rollup: real roaming sessions per partner, location, role and local day.

CPO role: partners' drivers at our sites (charging sessions carrying a roaming partner; revenue
is their charge detail records' totals incl. tax). eMSP role: our drivers at partners'
locations (the CDRs partners sent us; revenue is what we owe them). Days are the
organization's local days; a recompute deletes and rewrites whole days, so it is idempotent.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone

from billing.choices import CdrKind
from billing.models import ChargeDetailRecord
from core.timezones import day_start, zone_of
from organizations.models import Organization
from roaming.choices import OurRole
from roaming.models import PartnerCdr, PartnerLocation, RoamingActivity, RoamingPartner
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession

ZERO = Decimal(0)
WH_PER_KWH = Decimal(1000)


@dataclass
class _Day:
    """One activity row being added up."""

    site_id: int | None
    location_name: str
    sessions: int = 0
    energy_wh: int = 0
    revenue: Decimal = ZERO


def roll_up(organization: Organization, days: int = 2, now=None) -> int:
    """Recompute the last `days` local days, and older days changed since; rows written."""
    zone = zone_of(organization)
    moment = now or timezone.now()
    today = moment.astimezone(zone).date()
    first = today - timedelta(days=max(days, 1) - 1)
    since = day_start(first, zone)
    dates = {first + timedelta(days=n) for n in range((today - first).days + 1)}
    # A CDR rated or received late (a session held for review, a partner's slow CDR) changes
    # an older day: that day is recomputed whole as well.
    dates |= _late_days(organization, since, zone)
    return _rewrite(organization, sorted(dates), zone)


def roll_up_every_day(organization: Organization, now=None) -> int:
    """Recompute every day since the organization's first roaming session, CDR or activity row."""
    zone = zone_of(organization)
    oldest = [
        moment.astimezone(zone).date()
        for moment in (
            _roaming_sessions(organization).aggregate(first=Min("start"))["first"],
            PartnerCdr.objects.for_org(organization).aggregate(first=Min("start"))["first"],
        )
        if moment is not None
    ]
    first_row = RoamingActivity.objects.for_org(organization).aggregate(first=Min("date"))["first"]
    if first_row is not None:
        oldest.append(first_row)
    if not oldest:
        return 0
    today = (now or timezone.now()).astimezone(zone).date()
    return roll_up(organization, days=(today - min(oldest)).days + 1, now=now)


def organizations_with_partners():
    """Organizations that have roaming partners (only they can have roaming activity)."""
    return Organization.objects.filter(
        pk__in=RoamingPartner.objects.values("organization_id")
    ).order_by("pk")


def _roaming_sessions(organization):
    return (
        ChargingSession.objects.for_org(organization)
        .filter(roaming_partner__isnull=False, roaming_partner__organization=organization)
        .exclude(state=SessionState.FAILED)
    )


def _late_days(organization, since, zone) -> set[date]:
    """Local days of roaming data that changed after `since` but lies before it."""
    rated = (
        ChargeDetailRecord.objects.for_org(organization)
        .filter(created__gte=since, session__start__lt=since)
        .filter(session__in=_roaming_sessions(organization))
        .values_list("session__start", flat=True)
    )
    received = (
        PartnerCdr.objects.for_org(organization)
        .filter(received__gte=since, start__lt=since)
        .values_list("start", flat=True)
    )
    return {moment.astimezone(zone).date() for moment in [*rated, *received]}


def _in_days(field: str, dates: list[date], zone) -> Q:
    """Rows whose `field` lies in one of the local days (consecutive days make one range)."""
    runs: list[list[date]] = []
    for day in dates:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    condition = Q(pk__in=[])
    for start, end in runs:
        condition |= Q(
            **{
                f"{field}__gte": day_start(start, zone),
                f"{field}__lt": day_start(end + timedelta(days=1), zone),
            }
        )
    return condition


def _cpo_days(organization, dates, zone) -> dict[tuple, _Day]:
    """Partners' drivers at our sites: sessions, energy and their CDRs' totals incl. tax."""
    sessions = _roaming_sessions(organization).filter(_in_days("start", dates, zone))
    totals: dict[int, dict[str, Decimal]] = defaultdict(dict)
    charged_in: dict[int, str] = {}
    for row in (
        ChargeDetailRecord.objects.filter(session__in=sessions)
        .values("session_id", "currency", "kind")
        .annotate(total=Sum("total_incl_tax"))
        .order_by()
    ):
        money = totals[row["session_id"]]
        money[row["currency"]] = money.get(row["currency"], ZERO) + (row["total"] or ZERO)
        if row["kind"] == CdrKind.CHARGE:
            charged_in[row["session_id"]] = row["currency"]
    rows: dict[tuple, _Day] = {}
    for session in sessions.values(
        "pk",
        "roaming_partner_id",
        "roaming_partner__tariff__currency",
        "station__site_id",
        "station__site__name",
        "start",
        "energy_wh",
    ):
        site_id = session["station__site_id"]
        location_id = "" if site_id is None else str(site_id)
        day = session["start"].astimezone(zone).date()
        # A session not rated yet counts in the currency it will be billed in.
        currency = charged_in.get(session["pk"]) or next(
            iter(totals.get(session["pk"], {})),
            session["roaming_partner__tariff__currency"] or organization.currency,
        )
        for money_currency, amount in {currency: ZERO, **totals.get(session["pk"], {})}.items():
            key = (session["roaming_partner_id"], OurRole.CPO, location_id, day, money_currency)
            row = rows.setdefault(key, _Day(site_id, session["station__site__name"] or ""))
            row.revenue += amount
            if money_currency == currency:
                row.sessions += 1
                row.energy_wh += session["energy_wh"] or 0
    return rows


def _emsp_days(organization, dates, zone) -> dict[tuple, _Day]:
    """Our drivers at partners' locations: the CDRs they sent, what we owe them."""
    cdrs = list(
        PartnerCdr.objects.for_org(organization)
        .filter(_in_days("start", dates, zone))
        .values(
            "partner_id",
            "country_code",
            "party_id",
            "location_id",
            "location_name",
            "start",
            "kwh",
            "currency",
            "total_cost_excl_vat",
            "total_cost_incl_vat",
        )
    )
    unnamed = {cdr["location_id"] for cdr in cdrs if not cdr["location_name"]}
    names = {}
    if unnamed:
        names = {
            (location["partner_id"], location["ocpi_id"]): location["name"]
            for location in PartnerLocation.objects.for_org(organization)
            .filter(ocpi_id__in=unnamed)
            .values("partner_id", "ocpi_id", "name")
        }
    rows: dict[tuple, _Day] = {}
    for cdr in cdrs:
        day = cdr["start"].astimezone(zone).date()
        key = (cdr["partner_id"], OurRole.EMSP, cdr["location_id"], day, cdr["currency"])
        name = cdr["location_name"] or names.get((cdr["partner_id"], cdr["location_id"]), "")
        row = rows.setdefault(key, _Day(None, name))
        row.sessions += 1
        row.energy_wh += int((cdr["kwh"] * WH_PER_KWH).quantize(Decimal(1), ROUND_HALF_UP))
        # OCPI makes the total incl. VAT optional: a CPO that does not know the VAT omits it.
        cost = cdr["total_cost_incl_vat"]
        row.revenue += cdr["total_cost_excl_vat"] if cost is None else cost
    return rows


def _rewrite(organization, dates: list[date], zone) -> int:
    """Replace the activity of these days with what the sessions and CDRs say."""
    with transaction.atomic():
        # One rollup of an organization at a time: a second one waits, then rewrites the same.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        rows = {**_cpo_days(organization, dates, zone), **_emsp_days(organization, dates, zone)}
        RoamingActivity.objects.for_org(organization).filter(date__in=dates).delete()
        RoamingActivity.objects.bulk_create(
            RoamingActivity(
                organization=organization,
                partner_id=partner_id,
                role=role,
                site_id=row.site_id,
                location_id=location_id,
                location_name=row.location_name[:255],
                date=day,
                sessions=row.sessions,
                energy_wh=row.energy_wh,
                revenue=row.revenue,
                currency=currency,
            )
            for (partner_id, role, location_id, day, currency), row in sorted(
                rows.items(), key=lambda item: (item[0][3], item[0][0], item[0][1], item[0][2])
            )
        )
    return len(rows)
