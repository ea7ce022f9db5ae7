"""HMAC-SHA256 signatures of an artifact's manifest, keyed by ``SEG_MODEL_SIGNING_KEY``.

The manifest lists the sha256 of every other file of the artifact, so a valid signature of
the manifest's exact bytes vouches for the whole artifact. The key is never logged, never
put in a message, and compared only through :func:`hmac.compare_digest`.

Exceptions::

    SigningKeyError        SEG_MODEL_SIGNING_KEY is set but unfit (too short)
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = ["KEY_ENV", "MIN_KEY_LENGTH", "SigningKeyError", "sign", "signature_matches"]

KEY_ENV = "SEG_MODEL_SIGNING_KEY"
MIN_KEY_LENGTH = 16
_PREFIX = "hmac-sha256:"


class SigningKeyError(ValueError):
    """The signing key is set but unfit; the message never contains the key."""


def signing_key() -> bytes | None:
    """The key from the environment; None when unset or empty (signing off)."""
    value = os.environ.get(KEY_ENV, "")
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise SigningKeyError(
            f"{KEY_ENV} is set but shorter than {MIN_KEY_LENGTH} characters: use a random "
            'key, e.g. python -c "import secrets; print(secrets.token_hex(32))"'
        )
    return value.encode()


def sign(data: bytes, key: bytes) -> str:
    """The signature line of ``data`` (``hmac-sha256:<64 hex>``)."""
    return _PREFIX + hmac.new(key, data, hashlib.sha256).hexdigest() + "\n"


def signature_matches(data: bytes, signature: bytes, key: bytes) -> bool:
    """Whether ``signature`` (a signature file's bytes) is ``data``'s under ``key``."""
    return hmac.compare_digest(sign(data, key).strip().encode(), signature.strip())
