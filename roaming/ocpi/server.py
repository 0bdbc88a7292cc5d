"""The base of every OCPI endpoint we serve: partner token, rate limit, envelope, log, paging.

A view names its `module`; its handler methods (`get`, `put`, …) return data (or an `Answer`)
and raise `OcpiError` for a refusal. The partner is found by the hash of its token, within the
organization of the URL; an unknown or badly encoded token answers 401 so that the client can
retry with the other encoding. Every exchange is kept in `OcpiExchange` for support.
"""

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from organizations.models import Organization
from roaming import logbook
from roaming.choices import Direction, PartnerStatus
from roaming.models import RoamingPartner, RoamingProfile
from roaming.ocpi import tokens
from roaming.ocpi.status import (
    CLIENT_ERROR,
    SERVER_ERROR,
    SUCCESS,
    OcpiError,
    OcpiJSONEncoder,
    envelope,
    invalid,
)

logger = logging.getLogger(__name__)

UNKNOWN_TOKEN_MESSAGE = "Unknown token, or not encoded as this version expects."


@dataclass
class Answer:
    """What a handler answers when it needs more than data: status, message, headers."""

    data: object = None
    status_code: int = SUCCESS
    message: str = "Success"
    http_status: int = 200
    headers: dict = field(default_factory=dict)


class OcpiResponse(JsonResponse):
    """An OCPI answer whose exchange is logged once it has been sent, not before."""

    # The log write may wait for a database lock (on SQLite, any writer's, e.g. the gateway's
    # batch that is asking us this very question over HTTP); the partner's answer must not.
    exchange = None

    def close(self):
        try:
            if self.exchange is not None:
                record, self.exchange = self.exchange, None
                record()
        finally:
            super().close()


