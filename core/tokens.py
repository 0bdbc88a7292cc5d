"""Bearer secrets (upload locations, invitations, OCPI credentials): made and hashed one way."""

import hashlib
import re
import secrets

# 32 random bytes: a token alone authorizes its holder, so it must be unguessable.
TOKEN_BYTES = 32
# What new_token() makes: 43 URL-safe characters.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    """A fresh unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, so the database never holds a usable secret."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_token(value: str) -> bool:
    """Whether value has the shape new_token() gives (a hand-typed guessable one has not)."""
    return TOKEN_PATTERN.fullmatch(value) is not None
