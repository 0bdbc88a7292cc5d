"""Diagnostics files: the station's upload (by token, no login) and the members' download."""

import tempfile

from django.conf import settings
from django.core.files import File
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from organizations.choices import Role
from stations.diagnostics import (
    download_response,
    find_upload_request,
    may_upload,
    store_diagnostics_file,
)
from stations.models import DiagnosticsFile
from stations.views import StationMixin

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The upload is larger than DIAGNOSTICS_MAX_UPLOAD_BYTES."""


def _declared_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None


def _filename_of(request, filename: str) -> str:
    """The name the station gave the file: in the URL's tail, else Content-Disposition."""
    if filename:
        return filename
    disposition = request.headers.get("Content-Disposition", "")
    for part in disposition.split(";"):
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            return value.strip('"')
    return ""


def _read_body(request) -> File:
    """The raw request body in a temporary file, refused beyond the size limit."""
    limit = settings.DIAGNOSTICS_MAX_UPLOAD_BYTES
    # Closed by the caller (the File it is returned in), or here when it is refused.
    spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
    size = 0
    while chunk := request.read(CHUNK):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise TooLarge
        spool.write(chunk)
    spool.seek(0)
    body = File(spool)
    body.size = size
    return body


# Stations authenticate with the token in the URL, not a session: no CSRF token to check.
@method_decorator(csrf_exempt, name="dispatch")
class DiagnosticsUploadView(View):
    """A station uploads a diagnostics or log file: PUT or POST, multipart or the raw body."""

    http_method_names = ["put", "post"]

    def dispatch(self, request, *args, **kwargs):
        upload = find_upload_request(kwargs["token"])
        station = upload.station if upload is not None else None
        # A token of another station or organization is answered like an unknown one.
        if (
            station is None
            or station.pk != kwargs["pk"]
            or station.organization is None
            or station.organization.slug != kwargs["org"]
        ):
            raise Http404
        if not may_upload(upload):
            return HttpResponse("This upload location is closed.\n", status=403)
        declared = _declared_length(request)
        if declared is not None and declared > settings.DIAGNOSTICS_MAX_UPLOAD_BYTES:
            return HttpResponse("The file is too large.\n", status=413)
        self.upload = upload
        return super().dispatch(request, *args, **kwargs)

    def put(self, request, *args, **kwargs):
        return self.receive(request, kwargs.get("filename", ""))

    def post(self, request, *args, **kwargs):
        if request.content_type == "multipart/form-data":
            files = list(request.FILES.values())
            if not files:
                return HttpResponse("No file in the form.\n", status=400)
            if not may_upload(self.upload, len(files)):
                return HttpResponse("Too many files for this upload location.\n", status=403)
            for uploaded in files:
                if uploaded.size > settings.DIAGNOSTICS_MAX_UPLOAD_BYTES:
                    return HttpResponse("The file is too large.\n", status=413)
            for uploaded in files:
                store_diagnostics_file(self.upload, uploaded, uploaded.name)
            return HttpResponse(status=201)
        return self.receive(request, kwargs.get("filename", ""))

    def receive(self, request, filename: str):
        try:
            body = _read_body(request)
        except TooLarge:
            return HttpResponse("The file is too large.\n", status=413)
        with body:
            store_diagnostics_file(self.upload, body, _filename_of(request, filename))
        return HttpResponse(status=201)


class DiagnosticsDownloadView(StationMixin, View):
    """Download a file the station uploaded (operators and above)."""

    required_role = Role.OPERATOR

    def get(self, request, *args, **kwargs):
        upload = get_object_or_404(
            DiagnosticsFile.objects.for_org(self.organization).filter(station=self.get_station()),
            pk=kwargs["file_pk"],
        )
        return download_response(upload)
