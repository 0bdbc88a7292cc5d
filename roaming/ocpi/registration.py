"""Roaming writes: registering with partners (OCPI credentials), token rotation, unregistering."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from roaming.choices import InterfaceRole, Module, PartnerRole, PartnerStatus
from roaming.models import RoamingPartner, RoamingProfile
from roaming.ocpi import tokens, versions
from roaming.ocpi.client import OcpiClient, PartnerError
from roaming.ocpi.status import CLIENT_ERROR, UNSUPPORTED_VERSION, OcpiError, invalid

HUB = PartnerRole.HUB


class RegistrationError(Exception):
    """Registering with a partner failed; `message` says why in the partner's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def versions_url(organization) -> str:
    """The URL partners read our OCPI versions from."""
    path = reverse("ocpi:versions", kwargs={"org": organization.slug})
    return settings.OCPI_BASE_URL + path


def version_url(organization, version: str) -> str:
    """The URL of one version's details."""
    path = reverse("ocpi:version", kwargs={"org": organization.slug, "version": version})
    return settings.OCPI_BASE_URL + path


def our_credentials(profile: RoamingProfile, token: str) -> dict:
    """Our Credentials object: the token the partner calls us with, our URL, our roles."""
    business = {"name": profile.name or profile.organization.name}
    if profile.website:
        business["website"] = profile.website
    return {
        "token": token,
        "url": versions_url(profile.organization),
        "roles": [
            {
                "role": role,
                "party_id": profile.party_id,
                "country_code": profile.country_code,
                "business_details": business,
            }
            for role in profile.roles()
        ],
    }


def profile_of(organization) -> RoamingProfile:
    """The organization's OCPI identity; registration needs one."""
    profile = RoamingProfile.objects.filter(organization=organization).first()
    if profile is None:
        raise RegistrationError("Set up the organization's roaming party (country and party id).")
    return profile


def _give_token(partner: RoamingPartner) -> str:
    """A new token for the partner to call us with; only its hash is kept."""
    token = tokens.new_token()
    partner.incoming_token_hash = tokens.token_hash(token)
    partner.incoming_token_hint = token[-4:]
    return token


def issue_token_a(partner: RoamingPartner) -> str:
    """A token A the partner registers with (shown once); it replaces any earlier token."""
    token = _give_token(partner)
    if partner.status != PartnerStatus.ACTIVE:
        partner.status = PartnerStatus.PENDING
    partner.save(update_fields=["incoming_token_hash", "incoming_token_hint", "status", "updated"])
    return token


def discover(partner: RoamingPartner, url: str, token: str) -> tuple[str, list[dict]]:
    """The newest version we share with the partner and its endpoints, read from its URL."""
    client = OcpiClient(partner, token=token)
    offered = client.request("GET", url, module=Module.CREDENTIALS).data
    version, details_url = versions.choose(offered if isinstance(offered, list) else [])
    if not version:
        raise PartnerError("The partner offers no OCPI version we speak (we speak 2.2.1).")
    details = client.request("GET", details_url, module=Module.CREDENTIALS).data or {}
    endpoints = [
        {"identifier": e.get("identifier"), "role": e.get("role"), "url": e.get("url")}
        for e in details.get("endpoints", [])
        if isinstance(e, dict) and isinstance(e.get("url"), str)
    ]
    return version, endpoints


def connect(partner: RoamingPartner, *, url: str, token_a: str) -> RoamingPartner:
    """Register with a partner that gave us its versions URL and a token A (we start)."""
    profile = profile_of(partner.organization)
    try:
        version, endpoints = discover(partner, url, token_a)
        credentials_url = _endpoint_in(endpoints, Module.CREDENTIALS)
        token_b = _give_token(partner)
        # Saved before the call: the partner calls us back with token B while answering.
        partner.versions_url, partner.version, partner.endpoints = url, version, endpoints
        partner.save()
        answer = (
            OcpiClient(partner, token=token_a)
            .request(
                "POST",
                credentials_url,
                module=Module.CREDENTIALS,
                body=our_credentials(profile, token_b),
            )
            .data
        )
    except PartnerError as failure:
        _fail(partner, failure.message)
        raise RegistrationError(failure.message) from None
    _accept_their_credentials(partner, answer, keep_url=True)
    return partner


def rotate(partner: RoamingPartner) -> RoamingPartner:
    """Give the partner a new token to call us with and take its new one (PUT credentials)."""
    profile = profile_of(partner.organization)
    url = partner.endpoint(Module.CREDENTIALS, InterfaceRole.RECEIVER) or partner.endpoint(
        Module.CREDENTIALS, InterfaceRole.SENDER
    )
    old_hash, old_hint = partner.incoming_token_hash, partner.incoming_token_hint
    token = _give_token(partner)
    # Both tokens must work while the partner answers: it may call us with the new one at once.
    # The old one is forgotten once the partner has answered.
    partner.save(update_fields=["incoming_token_hash", "incoming_token_hint", "updated"])
    try:
        answer = (
            OcpiClient(partner)
            .request("PUT", url, module=Module.CREDENTIALS, body=our_credentials(profile, token))
            .data
        )
    except PartnerError as failure:
        partner.incoming_token_hash, partner.incoming_token_hint = old_hash, old_hint
        partner.save(update_fields=["incoming_token_hash", "incoming_token_hint", "updated"])
        _fail(partner, failure.message)
        raise RegistrationError(failure.message) from None
    _accept_their_credentials(partner, answer, keep_url=False)
    return partner


