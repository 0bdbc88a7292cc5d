"""OCPI status codes, the response envelope and the error a handler raises."""

import json
from datetime import UTC
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

SUCCESS = 1000
CLIENT_ERROR = 2000
INVALID_PARAMETERS = 2001
NOT_ENOUGH_INFORMATION = 2002
UNKNOWN_LOCATION = 2003
UNKNOWN_TOKEN = 2004
SERVER_ERROR = 3000
UNABLE_TO_USE_CLIENT_API = 3001
UNSUPPORTED_VERSION = 3002
NO_MATCHING_ENDPOINTS = 3003
UNKNOWN_RECEIVER = 4001


class OcpiError(Exception):
    """A request we refuse: the OCPI status code, a message for the partner, the HTTP status."""

    def __init__(self, status_code: int, message: str, *, http_status: int = 400, data=None):
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.http_status = http_status
        self.data = data


def invalid(message: str, data=None) -> OcpiError:
    """2001: the request's parameters or body are not what OCPI 2.2.1 allows."""
    return OcpiError(INVALID_PARAMETERS, message, data=data)


def not_found(status_code: int, message: str) -> OcpiError:
    """An object the partner asked for that does not exist (for it): HTTP 404."""
    return OcpiError(status_code, message, http_status=404)


def ocpi_timestamp(moment=None) -> str:
    """An OCPI DateTime: UTC, whole seconds, `Z`."""
    return (moment or timezone.now()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(data=None, status_code: int = SUCCESS, message: str = "Success") -> dict:
    """The response every OCPI endpoint answers with."""
    body = {"status_code": status_code, "status_message": message, "timestamp": ocpi_timestamp()}
    if data is not None:
        body["data"] = data
    return body


class OcpiJSONEncoder(DjangoJSONEncoder):
    """JSON as OCPI wants it: amounts and volumes are numbers, not strings."""

    def default(self, o):
        if isinstance(o, Decimal):
            # The shortest float that reads back as the same value: exact for 4-decimal money.
            return float(o)
        return super().default(o)


def dumps(data) -> str:
    """An OCPI body as text."""
    return json.dumps(data, cls=OcpiJSONEncoder)
