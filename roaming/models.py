"""Roaming (OCPI 2.2.1): our party, partners, what they sent us, pushes, the exchange log."""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cards.models import IdToken
from organizations.models import Organization
from organizations.tenancy import TenantQuerySet
from roaming.choices import (
    CommandResultType,
    CommandType,
    Direction,
    Module,
    OurRole,
    PartnerRole,
    PartnerStatus,
    PushStatus,
    ReconciliationState,
    TokenType,
    WhitelistType,
)
from stations.models import ChargingStation, Connector, Site

COUNTRY_CODE = RegexValidator(r"^[A-Z]{2}$")
PARTY_ID = RegexValidator(r"^[A-Z0-9]{3}$")


class RoamingProfileQuerySet(TenantQuerySet):
    """Roaming profiles narrowed by organization."""


class RoamingProfile(models.Model):
    """How an organization appears in OCPI: its party id, name and the roles it plays."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="roaming_profile"
    )
    country_code = models.CharField(_("country code"), max_length=2, validators=[COUNTRY_CODE])
    party_id = models.CharField(_("party id"), max_length=3, validators=[PARTY_ID])
    name = models.CharField(_("name shown to partners"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    cpo_enabled = models.BooleanField(
        _("charge point operator"),
        default=True,
        help_text=_("Partners' drivers may charge at our roaming sites."),
    )
    emsp_enabled = models.BooleanField(
        _("e-mobility service provider"),
        default=True,
        help_text=_("Our cards flagged for roaming may charge at partners' stations."),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RoamingProfileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id"], name="unique_roaming_party_on_platform"
            )
        ]

    def __str__(self):
        return f"{self.country_code}*{self.party_id}"

    def roles(self) -> list[str]:
        """The OCPI roles this organization plays."""
        return [
            role
            for role, enabled in (
                (OurRole.CPO, self.cpo_enabled),
                (OurRole.EMSP, self.emsp_enabled),
            )
            if enabled
        ]


class RoamingPartnerQuerySet(TenantQuerySet):
    """Roaming partners narrowed by organization."""


class RoamingPartner(models.Model):
    """An OCPI party our organization exchanges sessions with."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="roaming_partners"
    )
    name = models.CharField(_("name"), max_length=200)
    country_code = models.CharField(_("country code"), max_length=2, validators=[COUNTRY_CODE])
    party_id = models.CharField(_("party id"), max_length=3, validators=[PARTY_ID])
    role = models.CharField(
        _("role"), max_length=5, choices=PartnerRole.choices, default=PartnerRole.EMSP
    )
    versions_url = models.URLField(_("versions URL"), blank=True)
    # The token we send on every call to the partner (its token A before registration, then
    # the token B or C it gave us); sent back as is, so it cannot be stored hashed.
    credentials_token = models.CharField(_("credentials token"), max_length=255, blank=True)
    # The token the partner calls us with (our token A, then the B or C we gave it): only its
    # hash is kept, like an API key's; `incoming_token_hint` is its last characters, for humans.
    incoming_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    incoming_token_hint = models.CharField(max_length=8, blank=True)
    version = models.CharField(_("OCPI version"), max_length=10, blank=True)
    # [{"identifier": "locations", "role": "SENDER", "url": "..."}] from its version details.
    endpoints = models.JSONField(_("endpoints"), default=list, blank=True)
    # [{"role": "CPO", "country_code": "NL", "party_id": "ABC", "business_details": {...}}]
    # from its credentials: one row for a plain party, several for a hub.
    roles = models.JSONField(_("roles"), default=list, blank=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("requests per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: the platform's default (OCPI_RATE_LIMIT_PER_MINUTE)."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.PENDING
    )
    tariff = models.ForeignKey(
        "billing.Tariff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="roaming_partners",
        verbose_name=_("published tariff"),
        help_text=_(
            "The tariff published to this partner; its customers' sessions are priced by it."
        ),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = RoamingPartnerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "country_code", "party_id", "role"],
                name="unique_roaming_party_per_org",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.country_code}*{self.party_id})"

    @property
    def is_hub(self) -> bool:
        """Whether the partner routes for other parties (its credentials list several roles)."""
        return self.role == PartnerRole.HUB or len(self.roles) > 1

    def parties(self) -> set[tuple[str, str]]:
        """(country code, party id) of every party the partner speaks for."""
        parties = {(self.country_code, self.party_id)}
        for role in self.roles or []:
            if isinstance(role, dict) and role.get("country_code") and role.get("party_id"):
                parties.add((role["country_code"], role["party_id"]))
        return parties

    def endpoint(self, module: str, interface_role: str) -> str:
        """The partner's URL of a module's interface, or "" when it has none."""
        for endpoint in self.endpoints or []:
            if endpoint.get("identifier") == module and endpoint.get("role") == interface_role:
                return endpoint.get("url", "")
        return ""


class RoamingActivityQuerySet(TenantQuerySet):
    """Roaming activity narrowed by organization."""


