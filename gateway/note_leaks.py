"""Does a text about to go to a customer contain an internal note? Pure; no database.

Text is compared as a sequence of words: casefolded, NFKC-normalised letters and digits,
with HTML tags and entities, quote prefixes (``> ``), markdown marks, punctuation, line
breaks and whitespace all ignored. So a note survives as itself whatever a mail client did
to it: re-wrapped, quoted once or twice, pasted into HTML, converted back to text.

What counts as a leak, and why:

- a run of :data:`RUN_WORDS` consecutive words of a note. Ordinary answers share runs of
  four or five words with notes all the time ("do not offer any refund"); a run of eight
  is a copied sentence, not a coincidence;
- a note shorter than that, when the whole of it appears as a run;
- a note of fewer than :data:`MIN_WORDS` words ("ok", "VIP", "called back") is never
  checked: it cannot be told apart from the ordinary words of a reply, and holding every
  answer that says "ok" would teach agents to ignore the hold.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

RUN_WORDS = 8
MIN_WORDS = 3

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Note:
    """One internal note of the ticket, and who wrote it when (for the agent's notice)."""

    text: str
    author: str
    written: str  # e.g. "2026-12-06 01:10 UTC"


def words(text: str) -> tuple[str, ...]:
    """The words of ``text``, whatever its markup, wrapping and quoting."""
    if "<" in text and ">" in text:
        text = _TAG.sub(" ", text)
    text = unicodedata.normalize("NFKC", html.unescape(text)).casefold()
    return tuple(_WORD.findall(text))


def leaked(outgoing: str, notes: Iterable[Note]) -> Note | None:
    """The first note that ``outgoing`` contains (see the module docstring), or None."""
    sent = words(outgoing)
    runs: dict[int, set[tuple[str, ...]]] = {}
    for note in notes:
        said = words(note.text)
        if len(said) < MIN_WORDS:
            continue
        size = min(RUN_WORDS, len(said))
        if size not in runs:
            runs[size] = {sent[i : i + size] for i in range(len(sent) - size + 1)}
        if any(said[i : i + size] in runs[size] for i in range(len(said) - size + 1)):
            return note
    return None
