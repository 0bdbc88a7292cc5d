"""Wiring of django-axes: the 429 lockout answer and one log line per period of failures."""

import logging
import re
import time
from collections import Counter

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

# Paths whose clients are programs: they get the API's JSON error body, not a page.
API_PATH_PREFIXES = ("/api/",)

_FAILURE = re.compile(r"^AXES: (New|Repeated) login failure")
_LOCKOUT = re.compile(r"^AXES: Locking out")
_ADDRESS = re.compile(r'ip_address: "([^"]*)"')
# Per-attempt chatter with nothing an operator acts on; the failures themselves are counted.
_DROPPED = re.compile(
    r"^AXES: (User login failed, running|Creating new AccessAttemptExpiration|Cleaned up )"
)


def cool_off_seconds() -> int:
    """The cooling period in whole seconds."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    """429 for a locked (account, address) pair: JSON under /api/, a translated page elsewhere."""
    # axes' async middleware passes (request, credentials): neither is needed here.
    minutes = max(1, round(cool_off_seconds() / 60))
    retry_after = str(cool_off_seconds())
    if request.path.startswith(API_PATH_PREFIXES):
        response = JsonResponse(
            {
                "detail": ngettext(
                    "Too many failed logins for this account from your address. "
                    "Try again in %(minutes)d minute.",
                    "Too many failed logins for this account from your address. "
                    "Try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes}
            },
            status=429,
        )
    else:
        response = render(request, "lockout.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = retry_after
    return response


def client_str(username, ip_address, user_agent, path_info, request) -> str:
    """How axes names a client in its log: address and path, never the username typed."""
    # A username field often receives a password typed one field too early.
    return f'{{ip_address: "{ip_address}", path_info: "{path_info}"}}'


class HideLockedOutRequests(logging.Filter):
    """Drops Django's "Too Many Requests" line of each refused login: the summary counts them."""

    def filter(self, record):
        request = getattr(record, "request", None)
        return not getattr(request, "axes_locked_out", False)


class LoginFailureSummary(logging.Filter):
    """Turns axes' line per failed login into one summary line per period.

    The first failure of a period is written as the period's line, telling what follows; every
    further failure and lockout in it is only counted; the first failure after the period ends
    writes the counts of the period before. An attack of a thousand guesses a minute is then a
    line a minute, and the attempts themselves stay in the admin (Axes › Access attempts).
    """

    def __init__(self, name="", period=60.0, clock=time.monotonic):
        super().__init__(name)
        self.period = float(period)
        self.clock = clock
        self.reset()

    def reset(self):
        """Forget the current period, as at start-up."""
        self.window_end = None
        self.failures = 0
        self.lockouts = 0
        self.addresses = Counter()

    def filter(self, record):
        message = str(record.msg)
        if _DROPPED.match(message):
            return False
        is_failure = bool(_FAILURE.match(message))
        is_lockout = bool(_LOCKOUT.match(message))
        if not (is_failure or is_lockout):
            return True
        now = self.clock()
        if self.window_end is not None and now < self.window_end:
            self._count(record, is_failure, is_lockout)
            return False
        # A new period opens with this record: it carries the previous period's counts, if any.
        previous = self._summary()
        self.window_end = now + self.period
        self.failures = self.lockouts = 0
        self.addresses = Counter()
        self._count(record, is_failure, is_lockout)
        opening = _ADDRESS.search(record.getMessage())
        record.msg = "%sFailed web login from %s; further ones are summarised every %s s."
        record.args = (previous, opening.group(1) if opening else "?", f"{self.period:g}")
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

    def _count(self, record, is_failure, is_lockout):
        self.failures += is_failure
        self.lockouts += is_lockout
        found = _ADDRESS.search(record.getMessage())
        if found and is_failure:
            self.addresses[found.group(1)] += 1

    def _summary(self) -> str:
        """The closing period's counts, or nothing after a quiet one."""
        if not (self.failures or self.lockouts):
            return ""
        top = ", ".join(f"{address} ({count})" for address, count in self.addresses.most_common(3))
        return (
            f"Failed web logins in the last {self.period:g} s: {self.failures} failures, "
            f"{self.lockouts} lockouts, from {len(self.addresses)} addresses (most: {top}). "
        )
