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


@dataclass(frozen=True, slots=True)
class SmsLength:
    """A text's encoding, its length in that encoding's units, and its segments."""

    encoding: str  # GSM-7 | UCS-2
    units: int
    segments: int


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENDED for c in text)


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
