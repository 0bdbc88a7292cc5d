"""The public address of a connector's Scan2Pay page and its QR code as inline SVG."""

import segno
from django.conf import settings
from django.urls import reverse

from stations.models import Connector

# Level M (15 % of the code may be lost): a sticker outdoors gets scratched and dirty.
QR_ERROR_LEVEL = "m"


def pay_path(connector: Connector) -> str:
    """The connector's public page, /pay/<pay_code>/."""
    return reverse("pay:page", kwargs={"pay_code": connector.pay_code})


def pay_url(connector: Connector) -> str:
    """The absolute address of the connector's public page (PORTAL_BASE_URL)."""
    return f"{settings.PORTAL_BASE_URL}{pay_path(connector)}"


def qr_svg(url: str, title: str = "") -> str:
    """A QR code of `url` as an inline SVG element, sized by CSS (no width or height)."""
    code = segno.make(url, error=QR_ERROR_LEVEL, micro=False)
    return code.svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, title=title or None
    )
