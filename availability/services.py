"""Writes of the maintenance log: records with their photos and documents."""

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import transaction
from django.db.models.signals import post_delete
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from availability.models import MaintenanceAttachment, MaintenanceRecord

# Recognised by their first bytes, never by the name or the type the browser claims: a file
# the page shows inline must really be the image it says it is. SVG is left out (scripts).
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
ALLOWED_TYPES_LABEL = "JPEG, PNG, GIF, WebP, PDF"
MAX_FILES_PER_UPLOAD = 20


def sniff_content_type(upload) -> str | None:
    """The content type the file's first bytes prove, or None for any other file."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def validate_attachment(upload) -> str:
    """The attachment's content type; ValidationError when its type or size is not allowed."""
    limit = settings.MAINTENANCE_MAX_ATTACHMENT_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is larger than %(limit)s.")
            % {"name": upload.name, "limit": filesizeformat(limit)},
            code="too_large",
        )
    content_type = sniff_content_type(upload)
    if content_type is None:
        raise ValidationError(
            _("%(name)s is not a photo or PDF (%(types)s).")
            % {"name": upload.name, "types": ALLOWED_TYPES_LABEL},
            code="invalid_type",
        )
    return content_type


def validate_attachments(uploads) -> list[str]:
    """Each upload's content type; one ValidationError listing every refused file."""
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise ValidationError(
            _("At most %(count)d files at once.") % {"count": MAX_FILES_PER_UPLOAD},
            code="too_many",
        )
    types, errors = [], []
    for upload in uploads:
        try:
            types.append(validate_attachment(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return types


def _stored_name(name: str) -> str:
    try:
        return get_valid_filename(name)
    except SuspiciousFileOperation:
        return "attachment"


def add_attachments(record: MaintenanceRecord, uploads, *, user=None) -> list:
    """Validate and keep the files for the record; all or none (ValidationError)."""
    types = validate_attachments(uploads)
    stored = []
    try:
        with transaction.atomic():
            for upload, content_type in zip(uploads, types, strict=True):
                name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
                attachment = MaintenanceAttachment(
                    record=record,
                    original_name=name or "attachment",
                    size=upload.size,
                    content_type=content_type,
                    uploaded_by=user,
                )
                # The record's id keeps one record's files together; the storage picks a free name.
                attachment.file.save(f"{record.pk}-{_stored_name(name)}", upload, save=False)
                stored.append(attachment)
                attachment.save()
    except BaseException:
        # No rows: the stored files would be orphans nobody can list or delete.
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


@transaction.atomic
def save_record(record: MaintenanceRecord, uploads=(), *, user=None) -> MaintenanceRecord:
    """Save a new or changed record and its new attachments together."""
    if record.pk is None:
        record.created_by = user
    record.save()
    if uploads:
        add_attachments(record, list(uploads), user=user)
    return record


def _delete_stored_file(sender, instance: MaintenanceAttachment, **kwargs) -> None:
    """A deleted row (or record, or station) takes its file along, once the deletion commits."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))


post_delete.connect(
    _delete_stored_file, sender=MaintenanceAttachment, dispatch_uid="maintenance-attachment"
)


def download_response(attachment: MaintenanceAttachment) -> FileResponse:
    """The file as uploaded: a validated image inline, a PDF as a download; 404 when lost."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    # Members' files: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response