class RoamingActivity(models.Model):
    """Daily rollup of real roaming sessions per partner, location and role."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="roaming_activity"
    )
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="activity")
    role = models.CharField(
        _("our role"), max_length=4, choices=OurRole.choices, default=OurRole.CPO
    )
    # CPO: the partner's drivers at our site. eMSP: our drivers at the partner's location.
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="roaming_activity", null=True, blank=True
    )
    location_id = models.CharField(_("location id"), max_length=36, default="")
    location_name = models.CharField(_("charging location"), max_length=255, blank=True)
    date = models.DateField(_("date"))
    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    energy_wh = models.BigIntegerField(_("energy (Wh)"), default=0)
    # CPO: what the partner owes us; eMSP: what we owe the partner (CDR totals incl. VAT).
    revenue = models.DecimalField(_("revenue"), max_digits=12, decimal_places=4, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="EUR")

    objects = RoamingActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "partner"]
        verbose_name_plural = _("roaming activity")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "role", "location_id", "date", "currency"],
                name="unique_roaming_activity_per_day",
            )
        ]

    def __str__(self):
        return f"{self.partner} {self.location_name or self.location_id} {self.date}"


class PartnerObjectQuerySet(TenantQuerySet):
    """Objects received from partners, narrowed by organization."""


class PartnerObject(models.Model):
    """An OCPI object a partner sent us: its key, the JSON as last received, when."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="+")
    country_code = models.CharField(_("country code"), max_length=2)
    party_id = models.CharField(_("party id"), max_length=3)
    ocpi_id = models.CharField(_("id"), max_length=39)
    data = models.JSONField(_("OCPI object"), default=dict)
    last_updated = models.DateTimeField(_("last updated"))
    received = models.DateTimeField(_("received"), auto_now=True)

    objects = PartnerObjectQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-last_updated"]

    def __str__(self):
        return f"{self.country_code}*{self.party_id} {self.ocpi_id}"


class RoamingToken(PartnerObject):
    """A token an eMSP partner published to us: its drivers may charge at our roaming sites."""

    uid = models.CharField(_("uid"), max_length=36, db_index=True)
    type = models.CharField(_("type"), max_length=12, choices=TokenType.choices)
    contract_id = models.CharField(_("contract id"), max_length=36)
    visual_number = models.CharField(_("visual number"), max_length=64, blank=True)
    issuer = models.CharField(_("issuer"), max_length=64)
    group_id = models.CharField(_("group id"), max_length=36, blank=True)
    valid = models.BooleanField(_("valid"), default=True)
    whitelist = models.CharField(_("whitelist"), max_length=15, choices=WhitelistType.choices)

    class Meta(PartnerObject.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "uid", "type"],
                name="unique_roaming_token",
            )
        ]


class PartnerLocation(PartnerObject):
    """A location of a CPO partner, where our drivers may charge."""

    name = models.CharField(_("name"), max_length=255, blank=True)
    address = models.CharField(_("address"), max_length=45, blank=True)
    city = models.CharField(_("city"), max_length=45, blank=True)
    country = models.CharField(_("country"), max_length=3, blank=True)

    class Meta(PartnerObject.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "ocpi_id"],
                name="unique_partner_location",
            )
        ]


class PartnerTariff(PartnerObject):
    """A tariff a CPO partner published: what our drivers pay at its stations."""

    currency = models.CharField(_("currency"), max_length=3)

    class Meta(PartnerObject.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "ocpi_id"],
                name="unique_partner_tariff",
            )
        ]


class PartnerSession(PartnerObject):
    """A session of one of our drivers at a CPO partner's station, as the partner reports it."""

    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_uid = models.CharField(_("token uid"), max_length=36, blank=True)
    location_id = models.CharField(_("location id"), max_length=36, blank=True)
    status = models.CharField(_("status"), max_length=12, blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"), null=True, blank=True)
    kwh = models.DecimalField(_("kWh"), max_digits=12, decimal_places=4, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    total_cost_incl_vat = models.DecimalField(
        _("cost incl. VAT"), max_digits=12, decimal_places=4, null=True, blank=True
    )

    class Meta(PartnerObject.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "ocpi_id"],
                name="unique_partner_session",
            )
        ]


