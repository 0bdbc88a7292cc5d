"""OCPI 2.2.1 versions, version details and credentials: how partners register with us."""

from roaming.choices import Module, PartnerStatus
from roaming.ocpi import registration, v221
from roaming.ocpi.server import OcpiView
from roaming.ocpi.status import CLIENT_ERROR, UNSUPPORTED_VERSION, OcpiError


class VersionsView(OcpiView):
    """GET: the OCPI versions we speak and where their details are."""

    module = Module.CREDENTIALS
    allow_unregistered = True
    http_method_names = ["get"]

    def get(self, request):
        return [
            {
                "version": v221.VERSION,
                "url": registration.version_url(self.organization, v221.VERSION),
            }
        ]


class VersionDetailsView(OcpiView):
    """GET: the endpoints of one version, for the roles our organization plays."""

    module = Module.CREDENTIALS
    allow_unregistered = True
    http_method_names = ["get"]

    def get(self, request, version):
        if version != v221.VERSION:
            raise OcpiError(
                UNSUPPORTED_VERSION, f"Version {version} is not supported.", http_status=404
            )
        base = registration.version_url(self.organization, version)
        roles = self.profile.roles() if self.profile is not None else []
        return {
            "version": version,
            "endpoints": [
                {"identifier": module, "role": role, "url": base + path}
                for module, role, ours, path in v221.ENDPOINTS
                if ours is None or ours in roles
            ],
        }


class CredentialsView(OcpiView):
    """GET our credentials; POST/PUT register or update the partner; DELETE unregisters it."""

    module = Module.CREDENTIALS
    allow_unregistered = True

    def get(self, request):
        self._registered()
        # The token the partner called with is the one it holds (OCPI: GET returns it).
        return registration.our_credentials(registration.profile_of(self.organization), self.token)

    def post(self, request):
        return self._register(update=False)

    def put(self, request):
        return self._register(update=True)

    def delete(self, request):
        self._registered()
        registration.partner_unregistered(self.partner)
        return None

    def _register(self, *, update: bool):
        try:
            registration.profile_of(self.organization)
        except registration.RegistrationError as missing:
            raise OcpiError(CLIENT_ERROR, missing.message, http_status=404) from None
        return registration.accept_registration(self.partner, self.body, update=update)

    def _registered(self) -> None:
        if self.partner.status != PartnerStatus.ACTIVE:
            raise OcpiError(CLIENT_ERROR, "Not registered.", http_status=405)
