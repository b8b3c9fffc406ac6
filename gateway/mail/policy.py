"""``policy.default`` with a header factory that parses each distinct header value once.

Why: with ``policy.default`` every ``msg.get(name)`` / ``msg[name]`` runs the RFC 5322
header parser on the raw value and builds a new header class with ``type()``; nothing is
kept. Parsing a mail fetches the same ``Content-Type`` several times (the feedparser asks
for the content type and the boundary of every part, then the walk reads it again), and
most ``Content-Type``, ``Content-Transfer-Encoding`` and ``Content-Disposition`` values
repeat from mail to mail. Without a cache the header registry was most of the cost of
parsing a mail. Building a mail has the same problem with ``msg[name] = value`` and
``set_content``, so outgoing mail can use the same registry.

Sharing parsed headers between messages and threads is safe: they are immutable ``str``
subclasses, and reading or folding them never changes their parse tree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from functools import lru_cache
from typing import Any

__all__ = ["INBOUND", "CachingHeaderRegistry"]


class CachingHeaderRegistry(HeaderRegistry):
    """A :class:`HeaderRegistry` that reuses header classes and recently parsed headers.

    The cache is bounded by characters, not entries: a parsed header keeps its whole parse
    tree, up to ~0.7 KiB per character of the value (a 1,000-character address list is
    ~400 KiB), so the default ``max_chars`` holds some 500 ordinary values in at most
    ~20 MB. Values over ``max_length`` are parsed every time; they rarely repeat.
    """

    def __init__(self, max_chars: int = 32768, max_length: int = 998) -> None:
        super().__init__()
        # Bounded too: inbound mail brings header names of its own choosing.
        self._class = lru_cache(maxsize=1024)(super().__getitem__)
        self._parsed: OrderedDict[tuple[str, str], BaseHeader] = OrderedDict()
        self._chars = 0
        self._max_chars = max_chars
        self._max_length = max_length
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Any:
        return self._class(name.lower())

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A parsed mail travels between processes (an import parses ahead in a second
        # one): the receiving side uses its own registry, not a copy of the cache.
        if self is INBOUND.header_factory:
            return _inbound_registry, ()
        return CachingHeaderRegistry, (self._max_chars, self._max_length)

    def __call__(self, name: str, value: Any) -> BaseHeader:
        # Only plain str as a key: an address object is not hashable, and a header object
        # (a str subclass) would equal a raw value with the same text.
        if type(value) is not str or len(value) > self._max_length:
            return super().__call__(name, value)
        key = (name, value)
        with self._lock:
            header = self._parsed.get(key)
            if header is not None:
                self._parsed.move_to_end(key)
                return header
        # Parsed outside the lock: it is the slow part, and a parse error must not be kept.
        header = super().__call__(name, value)
        with self._lock:
            if key not in self._parsed:
                self._parsed[key] = header
                self._chars += len(name) + len(value)
                while self._chars > self._max_chars:
                    (old_name, old_value), _ = self._parsed.popitem(last=False)
                    self._chars -= len(old_name) + len(old_value)
        return header


# One policy for the life of the process, never re-created per mail.
INBOUND = policy.default.clone(header_factory=CachingHeaderRegistry())


def _inbound_registry() -> CachingHeaderRegistry:
    return INBOUND.header_factory  # type: ignore[return-value]
