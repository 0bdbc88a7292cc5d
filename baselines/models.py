"""Configuration baselines: desired settings per vendor/model, their drift and applications.

A setting names a 1.6 configuration key (no component) or a 2.0.1 device-model variable, with
the same address fields as stations.StationVariable, so desired and reported values pair up
by address.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baselines.choices import ResultStatus, RunStatus, RunTrigger
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from stations.models import AttributeType, ChargingStation

# Where a setting sits: the address fields of stations.StationVariable.
ADDRESS_FIELDS = (
    "component",
    "component_instance",
    "evse_number",
    "connector_number",
    "variable",
    "variable_instance",
    "attribute_type",
)
# The longest value a setting takes (2.0.1 SetVariableData.attributeValue, 1.6 value).
MAX_VALUE_LENGTH = 1000


class AddressMixin(models.Model):
    """A 1.6 key (no component) or a 2.0.1 component/variable/attribute, as stations store it."""

    component = models.CharField(
        _("component"), max_length=50, blank=True, help_text=_("Empty for an OCPP 1.6 key.")
    )
    component_instance = models.CharField(_("component instance"), max_length=50, blank=True)
    evse_number = models.PositiveIntegerField(_("EVSE"), default=0, help_text=_("0: none."))
    connector_number = models.PositiveIntegerField(
        _("connector on the EVSE"), default=0, help_text=_("0: none.")
    )
    variable = models.CharField(
        _("key or variable"), max_length=50, help_text=_("The 1.6 key, or the 2.0.1 variable.")
    )
    variable_instance = models.CharField(_("variable instance"), max_length=50, blank=True)
    attribute_type = models.CharField(
        _("attribute type"),
        max_length=8,
        choices=AttributeType.choices,
        default=AttributeType.ACTUAL,
    )

    class Meta:
        abstract = True

    @property
    def is_configuration_key(self) -> bool:
        """Whether it is an OCPP 1.6 configuration key (else a 2.0.1 variable)."""
        return not self.component

    def address_key(self) -> tuple:
        """The values of ADDRESS_FIELDS, in order."""
        return tuple(getattr(self, name) for name in ADDRESS_FIELDS)

    @property
    def label(self) -> str:
        """The setting as the portal writes it: `Key` or `Component@1.2/Variable[i]:Target`."""
        return address_label(dict(zip(ADDRESS_FIELDS, self.address_key(), strict=True)))


def address_label(address: dict) -> str:
    """`Key` (1.6) or `Component[inst]@evse.connector/Variable[inst]:Type` (2.0.1)."""
    if not address["component"]:
        return address["variable"]
    text = address["component"]
    if address["component_instance"]:
        text += f"[{address['component_instance']}]"
    if address["evse_number"]:
        text += f"@{address['evse_number']}"
        if address["connector_number"]:
            text += f".{address['connector_number']}"
    text += "/" + address["variable"]
    if address["variable_instance"]:
        text += f"[{address['variable_instance']}]"
    if address["attribute_type"] and address["attribute_type"] != AttributeType.ACTUAL:
        text += f":{address['attribute_type']}"
    return text


class ConfigurationBaselineQuerySet(TenantQuerySet):
    """Baselines narrowed by organization."""

    def matching(self, station: ChargingStation):
        """The baselines of the station's organization for its vendor and model."""
        if station.organization_id is None or not station.vendor:
            return self.none()
        return self.filter(
            Q(model="") | Q(model__iexact=station.model),
            organization_id=station.organization_id,
            vendor__iexact=station.vendor,
        )


class ConfigurationBaseline(models.Model):
    """Desired configuration keys and variables for the stations of one vendor (and model)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="configuration_baselines"
    )
    name = models.CharField(_("name"), max_length=100)
    vendor = models.CharField(
        _("vendor"), max_length=50, help_text=_("As the stations report it; case does not matter.")
    )
    model = models.CharField(
        _("model"),
        max_length=50,
        blank=True,
        help_text=_("Empty: every model of the vendor. Case does not matter."),
    )
    apply_at_first_boot = models.BooleanField(
        _("apply at first boot"),
        default=False,
        help_text=_("Send the settings to a matching station when it first boots accepted."),
    )
    detect_drift = models.BooleanField(
        _("detect drift"),
        default=True,
        help_text=_("Compare what stations report with the desired values, and alert on drift."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ConfigurationBaselineQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("configuration baseline")
        verbose_name_plural = _("configuration baselines")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="unique_configuration_baseline_name"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def scope_label(self) -> str:
        """The vendor and model it applies to, in words."""
        if self.model:
            return f"{self.vendor} {self.model}"
        return _("%(vendor)s, every model") % {"vendor": self.vendor}


class BaselineSettingQuerySet(TenantQuerySet):
    """Settings narrowed by their baseline's organization."""

    org_path = "baseline__organization"


