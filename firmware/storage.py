"""Where firmware images live: the "firmware" alias of settings.STORAGES."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, cached_property, empty
from storages.utils import clean_name

FIRMWARE_STORAGE_ALIAS = "firmware"


class LocalFirmwareStorage(FileSystemStorage):
    """Files under MEDIA_ROOT/firmware (never served as media: only through signed URLs)."""

    @cached_property
    def base_location(self):
        # Read when first used, and again after MEDIA_ROOT changes (FileSystemStorage clears
        # its cached properties then), rather than fixed when the settings were read.
        return self._value_or_setting(self._location, os.path.join(settings.MEDIA_ROOT, "firmware"))


class FirmwareStorage(LazyObject):
    """The configured firmware storage, looked up again when settings.STORAGES changes."""

    def _setup(self):
        self._wrapped = storages[FIRMWARE_STORAGE_ALIAS]


_storage = FirmwareStorage()


def firmware_storage():
    """The FileField's storage (a callable, so migrations do not record the backend)."""
    return _storage


@receiver(setting_changed)
def _forget_storage(*, setting, **kwargs):
    # Django's own handler drops its cached backends on this change; the proxy follows it.
    if setting == "STORAGES":
        _storage._wrapped = empty


def open_range(file, first: int, last: int):
    """A readable (read, close) of bytes first..last of a stored file, positioned at `first`."""
    storage = file.storage
    if getattr(storage, "bucket_name", None) is None:
        handle = storage.open(file.name, "rb")
        handle.seek(first)
        return handle
    # django-storages' S3File copies the whole object to a temporary file on its first read: a
    # wave of stations fetching a large image would wait for that and fill the disk. A ranged
    # GET streams just the bytes asked for.
    key = storage._normalize_name(clean_name(file.name))
    return storage.bucket.Object(key).get(Range=f"bytes={first}-{last}")["Body"]
