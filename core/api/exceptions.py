"""API errors that DRF has no class for, and the handler that keeps every error JSON."""

import logging

import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# What a 503 asks a client to wait before trying again.
RETRY_AFTER_SECONDS = 10


class Conflict(APIException):
    """409: the request is valid but the resource's current state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class ServiceUnavailable(APIException):
    """503: a service the request needs (Redis, the database) is unreachable for now."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("A service this request needs is unavailable; try again shortly.")
    default_code = "service_unavailable"


# Errors that mean "a backing service is away", not "this request is wrong": the cache and
# throttles (Redis cache), the channel layer (commands) and the database connection.
_OUTAGES = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
    OperationalError,
    InterfaceError,
)


def exception_handler(exc, context):
    """DRF's handler, with outages of Redis or the database answered as a JSON 503."""
    if isinstance(exc, _OUTAGES):
        logger.exception("API request failed on an unreachable service")
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, ServiceUnavailable):
        # Clients and proxies may retry once the outage is over, not at once in a loop.
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
