"""Organization API keys: `Authorization: Api-Key <key>` for machine clients."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from organizations.models import OrganizationAPIKey

KEYWORD = "Api-Key"
# Recording every request's time would turn each read into a write; a minute is precise enough
# to tell a key in use from a forgotten one.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class APIKeyPrincipal:
    """The `request.user` of a request made with an organization API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: OrganizationAPIKey):
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self):
        return f"API key {self.api_key.name} ({self.api_key.prefix})"


def api_key_of(user) -> OrganizationAPIKey | None:
    """The API key a request authenticated with, or None for a person."""
    return getattr(user, "api_key", None)


def record_use(api_key: OrganizationAPIKey) -> None:
    """Remember when the key was last used, at most one write a minute."""
    now = timezone.now()
    if api_key.last_used is None or now - api_key.last_used >= LAST_USED_RESOLUTION:
        OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used=now)
        api_key.last_used = now


class OrganizationAPIKeyAuthentication(BaseAuthentication):
    """Authenticates `Authorization: Api-Key <key>` against the stored hashes."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Invalid API key header: use 'Api-Key <key>'."))
        key = parts[1].decode("latin-1")
        try:
            api_key = OrganizationAPIKey.objects.get_from_key(key)
        except OrganizationAPIKey.DoesNotExist:
            raise AuthenticationFailed(_("Invalid or revoked API key.")) from None
        if api_key.has_expired:
            raise AuthenticationFailed(_("The API key has expired."))
        record_use(api_key)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return KEYWORD


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    """The API key scheme in the OpenAPI schema."""

    target_class = OrganizationAPIKeyAuthentication
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organization API key: `Api-Key <key>`.",
        }