@method_decorator(csrf_exempt, name="dispatch")
class OcpiView(View):
    """An OCPI endpoint of one organization, called by a registered partner."""

    module = ""
    # Credentials and versions are reachable with token A, before the partner is registered.
    allow_unregistered = False
    http_method_names = ["get", "post", "put", "patch", "delete"]

    organization: Organization
    partner: RoamingPartner
    profile: RoamingProfile | None
    token: str
    body: object

    def dispatch(self, request, *args, **kwargs):
        started = time.monotonic()
        self.partner = None
        self.organization = None
        try:
            answer = self._answer(request, *args, **kwargs)
        except OcpiError as refusal:
            answer = Answer(refusal.data, refusal.status_code, refusal.message, refusal.http_status)
        except Exception:
            logger.exception("OCPI %s %s failed", request.method, request.path)
            answer = Answer(None, SERVER_ERROR, "Internal error.", 500)
        body = envelope(answer.data, answer.status_code, answer.message)
        response = OcpiResponse(body, encoder=OcpiJSONEncoder, status=answer.http_status)
        for name, value in answer.headers.items():
            response[name] = value
        for name in ("X-Request-ID", "X-Correlation-ID"):
            if request.headers.get(name):
                response[name] = request.headers[name][:36]
        response.exchange = partial(
            logbook.record,
            organization=self.organization,
            partner=self.partner,
            direction=Direction.INCOMING,
            module=self.module,
            method=request.method,
            url=request.get_full_path(),
            request_body=request.body.decode(errors="replace") if request.body else "",
            http_status=answer.http_status,
            ocpi_status=answer.status_code,
            response_body=response.content.decode(errors="replace"),
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return response

    def _answer(self, request, *args, **kwargs) -> Answer:
        handler = getattr(self, request.method.lower(), None)
        if request.method.lower() not in self.http_method_names or handler is None:
            raise OcpiError(CLIENT_ERROR, "Method not allowed here.", http_status=405)
        self.organization = Organization.objects.filter(slug=kwargs.pop("org", "")).first()
        self.partner = self._authenticate(request)
        self.profile = RoamingProfile.objects.filter(organization=self.organization).first()
        self._limit_rate()
        self.body = self._json(request)
        result = handler(request, *args, **kwargs)
        return result if isinstance(result, Answer) else Answer(result)

    def _authenticate(self, request) -> RoamingPartner:
        if self.organization is None:
            raise OcpiError(CLIENT_ERROR, UNKNOWN_TOKEN_MESSAGE, http_status=401)
        header = request.headers.get("Authorization", "")
        for candidate in tokens.candidates(header):
            partner = (
                RoamingPartner.objects.filter(
                    organization=self.organization, incoming_token_hash=tokens.token_hash(candidate)
                )
                .select_related("organization", "tariff")
                .first()
            )
            if partner is not None:
                self.token = candidate
                break
        else:
            raise OcpiError(CLIENT_ERROR, UNKNOWN_TOKEN_MESSAGE, http_status=401)
        self.partner = partner
        if partner.status == PartnerStatus.SUSPENDED:
            raise OcpiError(CLIENT_ERROR, "This partnership is suspended.", http_status=403)
        if partner.status != PartnerStatus.ACTIVE and not self.allow_unregistered:
            raise OcpiError(
                CLIENT_ERROR, "Register with the credentials module first.", http_status=403
            )
        return partner

    def _limit_rate(self) -> None:
        limit = self.partner.rate_limit_per_minute or settings.OCPI_RATE_LIMIT_PER_MINUTE
        if not limit:
            return
        window = int(time.time() // 60)
        key = f"ocpi-rate:{self.partner.pk}:{window}"
        # add() then incr(): atomic in Redis and in the local-memory cache alike.
        cache.add(key, 0, timeout=120)
        try:
            used = cache.incr(key)
        except ValueError:
            used = 1
        if used > limit:
            raise OcpiError(
                CLIENT_ERROR,
                f"Rate limit of {limit} requests per minute exceeded; retry in a minute.",
                http_status=429,
                data=None,
            )

    def _json(self, request):
        if request.method in ("GET", "DELETE") or not request.body:
            return None
        try:
            return json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise invalid("The body is not valid JSON.") from None

    # --- helpers for handlers ---------------------------------------------------------------

    def require_party(self, country_code: str, party_id: str) -> None:
        """Refuse an object of a party the partner does not speak for (partner isolation)."""
        # CiString: parties compare case-insensitively.
        if (country_code.upper(), party_id.upper()) not in self.partner.parties():
            raise OcpiError(
                CLIENT_ERROR,
                f"Party {country_code}*{party_id} is not one of yours.",
                http_status=403,
            )

    def own_party(self) -> tuple[str, str]:
        """Our organization's (country code, party id); refuses when roaming is not set up."""
        if self.profile is None:
            raise OcpiError(SERVER_ERROR, "Roaming is not set up for this party.", http_status=404)
        return self.profile.country_code, self.profile.party_id


# --- pagination of GET list endpoints ----------------------------------------------------------


def _moment(request, name: str) -> datetime | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    moment = parse_datetime(raw.strip())
    if moment is None:
        raise invalid(f"{name} must be an RFC 3339 date and time.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment


def _whole(request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise invalid(f"{name} must be a whole number of at least 0.")
    value = int(raw)
    return min(value, maximum) if maximum is not None else value


def paginate(request, queryset, serialize, *, date_field: str = "last_updated") -> Answer:
    """One page of a list: date_from (inclusive) / date_to (exclusive), offset, limit, Link."""
    date_from, date_to = _moment(request, "date_from"), _moment(request, "date_to")
    if date_from is not None:
        queryset = queryset.filter(**{f"{date_field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{date_field}__lt": date_to})
    maximum = settings.OCPI_PAGE_LIMIT
    offset = _whole(request, "offset", 0)
    limit = _whole(request, "limit", maximum, maximum) or maximum
    total = queryset.count()
    rows = list(queryset[offset : offset + limit])
    headers = {"X-Total-Count": str(total), "X-Limit": str(maximum)}
    if offset + limit < total:
        params = {
            key: value for key, value in request.GET.items() if key not in ("offset", "limit")
        }
        params.update(offset=offset + limit, limit=limit)
        url = request.build_absolute_uri(request.path) + "?" + urlencode(params)
        headers["Link"] = f'<{url}>; rel="next"'
    return Answer([serialize(row) for row in rows], headers=headers)
