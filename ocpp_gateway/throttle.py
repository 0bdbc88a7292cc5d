"""Station password guessing: failed handshakes counted per address and per identity."""

import hashlib
import logging
import secrets
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.cache import cache

from ocpp_gateway.protocol import loggable

logger = logging.getLogger(__name__)

# Failures and refusals are logged as one summary line per this many seconds and process.
SUMMARY_SECONDS = 60.0
# After a cache failure the throttle works from this process's counts for this long.
CACHE_RETRY_SECONDS = 10.0


class AuthThrottle:
    """Failure counters in the Django cache, so every gateway process sees the same counts.

    An address that failed OCPP_AUTH_FAILURES_PER_ADDRESS times is answered 429 for
    OCPP_AUTH_COOLING_SECONDS. An identity that received more than OCPP_AUTH_FAILURES_PER_STATION
    failures sends every further address that fails on it into the cooling period at once, so
    many addresses get one guess each; the right password from an address not cooling down
    still connects, so a flood against a station never locks the station itself out.
    """

    def __init__(self):
        self._namespace = "ocpp-auth"
        self._lock = threading.Lock()
        self._failed: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._identities: Counter[str] = Counter()
        self._timer: threading.Timer | None = None
        self._cache_warned = 0.0
        # Until then the cache is not asked: these calls run in the gateway's database thread,
        # and a Redis that times out must cost one timeout per period, not one per batch.
        self._cache_down_until = 0.0

    def cooling(self, addresses: set[str]) -> set[str]:
        """The addresses in their cooling period: one cache round trip for a batch of them."""
        if self._cache_down():
            return set()
        keys = {self._key("cooling", address): address for address in addresses}
        try:
            found = cache.get_many(list(keys))
        except Exception as exc:
            # Fail open: an unreachable cache must not refuse every station of a storm.
            self._warn_cache(exc)
            return set()
        return {keys[key] for key in found}

    def refused(self, address: str, identity: str) -> None:
        """Count a handshake refused because its address is cooling down (summary only)."""
        with self._lock:
            self._refused[address] += 1
            self._identities[identity] += 1
            self._start_summary_timer()

    def failed(self, address: str, identity: str, reason: str, guessed_password: bool) -> None:
        """Count a failed handshake; start the address's cooling period past a limit."""
        period = settings.OCPP_AUTH_COOLING_SECONDS
        try:
            if self._cache_down():
                raise ConnectionError("the cache failed lately")
            by_address = self._increment(self._key("address", address), period)
            by_identity = (
                self._increment(self._key("identity", identity), period) if guessed_password else 0
            )
            if (
                by_address >= settings.OCPP_AUTH_FAILURES_PER_ADDRESS
                or by_identity > settings.OCPP_AUTH_FAILURES_PER_STATION
            ):
                cache.set(self._key("cooling", address), 1, period)
        except Exception as exc:
            self._warn_cache(exc)
            by_address = None
        with self._lock:
            self._failed[address] += 1
            self._identities[identity] += 1
            self._start_summary_timer()
            if by_address is None:  # without the cache, this process's count decides
                by_address = self._failed[address]
        if by_address == 1:
            # The first failure of an address in a period, at once and with its reason (a
            # misconfigured station shows up here); the rest go into the summary.
            logger.warning(
                "station authentication failed for %s from %s: %s",
                loggable(identity),
                loggable(address),
                loggable(reason, 200),
            )

    def log_summary(self) -> None:
        """Log the failures and refusals since the last summary as one line, and start over."""
        with self._lock:
            failed, refused, identities = self._failed, self._refused, self._identities
            self._failed, self._refused, self._identities = Counter(), Counter(), Counter()
            self._timer = None
        if not failed and not refused:
            return
        addresses = failed + refused
        logger.warning(
            "station authentication: %d failed and %d refused (429) handshakes from %d "
            "addresses (most: %s) for %d identities (most: %s)",
            sum(failed.values()),
            sum(refused.values()),
            len(addresses),
            _most_common(addresses),
            len(identities),
            _most_common(identities),
        )

    def reset(self) -> None:
        """Forget every count of this process and start a new namespace (tests)."""
        self._namespace = f"ocpp-auth-{secrets.token_hex(4)}"
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._failed, self._refused, self._identities = Counter(), Counter(), Counter()
        self._cache_down_until = 0.0

    def _key(self, kind: str, value: str) -> str:
        # Hashed: an identity or address is remote text, and cache keys must be short and safe.
        return f"{self._namespace}:{kind}:{_digest(value)}"

    @staticmethod
    def _increment(key: str, timeout: int) -> int:
        # add() sets the expiry only when the key is new: a fixed window from the first failure.
        if cache.add(key, 1, timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, timeout)
            return 1

    def _start_summary_timer(self) -> None:
        # Called with the lock held; a timer, so the summary of the last minute of an attack
        # is logged even when nothing follows it.
        if self._timer is None:
            self._timer = threading.Timer(SUMMARY_SECONDS, self.log_summary)
            self._timer.daemon = True
            self._timer.start()

    def _cache_down(self) -> bool:
        return time.monotonic() < self._cache_down_until

    def _warn_cache(self, exc: Exception) -> None:
        now = time.monotonic()
        self._cache_down_until = max(self._cache_down_until, now + CACHE_RETRY_SECONDS)
        if now - self._cache_warned > SUMMARY_SECONDS:
            self._cache_warned = now
            logger.warning("station authentication throttle without its cache: %s", exc)


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode("utf-8", "backslashreplace"), digest_size=12).hexdigest()


def _most_common(counts: Counter) -> str:
    return ", ".join(f"{loggable(key, 60)} ×{n}" for key, n in counts.most_common(3))


auth_throttle = AuthThrottle()
