"""Announced maintenance windows: time left out of the uptime figure."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from stations.models import ChargingStation, Site


class MaintenanceWindowQuerySet(TenantQuerySet):
    """Maintenance windows narrowed by organization."""

    def overlapping(self, start, end):
        """Windows that overlap [start, end)."""
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class MaintenanceWindow(models.Model):
    """Announced maintenance of a site or a station (or all of an organization's): planned."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="maintenance_windows"
    )
    # Scope: the whole organization, one site, or one station.
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="maintenance_windows"
    )
    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="maintenance_windows",
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MaintenanceWindowQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="maintenance_ends_after_start"
            ),
            # One scope: a station window names no site (its station's site is implied).
            models.CheckConstraint(
                condition=Q(site__isnull=True) | Q(station__isnull=True),
                name="maintenance_one_scope",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "starts_at", "ends_at"], name="maintenance_org")
        ]

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    @property
    def scope_label(self) -> str:
        """What the window covers, in words: a station, a site or the whole organization."""
        if self.station_id:
            return str(self.station)
        if self.site_id:
            return str(self.site)
        return str(_("All stations"))

    def covers(self, station: ChargingStation) -> bool:
        """Whether the window applies to `station`."""
        if self.station_id:
            return self.station_id == station.pk
        if self.site_id:
            return self.site_id == station.site_id
        return self.organization_id == station.organization_id
