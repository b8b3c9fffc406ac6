"""How long a text is as carriers count it, and how to cut one to fit.

A text is sent GSM-7 when every character is in the GSM 03.38 alphabet (its extension
table costs two septets: an escape, then the character), otherwise UCS-2. One message holds
160 septets or 70 UCS-2 units; a longer text is split into parts of 153 or 67, because each
part carries a 6-byte concatenation header. UCS-2 is counted in UTF-16 code units, so an
emoji outside the Basic Multilingual Plane costs two. Carriers never split an escape pair or
a surrogate pair across parts, so a part can end one unit short and a text of exactly
2 x 153 septets with a euro sign at the boundary takes 3 segments; we count the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# GSM 03.38: the basic set costs one septet, the extension set two (an escape first).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

# (one-part capacity, capacity of each part of a longer text), in the encoding's units.
CAPACITY = {"GSM-7": (160, 153), "UCS-2": (70, 67)}

_WORD_END = re.compile(r"\S(?=\s)")

# Typography that mail clients put into agents' replies, and its plain GSM-7 form (what
# Twilio's "smart encoding" does): one curly quote would make a whole reply UCS-2.
_PLAIN = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u00a0\u2002\u2003\u2007\u2009\u202f\t", " "),
        **dict.fromkeys("\u200b\u2060\ufeff", ""),
        "\u2026": "...",
        "\u2022": "-",
    }
)


@dataclass(frozen=True, slots=True)
class SmsLength:
    """A text's encoding, its length in that encoding's units, and its segments."""

    encoding: str  # GSM-7 | UCS-2
    units: int
    segments: int


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


def plain_gsm(text: str) -> str:
    """``text`` with typographic quotes, dashes, ellipses and odd spaces made GSM-7.

    Only when that makes the whole text GSM-7: if an emoji or a Cyrillic letter keeps it
    UCS-2 anyway, the text is returned as written.
    """
    if is_gsm(text):
        return text
    plain = text.translate(_PLAIN)
    return plain if is_gsm(plain) else text


def _costs(text: str, gsm: bool) -> list[int]:
    if gsm:
        return [2 if c in GSM_EXTENDED else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]  # a surrogate pair in UTF-16


def measure(text: str) -> SmsLength:
    """The length of ``text`` as one SMS: encoding, units and segments (0 for "")."""
    gsm = is_gsm(text)
    encoding = "GSM-7" if gsm else "UCS-2"
    single, part = CAPACITY[encoding]
    costs = _costs(text, gsm)
    units = sum(costs)
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:  # the character does not fit whole: it opens the next part
            segments, used = segments + 1, 0
        used += cost
    return SmsLength(encoding, units, segments)


def shorten(text: str, fits: Callable[[str], bool]) -> str:
    """The longest cut of ``text`` that ``fits``, ending at the end of a word if one can.

    ``fits`` must be monotonic (a shorter cut never fits worse), which holds for "renders
    to at most N segments": removing characters never adds units or turns GSM-7 into UCS-2.
    Returns ``text`` itself when it fits; a cut is stripped of trailing blanks; when not even
    the first word fits, the longest fitting run of characters (possibly "").
    """
    if fits(text):
        return text
    ends = [m.end() for m in _WORD_END.finditer(text)]
    best = _longest(ends, lambda end: fits(text[:end]))
    if best is not None:
        return text[:best]
    chars = _longest(list(range(1, len(text))), lambda end: fits(text[:end].rstrip()))
    return text[:chars].rstrip() if chars is not None else ""


def _longest(ends: list[int], fits: Callable[[int], bool]) -> int | None:
    """The largest of the ascending ``ends`` that fits, by bisection; None if none does."""
    low, high, best = 0, len(ends) - 1, None
    while low <= high:
        mid = (low + high) // 2
        if fits(ends[mid]):
            best, low = ends[mid], mid + 1
        else:
            high = mid - 1
    return best
