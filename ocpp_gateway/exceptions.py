"""OCPP-J errors; raising one from a handler answers the CALL with that CallError."""


class OcppError(Exception):
    """A CallError to send back: `code` is an OCPP-J error code."""

    code = "GenericError"

    def __init__(self, description: str = "", details: dict | None = None):
        super().__init__(description)
        self.description = description[:255]
        self.details = details or {}


class FormationViolation(OcppError):
    # OCPP-J 2.0.1's name; 1.6 calls it FormationViolation (versions.Version.error_spelling).
    code = "FormatViolation"


class ProtocolError(OcppError):
    code = "ProtocolError"


class MessageTypeNotSupported(OcppError):
    # 2.0.1's code for an unknown message type number; 1.6 has none and says ProtocolError.
    code = "MessageTypeNotSupported"


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
