"""Mails to members about alerts: planned in the alert's transaction, sent after commit.

`plan` writes Notification rows (the outbox) next to the alert, so a crash or a broker outage
after the commit loses nothing; `send_pending` (after commit, and every minute from beat) sends
each recipient one mail listing everything owed to them; `send_digests` (hourly) sends the
low-severity rows members asked to receive in bulk.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone, translation
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext

from alerts.choices import AlertState, DeliveryStatus, NotificationKind, RuleKind, Severity
from alerts.models import Alert, Notification, NotificationPreference
from core.timezones import zone_of
from organizations.choices import Role
from organizations.models import Membership
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# Rows still to be sent; RETRYING after a failed send.
OWED = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
# The sweep runs every minute: ten attempts ride out a ten-minute mail server outage.
MAX_MAIL_ATTEMPTS = 10
# One mail lists at most this many alerts; the rest go in the next one (a minute later).
MAX_ALERTS_PER_MAIL = 100
# Recipients served by one run of a sending task.
MAX_RECIPIENTS_PER_RUN = 500
# A station's text (error info, identities) is cut to this in a mail line.
MAX_VALUE_CHARS = 200

# --- the recipient's language (a seam: the portal, above us, knows where it is stored) ---------

LanguageResolver = Callable[[object], str | None]
_language_resolvers: list[LanguageResolver] = []


def register_language_resolver(resolver: LanguageResolver) -> LanguageResolver:
    """Ask `resolver(user)` for a recipient's language code (None: no opinion); from ready()."""
    if resolver not in _language_resolvers:
        _language_resolvers.append(resolver)
    return resolver


def language_of(user) -> str:
    """The language of mails to `user`: the first resolver's answer, else the default."""
    known = {code for code, _name in settings.LANGUAGES}
    for resolver in _language_resolvers:
        try:
            code = resolver(user)
        except Exception:
            # A mail in the default language beats no mail at all.
            logger.exception("language resolver %r failed for user %s", resolver, user.pk)
            continue
        if code in known:
            return code
    return settings.LANGUAGE_CODE


# --- planning (inside the alert's transaction) ----------------------------------------------


def plan(alerts: list[Alert], kind: str) -> None:
    """Create the Notification rows owed for `alerts` (per member preferences, escalation)."""
    alerts = [alert for alert in alerts if alert.pk]
    if not alerts:
        return
    tenant_alerts = [alert for alert in alerts if alert.organization_id]
    rows = _platform_rows([a for a in alerts if not a.organization_id], kind)
    if tenant_alerts:
        members = _members_by_org({alert.organization_id for alert in tenant_alerts})
        sites = _sites_of(tenant_alerts)
        if kind == NotificationKind.RESOLVED:
            rows += _resolved_rows(tenant_alerts, members)
        elif kind == NotificationKind.ESCALATED:
            rows += _escalated_rows(tenant_alerts, members, sites)
        else:
            rows += _opened_rows(tenant_alerts, members, sites, kind)
    Notification.objects.bulk_create(rows)


class _Member:
    """A member who could be mailed, with their preference (the model's defaults when unset)."""

    __slots__ = ("membership", "preference", "site_ids")

    def __init__(self, membership: Membership):
        self.membership = membership
        try:
            self.preference = membership.notification_preference
            self.site_ids = {site.pk for site in self.preference.sites.all()}
        except NotificationPreference.DoesNotExist:
            # No row yet: the model's defaults (mail on, from high, every site).
            self.preference = NotificationPreference(membership=membership)
            self.site_ids = set()

    @property
    def user(self):
        return self.membership.user

    def covers(self, site_id: int | None) -> bool:
        """Mail is on and the alert is at one of their sites (an alert with no site: everyone)."""
        if not self.preference.email_enabled:
            return False
        return not self.site_ids or site_id is None or site_id in self.site_ids

    def wants(self, alert: Alert, site_id: int | None) -> bool:
        """Whether they asked to hear of this alert at all."""
        return self.covers(site_id) and _rank(alert.severity) >= _rank(self.preference.min_severity)

    def digests(self, alert: Alert) -> bool:
        """Whether the alert waits for their hourly digest instead of going out alone."""
        return _rank(alert.severity) < _rank(self.preference.digest_below)


def _members_by_org(organization_ids: set[int]) -> dict[int, list[_Member]]:
    """Members of these organizations who can receive mail, with their preferences (2 queries)."""
    memberships = (
        Membership.objects.filter(organization_id__in=organization_ids, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "notification_preference")
        .prefetch_related("notification_preference__sites")
        .order_by("pk")
    )
    by_org: dict[int, list[_Member]] = defaultdict(list)
    for membership in memberships:
        by_org[membership.organization_id].append(_Member(membership))
    return by_org


