"""Strings that fit their column whatever a sender wrote: the start kept, the rest hashed.

A From address of 250 characters is legal, a Message-ID or a file name can be as long as
a mailer likes, and keys are built from such parts. A value too long for its column
would fail the write on PostgreSQL (SQLite does not check), so every such value is
bounded where it is made, by :func:`fit`. The result is deterministic (the same long
value always gives the same short one, so keys still deduplicate and look-ups still
match) and distinct (a digest of the whole value, not a cut that two values may share).
"""

from __future__ import annotations

import hashlib
from typing import Any

_DIGEST_CHARS = 32  # 128 bits of SHA-256: no two real values collide


def bounded(value: str, limit: int) -> str:
    """``value`` when it has at most ``limit`` characters, else its start and a digest."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{value[: limit - _DIGEST_CHARS - 1]}~{digest[:_DIGEST_CHARS]}"


def fit(column: Any, value: str) -> str:
    """``value`` bounded to the length of ``column`` (a mapped ``String(n)`` attribute).

    The length is read off the attribute's column (``expression``, memoized by
    SQLAlchemy): ``column.type`` on a mapped attribute goes through its proxying
    ``__getattr__``, about 15 microseconds a call, and every outbox row and inbox item
    asks several times.
    """
    length: int | None = column.expression.type.length
    return value if length is None else bounded(value, length)
