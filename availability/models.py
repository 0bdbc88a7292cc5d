"""Maintenance: announced windows (left out of uptime, stations set Inoperative) and the log."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from availability.choices import CommandOutcome, MaintenanceKind, WindowStationState
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
    # ChangeAvailability Inoperative to the covered stations for the window, Operative after it.
    set_inoperative = models.BooleanField(
        _("set the stations Inoperative"),
        default=True,
        help_text=_(
            "Send ChangeAvailability Inoperative to every covered station when the window "
            "starts and Operative when it ends."
        ),
    )
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

    def covered_stations(self):
        """The stations the window applies to, as a queryset (see `covers`)."""
        stations = ChargingStation.objects.for_org(self.organization_id)
        if self.station_id:
            return stations.filter(pk=self.station_id)
        if self.site_id:
            return stations.filter(site_id=self.site_id)
        return stations


class MaintenanceWindowStationQuerySet(TenantQuerySet):
    """A window's per-station bookkeeping, narrowed by the station's organization."""

    org_path = "station__organization"

    def holding(self):
        """Rows whose station this window set (or is setting) Inoperative and not yet released."""
        return self.filter(state__in=[WindowStationState.INOPERATIVE, WindowStationState.RELEASING])


class MaintenanceWindowStation(models.Model):
    """What a window's ChangeAvailability did to one station: Inoperative, then Operative again."""

    # Kept when the window is deleted: the station still has to be set Operative again.
    window = models.ForeignKey(
        MaintenanceWindow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="station_outcomes",
        verbose_name=_("maintenance window"),
    )
    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        related_name="maintenance_window_outcomes",
        verbose_name=_("station"),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=WindowStationState.choices,
        default=WindowStationState.PENDING,
    )
    last_outcome = models.CharField(
        _("last answer"), max_length=20, choices=CommandOutcome.choices, blank=True
    )
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    inoperative_sent_at = models.DateTimeField(_("Inoperative sent"), null=True, blank=True)
    inoperative_at = models.DateTimeField(_("Inoperative accepted"), null=True, blank=True)
    operative_sent_at = models.DateTimeField(_("Operative sent"), null=True, blank=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = MaintenanceWindowStationQuerySet.as_manager()

    class Meta:
        ordering = ["window", "station__ocpp_id", "id"]
        verbose_name = _("maintenance window station")
        verbose_name_plural = _("maintenance window stations")
        constraints = [
            models.UniqueConstraint(fields=["window", "station"], name="maintenance_window_station")
        ]
        indexes = [models.Index(fields=["state", "station"], name="maintenance_ws_state")]

    def __str__(self):
        return f"{self.station} {self.state}"


class MaintenanceRecordQuerySet(TenantQuerySet):
    """Maintenance records narrowed by organization."""


class MaintenanceRecord(models.Model):
    """Maintenance done to a station: an inspection, cleaning, repair or replaced part."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="maintenance_records"
    )
    station = models.ForeignKey(
        ChargingStation,
        on_delete=models.CASCADE,
        related_name="maintenance_records",
        verbose_name=_("station"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MaintenanceKind.choices)
    performed_at = models.DateTimeField(_("performed at"), default=timezone.now)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performed by"),
    )
    # An external contractor has no account: their name as written on the work order.
    technician = models.CharField(_("technician"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    part_replaced = models.CharField(
        _("part replaced"),
        max_length=200,
        blank=True,
        help_text=_("Name and serial number of the new part."),
    )
    next_due = models.DateField(
        _("next due"),
        null=True,
        blank=True,
        help_text=_("When maintenance of this kind is due again (optional)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = MaintenanceRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-id"]
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        indexes = [
            models.Index(
                fields=["station", "kind", "-performed_at"], name="maintenance_record_latest"
            ),
            models.Index(fields=["organization", "-performed_at"], name="maintenance_record_org"),
        ]

    def __str__(self):
        return f"{self.station} {self.get_kind_display()} {self.performed_at:%Y-%m-%d}"

    @property
    def performer(self) -> str:
        """Who did it: the member, the technician, or both."""
        names = [str(self.performed_by)] if self.performed_by_id else []
        if self.technician:
            names.append(self.technician)
        return " / ".join(names)


class MaintenanceAttachmentQuerySet(TenantQuerySet):
    """Attachments narrowed by their record's organization."""

    org_path = "record__organization"


class MaintenanceAttachment(models.Model):
    """A photo or document of a maintenance record, kept through Django's storage."""

    record = models.ForeignKey(
        MaintenanceRecord, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="maintenance/%Y/%m/", max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = MaintenanceAttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["record", "id"]
        verbose_name = _("maintenance attachment")
        verbose_name_plural = _("maintenance attachments")

    def __str__(self):
        return self.original_name

    @property
    def is_image(self) -> bool:
        """Whether the page may show it inline (validated images only; never SVG)."""
        return self.content_type.startswith("image/")