def _sites_of(alerts: list[Alert]) -> dict[int, int | None]:
    """Each alert's site: its own, else its station's (one query, only when one lacks a site)."""
    sites = {alert.pk: alert.site_id for alert in alerts}
    station_ids = {a.station_id for a in alerts if a.site_id is None and a.station_id}
    if station_ids:
        station_sites = dict(
            ChargingStation.objects.filter(pk__in=station_ids).values_list("pk", "site_id")
        )
        for alert in alerts:
            if sites[alert.pk] is None and alert.station_id:
                sites[alert.pk] = station_sites.get(alert.station_id)
    return sites


def _opened_rows(alerts, members, sites, kind) -> list[Notification]:
    return [
        Notification(alert=alert, recipient=m.user, kind=kind, digest=m.digests(alert))
        for alert in alerts
        for m in members.get(alert.organization_id, ())
        if m.wants(alert, sites[alert.pk])
    ]


def _escalated_rows(alerts, members, sites) -> list[Notification]:
    # The escalation group hears of it whatever severity they chose, and at once: nobody acted.
    # Mail switched off or another site chosen still count, as for any alert.
    rows = []
    for alert in alerts:
        role = alert.rule.escalate_to_role if alert.rule_id else Role.OWNER
        rows += [
            Notification(alert=alert, recipient=m.user, kind=NotificationKind.ESCALATED)
            for m in members.get(alert.organization_id, ())
            if m.membership.has_role(role) and m.covers(sites[alert.pk])
        ]
    return rows


def _resolved_rows(alerts, members) -> list[Notification]:
    # Only those told of the alert (opened or escalated) hear that it is over, if they asked.
    told = set(
        Notification.objects.filter(
            alert__in=alerts, kind__in=(NotificationKind.OPENED, NotificationKind.ESCALATED)
        ).values_list("alert_id", "recipient_id")
    )
    return [
        Notification(
            alert=alert, recipient=m.user, kind=NotificationKind.RESOLVED, digest=m.digests(alert)
        )
        for alert in alerts
        for m in members.get(alert.organization_id, ())
        if m.preference.notify_resolved
        and m.preference.email_enabled
        and (alert.pk, m.user.pk) in told
    ]


def _platform_rows(alerts, kind) -> list[Notification]:
    # A platform alert (an unknown identity knocking) belongs to no organization: support staff
    # (active superusers, who see it in the Django admin) get it in their hourly digest, since
    # an internet scanner can knock with many identities and nobody needs a mail for each.
    if not alerts or kind != NotificationKind.OPENED:
        return []
    staff = list(
        get_user_model().objects.filter(is_active=True, is_superuser=True).exclude(email="")
    )
    return [
        Notification(alert=alert, recipient=user, kind=kind, digest=True)
        for alert in alerts
        for user in staff
    ]


def _rank(severity: str) -> int:
    return Severity(severity).rank


# --- sending ---------------------------------------------------------------------------------


def send_pending() -> int:
    """Send every recipient one mail with the alerts owed to them now; how many mails went out."""
    return _send_all(digest=False)


def send_digests() -> int:
    """Send every recipient one mail with their waiting digest alerts; how many mails went out."""
    return _send_all(digest=True)


def _send_all(digest: bool) -> int:
    recipient_ids = list(
        Notification.objects.filter(status__in=OWED, digest=digest)
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()[:MAX_RECIPIENTS_PER_RUN]
    )
    return sum(_send_to(recipient_id, digest) for recipient_id in recipient_ids)


def _send_to(recipient_id: int, digest: bool) -> int:
    """Send one recipient's owed rows as one mail; 1 when a mail went out."""
    with transaction.atomic():
        # Locked while the mail goes out: a second worker skips these rows instead of sending
        # them again (PostgreSQL; SQLite has one writer anyway).
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(recipient_id=recipient_id, status__in=OWED, digest=digest)
            .select_related(
                "recipient",
                "alert__organization",
                "alert__rule",
                "alert__site",
                "alert__station__site",
                "alert__connector",
            )
            .order_by("created", "pk")[:MAX_ALERTS_PER_MAIL]
        )
        if not rows:
            return 0
        rows, gone = _still_entitled(rows)
        if gone:
            # Left the organization (or support staff no longer) since the alert: not theirs now.
            _mark_failed(gone, gettext("The recipient may no longer receive this alert."))
        if not rows:
            return 0
        recipient = rows[0].recipient
        try:
            compose(recipient, rows, digest=digest).send()
        except Exception as exc:
            # SMTP errors come in many classes (socket, smtplib, TLS): retried by the next sweep.
            logger.exception("Mail to user %s about %d alerts failed", recipient_id, len(rows))
            _record_failure(rows, exc)
            return 0
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=DeliveryStatus.DELIVERED,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            last_error="",
        )
    return 1


def _still_entitled(rows: list[Notification]) -> tuple[list[Notification], list[Notification]]:
    """Split rows into those the recipient may still receive and those they may not."""
    recipient = rows[0].recipient
    if not recipient.is_active or not recipient.email:
        return [], rows
    organization_ids = {row.alert.organization_id for row in rows} - {None}
    member_of = set(
        Membership.objects.filter(
            user_id=recipient.pk, organization_id__in=organization_ids
        ).values_list("organization_id", flat=True)
    )
    keep, gone = [], []
    for row in rows:
        org_id = row.alert.organization_id
        allowed = org_id in member_of if org_id else recipient.is_superuser
        (keep if allowed else gone).append(row)
    return keep, gone


