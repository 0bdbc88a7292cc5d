"""The OCPI versions we speak, newest first; each has a package here (`v221/`)."""

# A 2.3.0 package is one more entry, first.
SUPPORTED = ("2.2.1",)


def choose(offered: list[dict]) -> tuple[str, str]:
    """The newest version both sides speak, and the partner's URL of its details; or ("", "")."""
    urls = {
        entry.get("version"): entry.get("url")
        for entry in offered or []
        if isinstance(entry, dict) and isinstance(entry.get("url"), str)
    }
    for version in SUPPORTED:
        if urls.get(version):
            return version, urls[version]
    return "", ""