def unregister(partner: RoamingPartner, *, tell_partner: bool = True) -> RoamingPartner:
    """End the registration: tell the partner (DELETE credentials), then forget both tokens."""
    url = partner.endpoint(Module.CREDENTIALS, InterfaceRole.RECEIVER) or partner.endpoint(
        Module.CREDENTIALS, InterfaceRole.SENDER
    )
    if tell_partner and url and partner.credentials_token:
        try:
            OcpiClient(partner).request("DELETE", url, module=Module.CREDENTIALS)
        except PartnerError as failure:
            # Forgotten here whatever it answered: our side no longer accepts its token.
            _fail(partner, failure.message)
    partner.credentials_token = ""
    partner.incoming_token_hash = None
    partner.incoming_token_hint = ""
    partner.status = PartnerStatus.PENDING
    partner.registered_at = None
    partner.save()
    return partner


# --- the partner starts: its POST/PUT/DELETE on our credentials endpoint ---------------------


def accept_registration(partner: RoamingPartner, credentials, *, update: bool) -> dict:
    """A partner's credentials (POST or PUT): read its endpoints, answer with our new token."""
    profile = profile_of(partner.organization)
    _check_credentials(partner, credentials)
    _check_registered(partner, update=update)
    # Read outside any transaction: the partner may take OCPI_TIMEOUT to answer, and while a
    # transaction waits no writer gets through on SQLite (a partner hosted here included).
    try:
        version, endpoints = discover(partner, credentials["url"], credentials["token"])
    except PartnerError as failure:
        _fail(partner, failure.message)
        raise OcpiError(
            UNSUPPORTED_VERSION if "version" in failure.message else 3001,
            f"Could not read your versions: {failure.message}",
        ) from None
    with transaction.atomic():
        # Checked again under the row's lock: a second POST may have registered meanwhile.
        partner.status = (
            RoamingPartner.objects.select_for_update().values_list("status", flat=True)
        ).get(pk=partner.pk)
        _check_registered(partner, update=update)
        token_c = _give_token(partner)
        partner.credentials_token = credentials["token"]
        partner.versions_url = credentials["url"]
        partner.version, partner.endpoints = version, endpoints
        _take_roles(partner, credentials["roles"])
        partner.save()
    return our_credentials(profile, token_c)


def _check_registered(partner: RoamingPartner, *, update: bool) -> None:
    if update and partner.status != PartnerStatus.ACTIVE:
        raise OcpiError(
            CLIENT_ERROR, "Not registered: POST your credentials first.", http_status=405
        )
    if not update and partner.status == PartnerStatus.ACTIVE:
        raise OcpiError(CLIENT_ERROR, "Already registered: PUT to update.", http_status=405)


def partner_unregistered(partner: RoamingPartner) -> None:
    """The partner deleted its registration: neither side's token works any more."""
    unregister(partner, tell_partner=False)


def _check_credentials(partner: RoamingPartner, credentials) -> None:
    if not isinstance(credentials, dict):
        raise invalid("The body must be a Credentials object.")
    token, url, roles = credentials.get("token"), credentials.get("url"), credentials.get("roles")
    problems = []
    if not isinstance(token, str) or not 1 <= len(token) <= 64:
        problems.append("token: a string of 1 to 64 characters is required.")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        problems.append("url: the URL of your versions endpoint is required.")
    if not isinstance(roles, list) or not roles:
        problems.append("roles: at least one CredentialsRole is required.")
    else:
        for index, role in enumerate(roles):
            if not isinstance(role, dict) or not all(
                isinstance(role.get(key), str) for key in ("role", "party_id", "country_code")
            ):
                problems.append(f"roles[{index}]: role, party_id and country_code are required.")
            elif not isinstance(role.get("business_details"), dict):
                problems.append(f"roles[{index}].business_details: required.")
    if problems:
        raise invalid(" ".join(problems))
    # CiString: a partner may write its party in lower case (OCPI compares case-insensitively).
    parties = {(role["country_code"].upper(), role["party_id"].upper()) for role in roles}
    if (partner.country_code, partner.party_id) not in parties and not any(
        role["role"] == HUB for role in roles
    ):
        raise OcpiError(
            CLIENT_ERROR,
            f"These credentials were issued to {partner.country_code}*{partner.party_id}.",
            http_status=403,
        )


def _take_roles(partner: RoamingPartner, roles: list) -> None:
    partner.roles = [
        {
            "role": role.get("role"),
            "country_code": str(role.get("country_code", "")).upper(),
            "party_id": str(role.get("party_id", "")).upper(),
            "business_details": role.get("business_details") or {},
        }
        for role in roles
        if isinstance(role, dict)
    ]
    if any(role["role"] == HUB for role in partner.roles):
        partner.role = HUB
    partner.status = PartnerStatus.ACTIVE
    partner.registered_at = timezone.now()
    partner.last_error = ""


def _accept_their_credentials(partner: RoamingPartner, answer, *, keep_url: bool) -> None:
    try:
        _check_credentials(partner, answer)
    except OcpiError as wrong:
        _fail(partner, f"The partner's credentials: {wrong.message}")
        raise RegistrationError(wrong.message) from None
    with transaction.atomic():
        partner.credentials_token = answer["token"]
        if not keep_url:
            partner.versions_url = answer["url"]
        _take_roles(partner, answer["roles"])
        partner.save()


def _endpoint_in(endpoints: list[dict], module: str) -> str:
    for role in (InterfaceRole.RECEIVER, InterfaceRole.SENDER):
        for endpoint in endpoints:
            if endpoint["identifier"] == module and endpoint["role"] == role:
                return endpoint["url"]
    raise PartnerError("The partner lists no credentials endpoint.")


def _fail(partner: RoamingPartner, message: str) -> None:
    partner.last_error = message[:2000]
    partner.last_error_at = timezone.now()
    if partner.pk:
        RoamingPartner.objects.filter(pk=partner.pk).update(
            last_error=partner.last_error, last_error_at=partner.last_error_at
        )
