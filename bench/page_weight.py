"""Page weight: bytes of the dashboard and its CSS/JS, plain and compressed, in the same run.

    .venv/bin/python -m bench.page_weight

Seeds the demo into a throwaway SQLite database, collects the static files into a temporary
folder (as `make serve` does), and asks each resource through the whole middleware stack with
`Accept-Encoding: identity`, `gzip` and `br`. Prints a markdown table for docs/benchmarks.md.
"""

import os
import re
import sys
import tempfile
from pathlib import Path

TEMPORARY = Path(tempfile.mkdtemp(prefix="page-weight-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings")
os.environ.setdefault("SECRET_KEY", "page-weight-bench-only")
os.environ["DATABASE_URL"] = f"sqlite:///{TEMPORARY / 'db.sqlite3'}"
os.environ["DEBUG"] = "false"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

# What a browser sends last: what the page costs it.
ENCODINGS = ("identity", "gzip", "br", "gzip, deflate, br")
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"')


def body_bytes(response) -> int:
    """The bytes that cross the network for a response."""
    if response.streaming:
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


def weigh(client: Client, url: str) -> dict:
    """Bytes of one URL per accepted encoding, and the encoding the server chose."""
    weights = {}
    for encoding in ENCODINGS:
        response = client.get(url, headers={"accept-encoding": encoding})
        assert response.status_code == 200, (url, response.status_code)
        chosen = response.get("Content-Encoding", "identity")
        weights[encoding] = (body_bytes(response), chosen)
    return weights


def main() -> None:
    """Seed, collect, measure, print."""
    static_root = TEMPORARY / "static"
    with override_settings(STATIC_ROOT=static_root, ALLOWED_HOSTS=["testserver"]):
        call_command("migrate", "--noinput", "-v0")
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        # The page's own files; the API docs' bundles only cost time here.
        ignore = ("admin", "rest_framework", "drf_spectacular_sidecar")
        call_command("collectstatic", "--noinput", "-v0", *(f"--ignore={i}" for i in ignore))
        user = get_user_model().objects.filter(memberships__isnull=False).first()
        client = Client()
        client.force_login(user)
        dashboard = client.get("/", follow=True)
        page_url = dashboard.redirect_chain[-1][0]
        html = dashboard.content.decode()
        rows = [("dashboard HTML", page_url, weigh(client, page_url))]
        rows += [(url.rsplit("/", 1)[-1], url, weigh(client, url)) for url in ASSET.findall(html)]
        cache_control = client.get(rows[-1][1]).get("Cache-Control", "")
    print("| resource | identity | gzip | br | a browser (`gzip, deflate, br`) gets |")
    print("|---|---:|---:|---:|---:|")
    totals = dict.fromkeys(ENCODINGS, 0)
    for name, _url, weights in rows:
        cells = []
        for encoding in ENCODINGS:
            size, chosen = weights[encoding]
            totals[encoding] += size
            shown = encoding if encoding in ("identity", "gzip", "br") else None
            cells.append(f"{size:,}" + ("" if chosen == shown else f" ({chosen})"))
        print(f"| {name} | {' | '.join(cells)} |")
    print(f"| **total** | {' | '.join(f'**{totals[e]:,}**' for e in ENCODINGS)} |")
    print(f"\nCache-Control of a hashed asset: `{cache_control}`", file=sys.stderr)


if __name__ == "__main__":
    main()
