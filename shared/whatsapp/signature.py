"""``X-Hub-Signature-256``: HMAC-SHA256 of the RAW request body with the app secret.

Meta signs the bytes it sent; re-serialised JSON would differ in whitespace or key order, so
both sides work on the raw body only, and the comparison is constant-time so an attacker
cannot learn the signature byte by byte from response times.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body``."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith(_PREFIX) or not app_secret:
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.encode())


def constant_time_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
