"""Reading a rating out of a customer's reply: one digit 1-5, then an optional comment.

``4``, ``5/5``, ``5 thanks!``, ``3 - the fix works but took long``, ``2.`` followed by more
lines: a digit standing alone at the start of the visible text (quotes already trimmed),
then the end, or a space, line break or punctuation before the comment. ``10``, ``4.5``,
``5,5`` or ``3rd try`` are not ratings. Only a reply to a resolved ticket that asked for a
rating is read this way: there "3 devices fail" is rating 3 with a comment, and the note
the agents see shows the whole of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSWER = re.compile(
    r"""\A\s*
    (?P<rating>[1-5])(?:\s*/\s*5)?      # 4, or 4/5
    (?!\d)(?![.,]\d)                   # not 10, 4.5 or 5,5
    (?:
        \s*\Z                            # nothing else
      | [ \t]*\r?\n(?P<below>.*)         # a comment on the lines below
      | (?:[ \t]*[-:.,;!)]+[ \t]*|[ \t]+)(?P<after>.*)  # 4 - comment, 4. comment, 5 thanks
    )""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Answer:
    rating: int
    comment: str | None


def read_answer(text: str) -> Answer | None:
    """The rating (and comment) in ``text``, or ``None`` when it is not a rating."""
    match = _ANSWER.match(text)
    if match is None:
        return None
    comment = (match.group("below") or match.group("after") or "").strip()
    return Answer(int(match.group("rating")), comment or None)
