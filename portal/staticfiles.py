"""Static files under hashed, compressed names, and their plain names until collectstatic ran."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedCompressedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's hashed and compressed storage; a file never collected keeps its plain name."""

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            # Not in the manifest (the test suite, a checkout before its first collectstatic):
            # WhiteNoise serves the plain name from the apps' folders (WHITENOISE_USE_FINDERS),
            # only without the year-long cache, instead of the page failing to render.
            return name
