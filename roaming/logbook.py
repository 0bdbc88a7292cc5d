"""The OCPI exchange log (every request and response, both ways) and each module's health."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from roaming.choices import Direction
from roaming.models import ModuleSync, OcpiExchange

logger = logging.getLogger(__name__)

# Bodies are kept whole up to this size; a Locations page of a large network is cut.
MAX_BODY = 64 * 1024
SUCCESS = 1000


def record(
    *,
    organization,
    partner,
    direction: str,
    module: str,
    method: str,
    url: str,
    request_body: str = "",
    http_status: int | None = None,
    ocpi_status: int | None = None,
    response_body: str = "",
    error: str = "",
    duration_ms: int = 0,
) -> None:
    """Keep one exchange and count it on the module; a failure here never fails the exchange."""
    try:
        OcpiExchange.objects.create(
            organization=organization or getattr(partner, "organization", None),
            partner=partner,
            direction=direction,
            module=module,
            method=method,
            url=url[:500],
            request_body=request_body[:MAX_BODY],
            http_status=http_status,
            ocpi_status=ocpi_status,
            response_body=response_body[:MAX_BODY],
            error=error[:2000],
            duration_ms=duration_ms,
        )
        if partner is not None and module:
            succeeded = not error and ocpi_status == SUCCESS
            _count(partner, module, direction, succeeded, error or _status_text(response_body))
    except Exception:
        logger.exception("could not log an OCPI exchange with %s", partner)


def _status_text(body: str) -> str:
    return body[:500]


def _count(partner, module: str, direction: str, succeeded: bool, why: str) -> None:
    sync, _ = ModuleSync.objects.get_or_create(
        partner=partner, module=module, defaults={"organization_id": partner.organization_id}
    )
    counter = "sent" if direction == Direction.OUTGOING else "received"
    now = timezone.now()
    changes = {counter: F(counter) + 1}
    if succeeded:
        changes["last_success_at"] = now
    else:
        changes.update(last_failure_at=now, last_error=why[:2000])
    ModuleSync.objects.filter(pk=sync.pk).update(**changes)


def purge(now=None) -> int:
    """Forget exchanges older than OCPI_LOG_RETENTION_DAYS; the number removed."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.OCPI_LOG_RETENTION_DAYS)
    removed, _ = OcpiExchange.objects.filter(created__lt=cutoff).delete()
    return removed
