"""Calls to a partner's OCPI endpoints: token, routing headers, envelope, log, paging."""

import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urljoin

import requests
from django.conf import settings

from core import net
from roaming import logbook
from roaming.choices import Direction
from roaming.ocpi import tokens
from roaming.ocpi.status import SUCCESS, dumps

USER_AGENT = "CMS-OCPI/2.2.1"
# A partner's list is read page by page; this bounds a partner that never stops paging.
MAX_PAGES = 1000


class PartnerError(Exception):
    """A call to a partner that did not succeed: why, and what came back if anything."""

    def __init__(self, message: str, *, http_status=None, ocpi_status=None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.ocpi_status = ocpi_status


@dataclass
class Reply:
    """A partner's successful answer: its data, OCPI status and headers."""

    data: object
    status_code: int
    http_status: int
    headers: dict


class OcpiClient:
    """Calls one partner with the token it gave us (or the one given for this call)."""

    def __init__(self, partner, *, token: str | None = None, our_party=None):
        self.partner = partner
        self.token = token if token is not None else partner.credentials_token
        # (country code, party id) we speak as, for the 2.2.1 routing headers.
        self.our_party = our_party

    def request(
        self,
        method: str,
        url: str,
        *,
        module: str = "",
        body=None,
        params=None,
        timeout=None,
        to_party: tuple[str, str] | None = None,
    ) -> Reply:
        """One call; the data of a 1000 answer, else PartnerError (logged either way)."""
        # `timeout` (seconds) shortens the wait where someone is waiting (real-time authorize);
        # `to_party` addresses one of a hub's parties (the partner itself when None).
        refusal = net.refused_address(url, allow_private=settings.OCPI_ALLOW_PRIVATE_ADDRESSES)
        if refusal:
            self._log(method, url, module, body, error=refusal)
            raise PartnerError(refusal)
        encoded_first = settings.OCPI_ENCODE_TOKENS
        sent = {"timeout": timeout, "to_party": to_party}
        reply = self._send(method, url, module, body, params, encoded=encoded_first, **sent)
        if reply.status_code == 401:
            # 2.2.1 sends the token base64-encoded, 2.1.1 plain; a partner that refuses one
            # encoding is asked once more with the other.
            reply = self._send(method, url, module, body, params, encoded=not encoded_first, **sent)
        return self._unwrap(reply)

    def get_all(self, url: str, *, module: str = "", params=None) -> list:
        """Every object of a paginated list, following the Link headers."""
        items: list = []
        next_url, next_params = url, params
        for _ in range(MAX_PAGES):
            reply = self.request("GET", next_url, module=module, params=next_params)
            if isinstance(reply.data, list):
                items.extend(reply.data)
            link = reply.headers.get("Link", "")
            if 'rel="next"' not in link:
                break
            next_url, next_params = link.split(";")[0].strip().strip("<>"), None
        return items

    def _headers(self, encoded: bool, to_party=None) -> dict:
        token = tokens.encode(self.token) if encoded else self.token
        headers = {
            "Authorization": f"Token {token}",
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "User-Agent": USER_AGENT,
        }
        if self.our_party is not None:
            headers["OCPI-from-country-code"], headers["OCPI-from-party-id"] = self.our_party
            to = to_party or (self.partner.country_code, self.partner.party_id)
            headers["OCPI-to-country-code"], headers["OCPI-to-party-id"] = to
        return headers

    def _send(self, method, url, module, body, params, *, encoded, timeout=None, to_party=None):
        data = dumps(body) if body is not None else None
        headers = self._headers(encoded, to_party)
        if data is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            response = requests.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout or settings.OCPI_TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
            self._log(method, url, module, data, error=error, started=started)
            raise PartnerError(error) from None
        self._log(method, response.url, module, data, response=response, started=started)
        return response

    def _unwrap(self, response) -> Reply:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        ocpi_status = payload.get("status_code") if isinstance(payload, dict) else None
        if not 200 <= response.status_code < 300 or ocpi_status != SUCCESS:
            message = payload.get("status_message", "") if isinstance(payload, dict) else ""
            raise PartnerError(
                f"HTTP {response.status_code}, OCPI {ocpi_status}: {message or response.reason}",
                http_status=response.status_code,
                ocpi_status=ocpi_status,
            )
        return Reply(payload.get("data"), ocpi_status, response.status_code, dict(response.headers))

    def _log(self, method, url, module, body, *, response=None, error="", started=None):
        ocpi_status = None
        text = ""
        if response is not None:
            text = response.text
            try:
                parsed = response.json()
                ocpi_status = parsed.get("status_code") if isinstance(parsed, dict) else None
            except ValueError:
                pass
        logbook.record(
            organization=self.partner.organization,
            partner=self.partner if self.partner.pk else None,
            direction=Direction.OUTGOING,
            module=module,
            method=method,
            url=url,
            request_body=body or "",
            http_status=response.status_code if response is not None else None,
            ocpi_status=ocpi_status,
            response_body=text,
            error=error,
            duration_ms=int((time.monotonic() - started) * 1000) if started else 0,
        )


def module_url(base: str, *parts: str) -> str:
    """A partner's module URL with path parts appended (each quoted as OCPI ids allow)."""
    url = base if base.endswith("/") else base + "/"
    return urljoin(url, "/".join(quote(str(part), safe="") for part in parts))
