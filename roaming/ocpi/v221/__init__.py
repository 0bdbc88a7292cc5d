"""OCPI 2.2.1: the modules we serve and call (`cpo/` for our CPO role, `emsp/` for our eMSP role).

`ENDPOINTS` is what version details lists: (module, interface role, our role, path under the
version's URL). `urls.py` routes the same paths to each module's views.
"""

from roaming.choices import InterfaceRole, Module, OurRole

VERSION = "2.2.1"

ENDPOINTS = (
    (Module.CREDENTIALS, InterfaceRole.SENDER, None, "credentials/"),
    (Module.CREDENTIALS, InterfaceRole.RECEIVER, None, "credentials/"),
    (Module.LOCATIONS, InterfaceRole.SENDER, OurRole.CPO, "cpo/locations/"),
    (Module.SESSIONS, InterfaceRole.SENDER, OurRole.CPO, "cpo/sessions/"),
    (Module.CDRS, InterfaceRole.SENDER, OurRole.CPO, "cpo/cdrs/"),
    (Module.TARIFFS, InterfaceRole.SENDER, OurRole.CPO, "cpo/tariffs/"),
    (Module.TOKENS, InterfaceRole.RECEIVER, OurRole.CPO, "cpo/tokens/"),
    (Module.COMMANDS, InterfaceRole.RECEIVER, OurRole.CPO, "cpo/commands/"),
    (Module.LOCATIONS, InterfaceRole.RECEIVER, OurRole.EMSP, "emsp/locations/"),
    (Module.SESSIONS, InterfaceRole.RECEIVER, OurRole.EMSP, "emsp/sessions/"),
    (Module.CDRS, InterfaceRole.RECEIVER, OurRole.EMSP, "emsp/cdrs/"),
    (Module.TARIFFS, InterfaceRole.RECEIVER, OurRole.EMSP, "emsp/tariffs/"),
    (Module.TOKENS, InterfaceRole.SENDER, OurRole.EMSP, "emsp/tokens/"),
    (Module.COMMANDS, InterfaceRole.SENDER, OurRole.EMSP, "emsp/commands/"),
)
