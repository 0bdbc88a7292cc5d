"""Routes of OCPI 2.2.1, under /ocpi/<org>/2.2.1/: the paths version details lists."""

from django.urls import include, path

from roaming.ocpi.v221 import credentials
from roaming.ocpi.v221.cpo import cdrs as cpo_cdrs
from roaming.ocpi.v221.cpo import commands as cpo_commands
from roaming.ocpi.v221.cpo import locations as cpo_locations
from roaming.ocpi.v221.cpo import sessions as cpo_sessions
from roaming.ocpi.v221.cpo import tariffs as cpo_tariffs
from roaming.ocpi.v221.cpo import tokens as cpo_tokens
from roaming.ocpi.v221.emsp import cdrs as emsp_cdrs
from roaming.ocpi.v221.emsp import commands as emsp_commands
from roaming.ocpi.v221.emsp import locations as emsp_locations
from roaming.ocpi.v221.emsp import sessions as emsp_sessions
from roaming.ocpi.v221.emsp import tariffs as emsp_tariffs
from roaming.ocpi.v221.emsp import tokens as emsp_tokens

urlpatterns = [
    path("credentials/", credentials.CredentialsView.as_view(), name="credentials"),
    path("cpo/locations/", include(cpo_locations.urlpatterns)),
    path("cpo/sessions/", include(cpo_sessions.urlpatterns)),
    path("cpo/cdrs/", include(cpo_cdrs.urlpatterns)),
    path("cpo/tariffs/", include(cpo_tariffs.urlpatterns)),
    path("cpo/tokens/", include(cpo_tokens.urlpatterns)),
    path("cpo/commands/", include(cpo_commands.urlpatterns)),
    path("emsp/locations/", include(emsp_locations.urlpatterns)),
    path("emsp/sessions/", include(emsp_sessions.urlpatterns)),
    path("emsp/cdrs/", include(emsp_cdrs.urlpatterns)),
    path("emsp/tariffs/", include(emsp_tariffs.urlpatterns)),
    path("emsp/tokens/", include(emsp_tokens.urlpatterns)),
    path("emsp/commands/", include(emsp_commands.urlpatterns)),
]
