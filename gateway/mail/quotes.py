"""The visible text of a reply: what the sender wrote, without quoted history or signature.

Layers, first match wins:

1. our own marker (:data:`REPLY_MARKER`), which every notification we send carries;
2. the HTML structure, when there is an HTML part (:mod:`gateway.mail.quote_html`);
3. multilingual plain-text rules (:mod:`gateway.mail.quote_trim`, the client formats in
   :mod:`gateway.mail.quote_headers`);
4. nothing, when the mail is only the quote of the mail it answers (sent without a word
   typed); the whole text, when the rules can tell nothing apart: losing what a customer
   wrote is worse than showing a quote. The full text is always kept beside it.
"""

from __future__ import annotations

from gateway.mail.quote_headers import attribution_start
from gateway.mail.quote_html import html_to_text
from gateway.mail.quote_trim import Trimmed, trim

__all__ = ["REPLY_MARKER", "visible_text"]

REPLY_MARKER = "##- Please type your reply above this line -##"

# The rules read at most this much of a text. A reply's new part and the start of its
# history come first; what lies beyond is a pasted log or document. A 10 MB log took the
# rules 7.5 s and 75 MB (a list entry and a kind for each of its 135,000 lines), to keep
# every line of it.
SCAN_CHARS = 256 * 1024

# Matched without the "##-" decoration: HTML-to-text converters escape "#" and "-", and
# clients re-wrap or re-quote the line.
_MARKER_CORE = "please type your reply above this line"


def visible_text(text: str, html: str | None = None, *, forwarded: bool = False) -> str:
    """Return the new part of a reply: quoted history and signature removed.

    ``text`` is the plain-text body (possibly html2text output of an HTML-only mail);
    ``html`` is the raw HTML alternative, if any; ``forwarded`` says the subject marks a
    forward (the mail below a header block is then shown). Returns "" only for a reply
    that is nothing but the quote of the mail it answers, and for a blank body.
    """
    if html:
        from_html = _strip(html_to_text(html), forwarded)
        if from_html.lines or from_html.only_history:
            return _joined(from_html)
    from_text = _strip(text, forwarded)
    if from_text.lines or from_text.only_history:
        return _joined(from_text)
    return text.strip()


def _joined(trimmed: Trimmed) -> str:
    return "\n".join(trimmed.lines).strip()


def _strip(text: str, forwarded: bool) -> Trimmed:
    """The rules over the first :data:`SCAN_CHARS` of ``text``; the rest is kept when that
    start has no history in it (the rules would end in history, had they found any)."""
    head = text if len(text) <= SCAN_CHARS else text[: text.rfind("\n", 0, SCAN_CHARS) + 1]
    lines = head.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    above = _cut_at_marker(lines)
    if above is not None and not any(line.strip(" >") for line in above):
        return Trimmed([], True)  # only our notification, quoted back
    found = trim(lines if above is None else above, forwarded=forwarded)
    if not "\n".join(found.lines).strip() and not found.only_history:
        return Trimmed([], False)
    if len(head) < len(text) and _joined(found) == "\n".join(lines).strip():
        return Trimmed(text.strip().split("\n"), False)
    return found


def _cut_at_marker(lines: list[str]) -> list[str] | None:
    """Everything above our marker line, minus the client's attribution right above it;
    ``None`` when the marker is not there."""
    index = next((i for i, line in enumerate(lines) if _MARKER_CORE in line.lower()), None)
    if index is None:
        return None
    above = index - 1
    while above >= 0 and not lines[above].strip(" >"):
        above -= 1
    if above < 0:
        return []
    last = lines[above].rstrip()
    start = attribution_start(lines, above) if last.endswith((":", "：", ">")) else None
    if start is not None:
        return lines[:start]
    if last.endswith((":", "：")) and ("@" in last or any(c.isdigit() for c in last)):
        # An attribution format we have no rule for; it introduces our own notification.
        return lines[:above]
    return lines[:index]
