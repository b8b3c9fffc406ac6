"""Line-based rules that find the new part of a plain-text reply.

Each line gets one kind (one pass, plus a bounded look-back for wrapped attributions), then
one forward walk decides where the history starts. Nothing here matches a regex against
the whole text, so run time stays linear whatever the input (a 766 KB quote included).
"""

from __future__ import annotations

import re

from gateway.mail.quote_headers import (
    DASHES,
    attribution_start,
    could_end_attribution,
    ends_with_bare_verb,
    header_field,
    is_fenced_attribution,
    is_forward_separator,
    is_original_separator,
)
from gateway.mail.signatures import (
    is_device_footer,
    is_rule,
    is_signature_delimiter,
    is_underscore_rule,
)

(EMPTY, TEXT, QUOTE, ATTRIBUTION, FIELDS, FORWARD, ORIGINAL, DELIMITER, UNDERSCORES, RULE,
 FOOTER) = "etqafwodurs"  # fmt: skip

# "Richard> text" and "C>" quoting from old usenet readers.
_NAMED_QUOTE = re.compile(r"[A-Z][A-Za-z]{0,11}>")
_RULE_START = frozenset("-_=*~+#—ᐧ" + DASHES)


def _line_kind(stripped: str) -> str:
    if not stripped:
        return EMPTY
    if stripped[0] == "\\" and len(stripped) > 1 and stripped[1] in _RULE_START:
        stripped = stripped[1:]  # html2text escapes a leading "-", "#", "+" or "*"
    first = stripped[0]
    if first == ">" or (first == "|" and (stripped == "|" or not stripped.endswith("|"))):
        return QUOTE
    if first.isupper() and _NAMED_QUOTE.match(stripped):
        return QUOTE
    # Cheap first-character tests keep the common text line to a few string operations.
    if first in _RULE_START:
        if is_signature_delimiter(stripped):
            return DELIMITER
        if is_underscore_rule(stripped):
            return UNDERSCORES
        if is_rule(stripped):
            return RULE
    if first in _RULE_START or stripped[-1] in ":：":
        if is_forward_separator(stripped):
            return FORWARD
        if is_original_separator(stripped):
            return ORIGINAL
    if first in "-=" and is_fenced_attribution(stripped):
        return ATTRIBUTION
    if is_device_footer(stripped):
        return FOOTER
    return TEXT


def classify(lines: list[str]) -> tuple[list[str], dict[int, int]]:
    """The kind of every line, and for each attribution its first line -> last line."""
    kinds: list[str] = []
    fenced = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced
            kinds.append(TEXT)
        else:
            kinds.append(TEXT if fenced else _line_kind(stripped))
    spans: dict[int, int] = {}
    for i, line in enumerate(lines):
        kind = kinds[i]
        bare_verb = kind == QUOTE and ends_with_bare_verb(line)
        if (kind == TEXT and could_end_attribution(line)) or bare_verb:
            start = attribution_start(lines, i)
            if start is not None and all(k in (TEXT, EMPTY) for k in kinds[start:i]):
                kinds[start : i + 1] = [ATTRIBUTION] * (i + 1 - start)
                spans[start] = i
    _mark_header_blocks(lines, kinds)
    return kinds, spans


def _mark_header_blocks(lines: list[str], kinds: list[str]) -> None:
    """Mark runs of "From: / Sent: / To: / Subject:" lines as FIELDS.

    A block needs a sender field and three different fields; up to two unlabelled lines
    between fields are the wrapped tail of a long To: or Cc:, and single blank lines between
    fields are how HTML-to-text conversion renders Word's one paragraph per field.
    """
    i, n = 0, len(lines)
    while i < n:
        if kinds[i] != TEXT or header_field(lines[i]) is None:
            i += 1
            continue
        seen: set[str] = set()
        last = j = i
        loose = 0
        while j < n and kinds[j] in (TEXT, EMPTY):
            if kinds[j] == EMPTY:
                if kinds[j - 1] == EMPTY:
                    break
                j += 1
                continue
            field = header_field(lines[j])
            if field is not None:
                seen.add(field)
                last, loose = j, 0
            elif loose < 2:
                loose += 1
            else:
                break
            j += 1
        if "from" in seen and len(seen) >= 3:
            kinds[i : last + 1] = [FIELDS] * (last + 1 - i)
        # A sub-run of a failed run has fewer fields, so it cannot succeed either.
        i = max(j, i + 1)
