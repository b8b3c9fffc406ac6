"""Decide, from the line kinds, which lines of a plain-text reply are new.

The walk stops at the first sign of history that follows new text: a signature delimiter,
a forward or original-message separator, an Outlook header block, an attribution whose
quote is not answered inline, or a rule with only history (or, for underscores, a short
footer) below it. Quotes that trail the reply go; quotes followed by new text stay,
because the text between them is an inline answer and losing it is worse than keeping a
quote.

Before any new text it depends on what the mail does. A forward ("Forwarded message", or
a subject that says so) passes a mail on: its separator and header are dropped and the
forwarded mail is what the sender means to show. A reply whose first lines are the header
of the mail it answers (an attribution with an address, an Outlook header block, an
original-message separator, Zoho's dashed attribution, or an attribution over ``>``
quotes) was sent without a word typed: nothing of it is new. An ordinary attribution over
unquoted lines is not enough: "On 8 May 2017, Andy <a@b.c> wrote:" above unquoted text
introduces the sender's own words in Discourse's fixtures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.mail.quote_headers import introduces_unquoted_mail
from gateway.mail.quote_text import (
    ATTRIBUTION,
    DELIMITER,
    EMPTY,
    FIELDS,
    FOOTER,
    FORWARD,
    ORIGINAL,
    QUOTE,
    RULE,
    TEXT,
    UNDERSCORES,
    classify,
)

_HISTORY = frozenset({DELIMITER, UNDERSCORES, FIELDS, FORWARD, ORIGINAL, ATTRIBUTION, QUOTE})
_DECORATION = frozenset({EMPTY, FOOTER, RULE, UNDERSCORES})


@dataclass(frozen=True, slots=True)
class Trimmed:
    """The lines the sender wrote (maybe none), and whether the rest is only the quoted
    mail being answered (a reply sent without typing anything)."""

    lines: list[str]
    only_history: bool


_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
# An underscore rule with at most this many lines below it is a signature or list footer.
_FOOTER_LINES = 10


def _next_index(kinds: list[str], skip: frozenset[str]) -> list[int]:
    """For each i, the first index >= i whose kind is not in ``skip`` (len(kinds) if none)."""
    result = [len(kinds)] * (len(kinds) + 1)
    for i in range(len(kinds) - 1, -1, -1):
        result[i] = result[i + 1] if kinds[i] in skip else i
    return result


def trim(lines: list[str], *, forwarded: bool = False) -> Trimmed:
    """The lines of ``lines`` that the sender wrote for this reply (maybe none).

    ``forwarded``: the subject says the mail is a forward, so a header block at its top
    introduces the mail passed on, not the mail answered.
    """
    kinds, spans = classify(lines)
    n = len(kinds)
    blank_or_footer = _next_index(kinds, frozenset({EMPTY, FOOTER}))
    past_quotes = _next_index(kinds, frozenset({QUOTE, EMPTY, FOOTER}))
    past_rules = _next_index(kinds, frozenset({EMPTY, FOOTER, RULE}))
    non_empty_from = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        non_empty_from[i] = non_empty_from[i + 1] + (kinds[i] != EMPTY)
    drop = [kind in (FOOTER, ATTRIBUTION) for kind in kinds]
    end, seen_text, sections, top_quote = n, False, False, None
    history_first = False  # the mail starts with the header of the mail it answers
    i = 0
    while i < end:
        kind = kinds[i]
        if kind == TEXT:
            nxt = blank_or_footer[i + 1]
            quote_to_end = nxt < n and kinds[nxt] == QUOTE and past_quotes[nxt] >= n
            if quote_to_end and _ends_unknown_attribution(lines[i], strict=not seen_text):
                end, history_first = i, not seen_text
                break
            seen_text = True
        elif kind in (DELIMITER, FORWARD, ORIGINAL, FIELDS):
            if seen_text:
                end = i
                break
            if kind in (ORIGINAL, FIELDS) and not forwarded:
                end, history_first = i, True
                break
            forwarded = forwarded or kind == FORWARD
            drop[i] = True
        elif kind in (RULE, UNDERSCORES):
            nxt = past_rules[i + 1]
            footer = kind == UNDERSCORES and not sections
            footer = footer and non_empty_from[i + 1] <= _FOOTER_LINES
            if seen_text and (nxt >= n or kinds[nxt] in _HISTORY or footer):
                end = i
                break
            drop[i] = kind == UNDERSCORES and not seen_text
            # Underscores that did not end the message separate sections; so do later ones.
            sections = sections or (kind == UNDERSCORES and seen_text)
        elif kind == ATTRIBUTION:
            last = spans.get(i, i)
            first_after = blank_or_footer[last + 1]
            quoted = first_after < n and kinds[first_after] == QUOTE
            answer = past_quotes[first_after] if quoted else n
            answered = answer < n and kinds[answer] == TEXT
            if seen_text and not answered:
                end = i
                break
            if not seen_text and answered:
                top_quote = (first_after, answer)
            elif not seen_text and not forwarded and (quoted or _unquoted_mail(lines, i, last)):
                end, history_first = i, True
                break
            i = last
        i += 1
    if top_quote is not None and QUOTE not in kinds[top_quote[1] : end]:
        # Bottom-posting: "On ... wrote:" + its quote on top, the answer below it only.
        drop[top_quote[0] : top_quote[1]] = [True] * (top_quote[1] - top_quote[0])
    kept = [i for i in range(end) if not drop[i]]
    if not any(kinds[i] == TEXT for i in kept):
        first = next((k for k in kinds if k not in _DECORATION), None)
        return Trimmed([], history_first or (first == QUOTE and not forwarded))
    while kinds[kept[-1]] in (EMPTY, QUOTE, RULE, UNDERSCORES):
        kept.pop()
    return Trimmed([lines[i] for i in kept], False)


def _unquoted_mail(lines: list[str], first: int, last: int) -> bool:
    return introduces_unquoted_mail(" ".join(line.strip() for line in lines[first : last + 1]))


def _ends_unknown_attribution(line: str, *, strict: bool = False) -> bool:
    """ "<something with a date or address>:" right above a trailing quote.

    Catches attributions from clients we have no rule for; the quote below it is removed
    anyway, so at worst one introductory line goes with it. On the first line of a mail
    (``strict``) it would make the whole reply a quote, so it needs an address or a time:
    "Here is the log from 3 June:" above a pasted quote is the sender's own line.
    """
    stripped = line.rstrip()
    evidence = "@" in stripped or _TIME.search(stripped) is not None
    if not strict:
        evidence = evidence or any(ch.isdigit() for ch in stripped)
    return stripped.endswith((":", "：")) and len(stripped) < 200 and evidence
