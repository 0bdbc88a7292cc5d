"""OCPP JSON-schema validation, compiled once per action with jsonschema-rs."""

import json
from functools import cache
from pathlib import Path

import jsonschema_rs
import ocpp

from ocpp_gateway.exceptions import (
    FormationViolation,
    NotImplementedByCsms,
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
    TypeConstraintViolation,
)

SCHEMA_DIRS = {
    "ocpp1.6": Path(ocpp.__file__).parent / "v16" / "schemas",
    "ocpp2.0.1": Path(ocpp.__file__).parent / "v201" / "schemas",
    "ocpp2.1": Path(ocpp.__file__).parent / "v21" / "schemas",
}

# How a schema failure maps onto the OCPP-J error codes (OCPP-J 1.6 section 4.2.3).
_ERROR_BY_KIND = {
    "Type": TypeConstraintViolation,
    "MaxLength": TypeConstraintViolation,
    "Required": OccurrenceConstraintViolation,
    "MinItems": OccurrenceConstraintViolation,
    "MaxItems": OccurrenceConstraintViolation,
    "Enum": PropertyConstraintViolation,
    "Minimum": PropertyConstraintViolation,
    "Maximum": PropertyConstraintViolation,
    "ExclusiveMinimum": PropertyConstraintViolation,
    "ExclusiveMaximum": PropertyConstraintViolation,
    "MultipleOf": PropertyConstraintViolation,
    "Format": PropertyConstraintViolation,
    "Pattern": PropertyConstraintViolation,
    "MinLength": PropertyConstraintViolation,
}


# 1.6 names a request's schema after the action alone, 2.0.1 and 2.1 add "Request".
_REQUEST_SUFFIX = {"ocpp1.6": ""}


def _schema_file(version: str, action: str, response: bool) -> Path:
    suffix = "Response" if response else _REQUEST_SUFFIX.get(version, "Request")
    return SCHEMA_DIRS[version] / f"{action}{suffix}.json"


@cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version's schemas define."""
    return frozenset(
        p.stem.removesuffix("Request")
        for p in SCHEMA_DIRS[version].glob("*.json")
        if not p.stem.endswith("Response")
    )


@cache
def _validator(version: str, action: str, response: bool):
    path = _schema_file(version, action, response)
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    # The 2.0.1 files carry a $id that some validators try to resolve; drop it.
    schema.pop("$id", None)
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def validate(version: str, action: str, payload: dict, *, response: bool = False) -> None:
    """Raise the OCPP error for the first schema failure of `payload`, if any."""
    validator = _validator(version, action, response)
    if validator is None:
        raise NotImplementedByCsms(f"Unknown action {action!r} for {version}")
    try:
        if validator.is_valid(payload):
            return
        error = next(iter(validator.iter_errors(payload)))
    except (ValueError, RecursionError) as exc:
        # The validator refuses values it cannot walk (nesting past its recursion limit): a
        # malformed payload like any other, never an exception that ends the connection.
        raise FormationViolation(f"payload: {exc}") from None
    kind = type(error.kind).__name__
    where = "/".join(str(p) for p in error.instance_path) or "payload"
    raise _ERROR_BY_KIND.get(kind, FormationViolation)(f"{where}: {error.message}")


def warm_up(version: str = "ocpp1.6") -> None:
    """Compile every schema of a version now rather than on the first message."""
    for action in known_actions(version):
        _validator(version, action, False)
        _validator(version, action, True)
