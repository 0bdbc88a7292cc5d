"""OCPP-J errors; raising one from a handler answers the CALL with that CallError."""


class OcppError(Exception):
    """A CallError to send back: `code` is an OCPP-J error code."""

    code = "GenericError"

    def __init__(self, description: str = "", details: dict | None = None):
        super().__init__(description)
        self.description = description[:255]
        self.details = details or {}


class FormationViolation(OcppError):
    code = "FormationViolation"


class ProtocolError(OcppError):
    code = "ProtocolError"


class NotImplementedByCsms(OcppError):
    code = "NotImplemented"


class NotSupported(OcppError):
    code = "NotSupported"


class PropertyConstraintViolation(OcppError):
    code = "PropertyConstraintViolation"


class OccurrenceConstraintViolation(OcppError):
    code = "OccurrenceConstraintViolation"


class TypeConstraintViolation(OcppError):
    code = "TypeConstraintViolation"


class SecurityError(OcppError):
    code = "SecurityError"


class InternalError(OcppError):
    code = "InternalError"