class BaselineSetting(AddressMixin):
    """One desired value of a baseline: a 1.6 key or a 2.0.1 variable attribute."""

    baseline = models.ForeignKey(
        ConfigurationBaseline, on_delete=models.CASCADE, related_name="settings"
    )
    value = models.TextField(_("desired value"), blank=True)

    objects = BaselineSettingQuerySet.as_manager()

    class Meta:
        ordering = ["baseline", *ADDRESS_FIELDS]
        verbose_name = _("baseline setting")
        verbose_name_plural = _("baseline settings")
        constraints = [
            models.UniqueConstraint(
                fields=["baseline", *ADDRESS_FIELDS], name="unique_baseline_setting"
            )
        ]

    def __str__(self):
        return f"{self.label} = {self.value}"


class StationDriftQuerySet(TenantQuerySet):
    """Drift rows narrowed by their baseline's organization."""

    org_path = "baseline__organization"


class StationDrift(models.Model):
    """A station whose reported settings differ from a baseline's (the row exists while so)."""

    baseline = models.ForeignKey(
        ConfigurationBaseline, on_delete=models.CASCADE, related_name="drifts"
    )
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="baseline_drifts"
    )
    # The settings that differ, as last announced: [{"key", "desired", "reported", "reported_at"}].
    keys = models.JSONField(_("differing settings"), default=list)
    detected_at = models.DateTimeField(_("drifting since"), default=timezone.now)
    checked_at = models.DateTimeField(_("last checked"), default=timezone.now)

    objects = StationDriftQuerySet.as_manager()

    class Meta:
        ordering = ["baseline", "station"]
        verbose_name = _("station drift")
        verbose_name_plural = _("station drifts")
        constraints = [
            models.UniqueConstraint(fields=["baseline", "station"], name="unique_station_drift")
        ]

    def __str__(self):
        return f"{self.station} ≠ {self.baseline}"

    @property
    def key_names(self) -> list[str]:
        """The labels of the differing settings."""
        return [item["key"] for item in self.keys]


class BaselineRunQuerySet(TenantQuerySet):
    """Runs narrowed by their baseline's organization."""

    org_path = "baseline__organization"


class BaselineRun(models.Model):
    """One application of a baseline to one station, and how it went."""

    baseline = models.ForeignKey(
        ConfigurationBaseline, on_delete=models.CASCADE, related_name="runs"
    )
    station = models.ForeignKey(
        ChargingStation, on_delete=models.CASCADE, related_name="baseline_runs"
    )
    trigger = models.CharField(
        _("trigger"), max_length=16, choices=RunTrigger.choices, default=RunTrigger.MANUAL
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # How the request came (ocpp_gateway RequestedVia), kept for the command log of the run.
    requested_via = models.CharField(_("requested via"), max_length=16, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    created = models.DateTimeField(_("requested"), default=timezone.now)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = BaselineRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("baseline run")
        verbose_name_plural = _("baseline runs")
        indexes = [
            models.Index(fields=["baseline", "-created"], name="baselinerun_baseline"),
            models.Index(fields=["station", "-created"], name="baselinerun_station"),
            models.Index(fields=["status", "created"], name="baselinerun_status"),
        ]

    def __str__(self):
        return f"{self.baseline} → {self.station} ({self.status})"


class BaselineResultQuerySet(TenantQuerySet):
    """Per-setting results narrowed by their run's organization."""

    org_path = "run__baseline__organization"


class BaselineResult(AddressMixin):
    """The station's answer for one setting of a run."""

    run = models.ForeignKey(BaselineRun, on_delete=models.CASCADE, related_name="results")
    value = models.TextField(_("value sent"), blank=True)
    status = models.CharField(_("result"), max_length=16, choices=ResultStatus.choices)
    message = models.CharField(_("message"), max_length=255, blank=True)

    objects = BaselineResultQuerySet.as_manager()

    class Meta:
        ordering = ["run", *ADDRESS_FIELDS]
        verbose_name = _("baseline result")
        verbose_name_plural = _("baseline results")

    def __str__(self):
        return f"{self.label}: {self.status}"


class FirstBootQuerySet(TenantQuerySet):
    """First-boot marks narrowed by organization."""


class FirstBoot(models.Model):
    """When a station first booted accepted in its organization (first-boot baselines)."""

    station = models.OneToOneField(
        ChargingStation, on_delete=models.CASCADE, related_name="first_boot"
    )
    # A station moved to another organization boots "first" there again.
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    booted_at = models.DateTimeField(_("first accepted boot"), default=timezone.now)

    objects = FirstBootQuerySet.as_manager()

    class Meta:
        verbose_name = _("first boot")
        verbose_name_plural = _("first boots")

    def __str__(self):
        return f"{self.station} @ {self.booted_at:%Y-%m-%d %H:%M}"