def _mark_failed(rows: list[Notification], reason: str) -> None:
    Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=DeliveryStatus.FAILED, last_error=reason[:500]
    )


def _record_failure(rows: list[Notification], exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:500]
    for row in rows:
        row.attempts += 1
        row.last_error = error
        row.status = (
            DeliveryStatus.FAILED if row.attempts >= MAX_MAIL_ATTEMPTS else DeliveryStatus.RETRYING
        )
    Notification.objects.bulk_update(rows, ["attempts", "last_error", "status"])


# --- content ---------------------------------------------------------------------------------


def compose(recipient, notifications: list[Notification], digest: bool = False) -> EmailMessage:
    """The mail to `recipient` about these notifications, in their language."""
    with translation.override(language_of(recipient)):
        items = sorted(
            (_item(notification) for notification in notifications),
            key=lambda item: (-item["rank"], item["opened_at"]),
        )
        context = {
            "name": recipient.get_full_name() or recipient.get_username(),
            "items": items,
            "count": len(items),
            "top": items[0],
            "kinds": _kind_summary(items),
        }
        prefix = "digest" if digest else "alerts"
        subject = render_to_string(f"alerts/email/{prefix}_subject.txt", context)
        body = render_to_string(f"alerts/email/{prefix}_body.txt", context)
    # A subject is one header line, whatever a station put in its texts.
    subject = " ".join(subject.split())[:250]
    return EmailMessage(subject, body, None, [recipient.email])


def _item(notification: Notification) -> dict:
    """What one alert's paragraph in a mail says."""
    alert = notification.alert
    org = alert.organization
    zone = zone_of(org) if org is not None else UTC
    station = alert.station if alert.station_id else None
    site = alert.site if alert.site_id else (station.site if station else None)
    severity = Severity(alert.severity).label
    what = RuleKind(alert.kind).label if alert.kind in RuleKind.values else alert.kind
    kind = notification.kind
    if kind == NotificationKind.ESCALATED:
        minutes = alert.rule.escalate_after_minutes if alert.rule_id else None
        if minutes is None:
            until = alert.escalated_at or alert.opened_at
            minutes = int((until - alert.opened_at).total_seconds() // 60)
        headline = ngettext(
            "%(severity)s: %(what)s, not acknowledged for %(minutes)s minute",
            "%(severity)s: %(what)s, not acknowledged for %(minutes)s minutes",
            minutes,
        ) % {"severity": severity, "what": what, "minutes": minutes}
    elif kind == NotificationKind.RESOLVED:
        headline = gettext("Resolved: %(what)s") % {"what": what}
    else:
        headline = gettext("%(severity)s: %(what)s") % {"severity": severity, "what": what}
    organization = org.name if org is not None else gettext("Platform")
    # What the subject names: the station, else the site, else the organization.
    where = _line(station.ocpp_id if station else (site.name if site else organization))
    return {
        "kind": kind,
        "headline": headline,
        "rank": Severity(alert.severity).rank,
        "severity": severity,
        "what": what,
        "where": where,
        "organization": organization,
        "station": _line(station.ocpp_id) if station else "",
        "site": _line(site.name) if site else "",
        "connector": alert.connector.connector_id if alert.connector_id else "",
        "opened_at": alert.opened_at,
        "opened": _local(alert.opened_at, zone),
        "resolved": _local(alert.resolved_at, zone) if alert.resolved_at else "",
        "duration": timesince(alert.opened_at, alert.resolved_at) if alert.resolved_at else "",
        "state": AlertState(alert.state).label,
        "occurrences": alert.occurrences,
        "details": [
            (_line(str(key).replace("_", " ").capitalize()), _value(value))
            for key, value in sorted((alert.details or {}).items())
        ],
        "link": alert_url(alert),
    }


def alert_url(alert: Alert, organization_slug: str | None = None) -> str:
    """The absolute address of the alert's page (the Django admin's for a platform alert)."""
    try:
        if alert.organization_id is None:
            path = reverse("admin:alerts_alert_change", args=[alert.pk])
        else:
            slug = organization_slug or alert.organization.slug
            path = reverse("alerts:alert-detail", kwargs={"org": slug, "pk": alert.pk})
    except NoReverseMatch:
        return ""
    return settings.PORTAL_BASE_URL + path


def _kind_summary(items: list[dict]) -> str:
    """The distinct conditions of a mail, most severe first, e.g. "Station offline, Faulted"."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(str(item["what"]), None)
    names = list(seen)
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def _local(moment: datetime, zone) -> str:
    return dateformat.format(moment.astimezone(zone), "Y-m-d H:i T")


def _line(text: str) -> str:
    """One line of plain text: a station's newlines cannot forge lines of our mail."""
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _value(value) -> str:
    if isinstance(value, (list, tuple, set)):
        return _line(", ".join(str(v) for v in value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return _line("" if value is None else str(value))
