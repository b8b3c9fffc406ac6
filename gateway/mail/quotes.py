"""The visible text of a reply: what the sender wrote, without quoted history or signature.

Layers, first match wins:

1. our own marker (:data:`REPLY_MARKER`), which every notification we send carries;
2. the HTML structure, when there is an HTML part (:mod:`gateway.mail.quote_html`);
3. multilingual plain-text rules (:mod:`gateway.mail.quote_trim`);
4. the whole text, when the rules leave nothing: losing what a customer wrote is worse
   than showing a quote.
"""

from __future__ import annotations

from gateway.mail.quote_headers import attribution_start
from gateway.mail.quote_html import html_to_text
from gateway.mail.quote_trim import new_lines

__all__ = ["REPLY_MARKER", "visible_text"]

REPLY_MARKER = "##- Please type your reply above this line -##"

# Matched without the "##-" decoration: HTML-to-text converters escape "#" and "-", and
# clients re-wrap or re-quote the line.
_MARKER_CORE = "please type your reply above this line"


def visible_text(text: str, html: str | None = None) -> str:
    """Return the new part of a reply: quoted history and signature removed.

    ``text`` is the plain-text body (possibly html2text output of an HTML-only mail);
    ``html`` is the raw HTML alternative, if any. Never returns an empty string for a body
    that has any non-blank character.
    """
    if html:
        from_html = _strip(html_to_text(html))
        if from_html:
            return from_html
    return _strip(text) or text.strip()


def _strip(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _cut_at_marker(lines)
    return "\n".join(new_lines(lines)).strip()


def _cut_at_marker(lines: list[str]) -> list[str]:
    """Everything above our marker line, minus the client's attribution right above it."""
    index = next((i for i, line in enumerate(lines) if _MARKER_CORE in line.lower()), None)
    if index is None:
        return lines
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
