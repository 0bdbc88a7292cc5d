"""Settings written as text, one per line: `Key = value` (1.6) or `Component/Variable = value`.

A 2.0.1 address is `Component[instance]@evse.connector/Variable[instance]:AttributeType`, every
part but the component and variable optional (the form models.address_label writes).
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from baselines.models import MAX_VALUE_LENGTH, address_label
from stations.models import AttributeType

NAME_LENGTH = 50
# What an EVSE or connector number column holds (PositiveIntegerField, as the API bounds it).
MAX_NUMBER = 2_147_483_647
# OCPP 1.6 ChangeConfiguration carries values of up to 500 characters.
MAX_KEY_VALUE_LENGTH = 500
_ADDRESS = re.compile(
    r"^(?:(?P<component>[^/\[\]@:=]+?)(?:\[(?P<component_instance>[^\]]*)\])?"
    r"(?:@(?P<evse_number>\d+)(?:\.(?P<connector_number>\d+))?)?/)?"
    r"(?P<variable>[^/\[\]@:=]+?)(?:\[(?P<variable_instance>[^\]]*)\])?"
    r"(?::(?P<attribute_type>\w+))?$"
)


@dataclass(frozen=True)
class ParsedSetting:
    """One setting read from a line: its address fields and the desired value."""

    address: dict
    value: str

    @property
    def label(self) -> str:
        """How the setting is written back."""
        return address_label(self.address)


class NotationError(ValueError):
    """The text has lines that do not parse; `errors` lists each as one sentence."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_address(text: str) -> dict:
    """The address fields of `Key` or `Component…/Variable…`; ValueError says what is wrong."""
    found = _ADDRESS.match(text.strip())
    if found is None:
        raise ValueError(_("“%(text)s” is not a key nor Component/Variable.") % {"text": text})
    parts = {name: (value or "").strip() for name, value in found.groupdict().items()}
    address = {
        "component": parts["component"],
        "component_instance": parts["component_instance"],
        "evse_number": int(parts["evse_number"] or 0),
        "connector_number": int(parts["connector_number"] or 0),
        "variable": parts["variable"],
        "variable_instance": parts["variable_instance"],
        "attribute_type": parts["attribute_type"] or AttributeType.ACTUAL,
    }
    validate_address(address)
    return address


def validate_address(address: dict) -> None:
    """Refuse what neither version can carry: long names, 1.6 keys with 2.0.1 parts."""
    if not address["variable"]:
        raise ValueError(_("A key or variable name is required."))
    for name in ("component", "component_instance", "variable", "variable_instance"):
        if len(address[name]) > NAME_LENGTH:
            raise ValueError(
                _("“%(text)s” is longer than %(n)d characters.")
                % {"text": address[name], "n": NAME_LENGTH}
            )
    for name in ("evse_number", "connector_number"):
        if address[name] > MAX_NUMBER:
            raise ValueError(
                _("EVSE and connector numbers go up to %(max)d.") % {"max": MAX_NUMBER}
            )
    if address["attribute_type"] not in AttributeType.values:
        raise ValueError(
            _("Unknown attribute type “%(type)s” (%(types)s).")
            % {"type": address["attribute_type"], "types": ", ".join(AttributeType.values)}
        )
    if not address["component"] and (
        address["component_instance"]
        or address["variable_instance"]
        or address["evse_number"]
        or address["connector_number"]
        or address["attribute_type"] != AttributeType.ACTUAL
    ):
        raise ValueError(_("An OCPP 1.6 key has no instance, EVSE or attribute type."))
    if address["connector_number"] and not address["evse_number"]:
        raise ValueError(_("A connector is numbered on its EVSE: give the EVSE too."))


def parse_settings(text: str) -> list[ParsedSetting]:
    """The settings of the text; NotationError lists every line that is wrong."""
    settings, errors, seen = [], [], {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if not equals:
            errors.append(_("Line %(n)d: write “key = value”.") % {"n": number})
            continue
        try:
            address = parse_address(name)
        except ValueError as error:
            errors.append(_("Line %(n)d: %(error)s") % {"n": number, "error": error})
            continue
        value = value.strip()
        # A 1.6 key's value travels in ChangeConfiguration: its limit, as the API applies it.
        limit = MAX_VALUE_LENGTH if address["component"] else MAX_KEY_VALUE_LENGTH
        if len(value) > limit:
            errors.append(
                _("Line %(n)d: the value is longer than %(max)d characters.")
                % {"n": number, "max": limit}
            )
            continue
        key = tuple(address.values())
        if key in seen:
            errors.append(
                _("Line %(n)d: %(key)s is already set on line %(first)d.")
                % {"n": number, "key": address_label(address), "first": seen[key]}
            )
            continue
        seen[key] = number
        settings.append(ParsedSetting(address, value))
    if errors:
        raise NotationError(errors)
    return settings


def settings_text(settings) -> str:
    """Settings (objects with `label` and `value`) written one per line."""
    return "\n".join(f"{setting.label} = {setting.value}" for setting in settings)
