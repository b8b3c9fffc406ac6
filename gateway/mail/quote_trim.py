"""Decide, from the line kinds, which lines of a plain-text reply are new.

The walk stops at the first sign of history that follows new text: a signature delimiter,
a forward separator, an Outlook header block, an attribution whose quote is not answered
inline, or a rule with only history (or, for underscores, a short footer) below it. Before
any new text those same lines are only dropped (a forward with no comment keeps the
forwarded mail). Quotes that trail the reply go; quotes followed by new text stay,
because the text between them is an inline answer and losing it is worse than keeping a
quote.
"""

from __future__ import annotations

from gateway.mail.quote_text import (
    ATTRIBUTION,
    DELIMITER,
    EMPTY,
    FIELDS,
    FOOTER,
    FORWARD,
    QUOTE,
    RULE,
    TEXT,
    UNDERSCORES,
    classify,
)

_HISTORY = frozenset({DELIMITER, UNDERSCORES, FIELDS, FORWARD, ATTRIBUTION, QUOTE})
# An underscore rule with at most this many lines below it is a signature or list footer.
_FOOTER_LINES = 10


def _next_index(kinds: list[str], skip: frozenset[str]) -> list[int]:
    """For each i, the first index >= i whose kind is not in ``skip`` (len(kinds) if none)."""
    result = [len(kinds)] * (len(kinds) + 1)
    for i in range(len(kinds) - 1, -1, -1):
        result[i] = result[i + 1] if kinds[i] in skip else i
    return result


def new_lines(lines: list[str]) -> list[str]:
    """The lines of ``lines`` that the sender wrote for this reply (maybe none)."""
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
    i = 0
    while i < end:
        kind = kinds[i]
        if kind == TEXT:
            nxt = blank_or_footer[i + 1]
            quote_to_end = nxt < n and kinds[nxt] == QUOTE and past_quotes[nxt] >= n
            if seen_text and quote_to_end and _ends_unknown_attribution(lines[i]):
                end = i
                break
            seen_text = True
        elif kind in (DELIMITER, FORWARD, FIELDS):
            if seen_text:
                end = i
                break
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
            i = last
        i += 1
    if top_quote is not None and QUOTE not in kinds[top_quote[1] : end]:
        # Bottom-posting: "On ... wrote:" + its quote on top, the answer below it only.
        drop[top_quote[0] : top_quote[1]] = [True] * (top_quote[1] - top_quote[0])
    kept = [i for i in range(end) if not drop[i]]
    if not any(kinds[i] == TEXT for i in kept):
        return []  # only quotes and decoration: the sender wrote nothing we can tell apart
    while kinds[kept[-1]] in (EMPTY, QUOTE, RULE, UNDERSCORES):
        kept.pop()
    return [lines[i] for i in kept]


def _ends_unknown_attribution(line: str) -> bool:
    """ "<something with a date or address>:" right above a trailing quote.

    Catches attributions from clients we have no rule for; the quote below it is removed
    anyway, so at worst one introductory line goes with it.
    """
    stripped = line.rstrip()
    return (
        stripped.endswith((":", "："))
        and len(stripped) < 200
        and ("@" in stripped or any(ch.isdigit() for ch in stripped))
    )
