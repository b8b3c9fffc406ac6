"""The email policy outgoing mail is built with: ``policy.default``, parsing each header once.

Why: with ``policy.default`` every ``msg[name] = value`` builds a new header class with
``type()`` and runs the RFC 5322 parser on the value, and ``set_content`` sets and re-parses
its ``Content-*`` headers the same way. That was most of the cost of building a mail
(about 2 ms of the worker's ~3 ms of CPU per mail). Most values repeat from mail to mail
(From, Content-Type, Content-Transfer-Encoding, MIME-Version, Auto-Submitted, X-Loop, Date
within a second, a regular's To), so the factory below keeps the header classes and
the parsed headers of recent values.

Sharing parsed headers between messages and threads is safe: they are immutable ``str``
subclasses, and folding them reads their parse tree without changing it.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from functools import lru_cache
from typing import Any


class CachingHeaderRegistry(HeaderRegistry):
    """A :class:`HeaderRegistry` that reuses header classes and recently parsed headers."""

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self._class = lru_cache(maxsize=None)(super().__getitem__)
        self._parsed = lru_cache(maxsize=size)(super().__call__)

    def __getitem__(self, name: str) -> Any:
        return self._class(name.lower())

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if not isinstance(value, str):  # e.g. an address object: not hashable as a key
            return super().__call__(name, value)  # type: ignore[no-any-return]
        return self._parsed(name, value)  # type: ignore[no-any-return]


# One policy for the life of the process: never re-created per mail.
OUTGOING = policy.default.clone(header_factory=CachingHeaderRegistry())
