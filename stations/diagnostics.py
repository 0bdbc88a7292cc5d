"""Diagnostics and log files stations upload: upload locations (tokens) and received files."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.db import transaction
from django.db.models.signals import post_delete
from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename

from core.events import emit
from core.tokens import is_token, token_hash
from organizations.models import Organization
from stations.events import STATION_DIAGNOSTICS_FILE_RECEIVED
from stations.models import ChargingStation, DiagnosticsFile, DiagnosticsRequest

logger = logging.getLogger(__name__)

# A station that retries (GetDiagnostics' retries) may upload again; beyond this it is abuse.
MAX_FILES_PER_REQUEST = 10
RECENT_FILES = 20
# Rows deleted per transaction by the retention purge: short locks, bounded memory.
PURGE_BATCH = 500


class UploadLocationTaken(Exception):
    """The upload location names another station's request."""


def upload_url(station: ChargingStation, token: str) -> str:
    """The absolute URL the station uploads to with this token."""
    path = reverse(
        "stations:diagnostics-upload",
        kwargs={"org": station.organization.slug, "pk": station.pk, "token": token},
    )
    return settings.DIAGNOSTICS_BASE_URL + path


def token_in_location(station: ChargingStation, location: str) -> str | None:
    """The token of an upload URL of this station's, or None for any other location."""
    if station.organization_id is None:
        return None
    prefix = upload_url(station, "TOKEN").removesuffix("TOKEN/")
    if not location.startswith(prefix):
        return None
    token = location[len(prefix) :].split("/", 1)[0]
    # Only a token we made opens a location: an edited URL (".../upload/a/") would be guessable.
    return token if is_token(token) else None


@transaction.atomic
def open_upload_location(
    station: ChargingStation, location: str, *, command: str = "", requested_by=None
) -> DiagnosticsRequest | None:
    """Let the station upload to `location` for a while, if it is ours; None if it is not."""
    token = token_in_location(station, location)
    if token is None:
        return None
    expires_at = timezone.now() + timedelta(hours=settings.DIAGNOSTICS_UPLOAD_HOURS)
    request, created = DiagnosticsRequest.objects.select_for_update().get_or_create(
        token_hash=token_hash(token),
        defaults={
            "station": station,
            "command": command,
            "requested_by": requested_by,
            "expires_at": expires_at,
        },
    )
    if not created:
        if request.station_id != station.pk:
            raise UploadLocationTaken(token)
        # The same location asked for again (a retry): it stays open from now on.
        request.expires_at = expires_at
        request.save(update_fields=["expires_at"])
    return request


def find_upload_request(token: str) -> DiagnosticsRequest | None:
    """The request a token opened, with its station and organization, or None."""
    return (
        DiagnosticsRequest.objects.select_related("station__organization")
        .filter(token_hash=token_hash(token))
        .first()
    )


def may_upload(request: DiagnosticsRequest, files: int = 1) -> bool:
    """Whether the station may still upload these files for this request (open, not flooded)."""
    return not request.expired and request.files.count() + files <= MAX_FILES_PER_REQUEST


def store_diagnostics_file(request: DiagnosticsRequest, content, name: str) -> DiagnosticsFile:
    """Keep an uploaded file for the request's station and announce it."""
    station = request.station
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    try:
        stored_name = get_valid_filename(name)
    except SuspiciousFileOperation:
        # Nothing usable in it ("###", ".."): the station's file is kept all the same.
        stored_name = "diagnostics"
    received = timezone.now()
    upload = DiagnosticsFile(
        station=station,
        request=request,
        original_name=name or f"diagnostics-{received:%Y%m%d-%H%M%S}",
        size=content.size,
        received=received,
    )
    # The storage picks a free name; the station's id keeps the files of one station together.
    upload.file.save(f"{station.pk}-{stored_name}", File(content), save=False)
    try:
        with transaction.atomic():
            upload.save()
            emit(
                STATION_DIAGNOSTICS_FILE_RECEIVED,
                organization_id=station.organization_id,
                station_id=station.pk,
                file_id=upload.pk,
            )
    except BaseException:
        # No row: the stored file would be an orphan nobody can list or delete.
        upload.file.delete(save=False)
        raise
    return upload


def _delete_stored_file(sender, instance: DiagnosticsFile, **kwargs) -> None:
    """A deleted row (or station) takes its file along, once the deletion is committed."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


post_delete.connect(_delete_stored_file, sender=DiagnosticsFile, dispatch_uid="diagnostics-file")


def download_response(upload: DiagnosticsFile) -> FileResponse:
    """The file as the station uploaded it, as an attachment; 404 when it left the storage."""
    try:
        handle = upload.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=upload.original_name,
        content_type="application/octet-stream",
    )


def station_firmware(station: ChargingStation, organization) -> dict:
    """The station page's "Firmware & diagnostics" part: the last files the station uploaded."""
    files = DiagnosticsFile.objects.for_org(organization).filter(station=station)
    return {"diagnostics_files": list(files.order_by("-received", "-id")[:RECENT_FILES])}


# --- retention -----------------------------------------------------------------------------------


def retention_days(organization: Organization | None) -> int:
    """Days the organization keeps uploaded files: its own setting, else the platform's."""
    own = organization.diagnostics_retention_days if organization is not None else None
    return own or settings.DIAGNOSTICS_RETENTION_DAYS


def _delete_in_batches(queryset) -> int:
    """Delete the rows in batches of PURGE_BATCH, each batch in its own transaction."""
    deleted = 0
    while ids := list(queryset.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH]):
        with transaction.atomic():
            # Through the model's delete: post_delete removes each stored file after commit.
            queryset.model.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
    return deleted


def purge_old_diagnostics(now=None) -> int:
    """Delete files older than their organization's retention, and requests expired as long."""
    now = now or timezone.now()
    deleted = 0
    scopes = [(org, {"station__organization": org}) for org in Organization.objects.order_by("pk")]
    # Stations nobody has assigned yet keep theirs for the platform's default.
    scopes.append((None, {"station__organization__isnull": True}))
    for organization, scope in scopes:
        try:
            deleted += _purge_scope(now - timedelta(days=retention_days(organization)), scope)
        except Exception:
            # One organization's bad setting (or storage) must not keep the others' files forever.
            logger.exception("diagnostics purge failed for organization %s", organization)
    return deleted


def _purge_scope(cutoff, scope: dict) -> int:
    """Delete one scope's files received before `cutoff` and requests expired before it."""
    deleted = _delete_in_batches(DiagnosticsFile.objects.filter(received__lt=cutoff, **scope))
    # Expired before the cutoff: every file it let in was received before it, and is gone.
    return deleted + _delete_in_batches(
        DiagnosticsRequest.objects.filter(expires_at__lt=cutoff, **scope)
    )
