"""OCPI credentials tokens: made, hashed for lookup, sent base64-encoded as 2.2.1 requires."""

import base64
import binascii

# OCPI's CiString(64): printable ASCII; the URL-safe random characters of core's tokens fit it.
from core.tokens import new_token, token_hash

__all__ = ["candidates", "encode", "new_token", "token_hash"]


def encode(token: str) -> str:
    """The token as 2.2.1 sends it in the Authorization header (base64)."""
    return base64.b64encode(token.encode()).decode()


def candidates(header: str) -> list[str]:
    """The tokens an `Authorization: Token …` header may carry: base64-decoded first, then raw."""
    scheme, _, value = (header or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        return []
    found = []
    try:
        decoded = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded.isprintable() and decoded:
        found.append(decoded)
    # 2.1.1 and some 2.2 implementations send the token as is.
    found.append(value)
    return found
