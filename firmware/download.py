"""The signed, login-free download of a firmware image, as stations fetch it."""

import re

from asgiref.sync import sync_to_async
from django.core import signing
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View

from firmware.services import CHUNK_BYTES, image_for_download
from firmware.storage import open_range

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) of a single `Range: bytes=` the file can satisfy; None when unsatisfiable."""
    match = RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        # The last N bytes.
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    first = int(first)
    last = size - 1 if last == "" else min(int(last), size - 1)
    if first > last or first >= size:
        return None
    return first, last


def file_chunks(handle, length: int):
    """`length` bytes of the open file from where it stands, a chunk at a time; closes it."""
    try:
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


async def file_chunks_async(handle, length: int):
    """As `file_chunks`, for the ASGI server: each read in a worker thread."""
    # Under ASGI Django would read a synchronous iterator whole into memory before sending
    # it (HttpResponse.__aiter__); a firmware image can be hundreds of megabytes. The reads
    # touch no database, so they need not queue on the one thread-sensitive worker.
    try:
        remaining = length
        while remaining > 0:
            chunk = await sync_to_async(handle.read, thread_sensitive=False)(
                min(CHUNK_BYTES, remaining)
            )
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        await sync_to_async(handle.close, thread_sensitive=False)()


class FirmwareDownloadView(View):
    """GET or HEAD an image by its signed URL: no login, one byte range at most."""

    http_method_names = ["get", "head"]

    def get(self, request, token, filename):
        try:
            image = image_for_download(token)
        except signing.SignatureExpired:
            return plain(_("This firmware download link has expired."), 403)
        except signing.BadSignature:
            return plain(_("No such firmware download."), 404)
        size = image.size
        first, last, status = 0, size - 1, 200
        requested = request.headers.get("Range")
        if (
            requested
            and request.headers.get("If-Range", f'"{image.sha256}"') == f'"{image.sha256}"'
        ):
            bounds = byte_range(requested, size)
            if bounds is None:
                response = plain(_("The requested range is outside the file."), 416)
                response["Content-Range"] = f"bytes */{size}"
                return response
            (first, last), status = bounds, 206
        length = last - first + 1
        if request.method == "HEAD":
            # The stored size answers a HEAD: the storage (a bucket) is not asked at all.
            response = HttpResponse(status=status)
        else:
            handle = open_range(image.file, first, last)
            chunks = file_chunks_async if isinstance(request, ASGIRequest) else file_chunks
            response = StreamingHttpResponse(chunks(handle, length), status=status)
        response["Content-Type"] = "application/octet-stream"
        response["Content-Length"] = str(length)
        response["Content-Disposition"] = content_disposition_header(True, image.file_name)
        response["Accept-Ranges"] = "bytes"
        response["ETag"] = f'"{image.sha256}"'
        response["Cache-Control"] = "private, no-transform"
        if status == 206:
            response["Content-Range"] = f"bytes {first}-{last}/{size}"
        # A station checks the bytes against the image's checksum and length: GZipMiddleware,
        # which reads this header on the way out, must not compress them.
        request.META.pop("HTTP_ACCEPT_ENCODING", None)
        return response

    head = get