class PartnerCdr(PartnerObject):
    """A charge detail record a CPO partner sent us: what one of our drivers' sessions cost."""

    id_token = models.ForeignKey(
        IdToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_uid = models.CharField(_("token uid"), max_length=36, blank=True)
    session_id = models.CharField(_("session id"), max_length=36, blank=True)
    location_id = models.CharField(_("location id"), max_length=36, blank=True)
    location_name = models.CharField(_("charging location"), max_length=255, blank=True)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    kwh = models.DecimalField(_("kWh"), max_digits=12, decimal_places=4, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3)
    total_cost_excl_vat = models.DecimalField(
        _("cost excl. VAT"), max_digits=12, decimal_places=4, default=Decimal(0)
    )
    total_cost_incl_vat = models.DecimalField(
        _("cost incl. VAT"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    # Reconciliation against the partner's invoice.
    reconciliation = models.CharField(
        _("reconciliation"),
        max_length=10,
        choices=ReconciliationState.choices,
        default=ReconciliationState.OPEN,
    )
    invoiced_amount = models.DecimalField(
        _("invoiced amount"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    invoice_reference = models.CharField(_("invoice reference"), max_length=64, blank=True)

    class Meta(PartnerObject.Meta):
        constraints = [
            # A CDR is never changed once sent (OCPI): a second POST of the same id is the same.
            models.UniqueConstraint(
                fields=["partner", "country_code", "party_id", "ocpi_id"],
                name="unique_partner_cdr",
            )
        ]


class RoamingCommandQuerySet(TenantQuerySet):
    """Commands exchanged with partners, narrowed by organization."""


class RoamingCommand(models.Model):
    """An OCPI command: received from an eMSP partner and carried out on a station ("in"),
    or sent by us to a CPO partner for one of our drivers ("out"); answered asynchronously."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="commands")
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INCOMING
    )
    command = models.CharField(_("command"), max_length=20, choices=CommandType.choices)
    request = models.JSONField(_("request"), default=dict)
    # In: the partner's URL our CommandResult goes to. Out: ours, where the partner posts it.
    response_url = models.URLField(_("response URL"), max_length=255)
    # Out: the partner's CommandResponse, and the seconds it said the result may take.
    response = models.JSONField(_("response"), default=dict, blank=True)
    timeout = models.PositiveIntegerField(_("timeout (s)"), null=True, blank=True)
    station = models.ForeignKey(
        ChargingStation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connector = models.ForeignKey(
        Connector, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result = models.CharField(
        _("result"),
        max_length=20,
        choices=CommandResultType.choices,
        default=CommandResultType.PENDING,
    )
    message = models.CharField(_("message"), max_length=255, blank=True)
    # In: whether the partner has our CommandResult (posted to its response URL).
    result_sent = models.BooleanField(_("result sent"), default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    completed = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = RoamingCommandQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        towards = "to" if self.direction == Direction.OUTGOING else "from"
        return f"{self.command} {towards} {self.partner} ({self.result})"


class PushQuerySet(TenantQuerySet):
    """Pushes narrowed by organization."""


class OcpiPush(models.Model):
    """An object owed to a partner's receiver: built when sent, retried with growing pauses."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="pushes")
    module = models.CharField(_("module"), max_length=20, choices=Module.choices)
    # What is pushed, in the module's terms (a site id, a session id, a CDR id, a card id).
    object_key = models.CharField(_("object"), max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=PushStatus.choices, default=PushStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = PushQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            # One push owed per object: a change while one is owed just makes that one newer.
            models.UniqueConstraint(
                fields=["partner", "module", "object_key"],
                condition=models.Q(status__in=("pending", "retrying")),
                name="one_owed_push_per_object",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="ocpipush_due")]

    def __str__(self):
        return f"{self.module} {self.object_key} → {self.partner} ({self.status})"


class ModuleSyncQuerySet(TenantQuerySet):
    """Module states narrowed by organization."""


class ModuleSync(models.Model):
    """How one OCPI module with one partner is doing: last success, last failure and why."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey(RoamingPartner, on_delete=models.CASCADE, related_name="modules")
    module = models.CharField(_("module"), max_length=20, choices=Module.choices)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent = models.PositiveIntegerField(_("requests sent"), default=0)
    received = models.PositiveIntegerField(_("requests received"), default=0)

    objects = ModuleSyncQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "module"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "module"], name="unique_module_sync")
        ]

    def __str__(self):
        return f"{self.partner} {self.module}"

    @property
    def healthy(self) -> bool:
        """Whether the last thing that happened was a success."""
        if self.last_failure_at is None:
            return True
        return self.last_success_at is not None and self.last_success_at > self.last_failure_at


class OcpiExchangeQuerySet(TenantQuerySet):
    """Exchange log rows narrowed by organization."""


class OcpiExchange(models.Model):
    """One OCPI request and its response, in or out, kept for support for a retention."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    partner = models.ForeignKey(
        RoamingPartner, on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    module = models.CharField(_("module"), max_length=20, blank=True)
    method = models.CharField(_("method"), max_length=7)
    url = models.CharField(_("URL"), max_length=500)
    request_body = models.TextField(_("request"), blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    ocpi_status = models.PositiveSmallIntegerField(_("OCPI status"), null=True, blank=True)
    response_body = models.TextField(_("response"), blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    created = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    objects = OcpiExchangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("OCPI exchange")
        indexes = [models.Index(fields=["partner", "-created"], name="ocpiexchange_partner_time")]

    def __str__(self):
        return f"{self.get_direction_display()} {self.method} {self.url} → {self.http_status}"
