"""``email.message_from_bytes`` with the inbound policy and a cheaper multipart boundary test.

Why: before Python 3.13 the stdlib feedparser compiles a new regular expression for the
boundary of every multipart it meets (``re.compile('(?P<sep>' + re.escape(separator) +
...)``). Boundaries are unique per mail, so ``re``'s cache never helps, and compiling
one costs about 0.3 ms: a third of parsing a typical two-part mail. Python 3.13 replaced
that regex with ``line.startswith(separator)`` plus one precompiled regex for the rest
of the line, which matches exactly the same lines with the same groups. This module runs
the stdlib's own ``FeedParser._parsegen`` with that replacement; nothing else changes, and
on 3.13+ (no such ``re.compile`` left) the stand-in below is simply never asked.
"""

from __future__ import annotations

import email.feedparser
import re
from email.message import EmailMessage
from types import FunctionType
from typing import Any

from gateway.mail.policy import INBOUND

__all__ = ["message_from_bytes"]

_PREFIX = "(?P<sep>"
_SUFFIX = r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
# What follows the separator; ``match(line, pos)`` anchors it right after the separator.
_BOUNDARY_END = re.compile(_SUFFIX[1:])
_ESCAPED = re.compile(r"\\(.)", re.S)
_CHUNK = 8192  # as email.parser.Parser.parse feeds the feedparser


class _Boundary:
    """Stands in for the compiled boundary regex: same ``match`` result for every line."""

    __slots__ = ("_separator",)

    def __init__(self, separator: str) -> None:
        self._separator = separator

    def match(self, line: str) -> re.Match[str] | None:
        if not line.startswith(self._separator):
            return None
        return _BOUNDARY_END.match(line, len(self._separator))


class _BoundaryRe:
    """The ``re`` module as ``_parsegen`` sees it: boundary patterns are not compiled."""

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str] | _Boundary:
        if flags == 0 and pattern.startswith(_PREFIX) and pattern.endswith(_SUFFIX):
            escaped = pattern[len(_PREFIX) : -len(_SUFFIX)]
            separator = _ESCAPED.sub(r"\1", escaped)
            if re.escape(separator) == escaped:  # a pure literal, so startswith is exact
                return _Boundary(separator)
        return re.compile(pattern, flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


def _rebound(function: Any, **names: Any) -> Any:
    """``function`` with some of its module globals replaced, for this module only."""
    namespace = {**function.__globals__, **names}
    return FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__, function.__closure__
    )


class _FeedParser(email.feedparser.FeedParser):
    # A private method (no stub): pinned by tests/mail, which parse through this parser.
    _parsegen = _rebound(email.feedparser.FeedParser._parsegen, re=_BoundaryRe())  # type: ignore[attr-defined]


def message_from_bytes(raw: bytes, *, headersonly: bool = False) -> EmailMessage:
    """As ``email.message_from_bytes(raw, _class=EmailMessage, policy=INBOUND)``."""
    text = raw.decode("ascii", "surrogateescape")
    parser = _FeedParser(EmailMessage, policy=INBOUND)
    if headersonly:
        parser._set_headersonly()  # type: ignore[attr-defined]
    for start in range(0, len(text), _CHUNK):
        parser.feed(text[start : start + _CHUNK])
    message = parser.close()
    assert isinstance(message, EmailMessage)  # the factory given above
    return message
