"""Outgoing HTTP to addresses users type in (webhooks, roaming partners): the address guard."""

import ipaddress
import socket
from urllib.parse import urlsplit


def refused_address(url: str, *, allow_private: bool) -> str:
    """Why the URL may not be called (a private address, unresolvable), or "" when it may."""
    if allow_private:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Only http(s) URLs with a host are called."
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"Cannot resolve {parts.hostname}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            # Resolved now, connected by requests a moment later: a name that changes in
            # between (DNS rebinding) is the remaining gap, closed by an egress firewall.
            return f"{parts.hostname} resolves to a non-public address ({address})."
    return ""
