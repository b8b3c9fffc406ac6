"""HTML bodies: readable text for HTML-only mail, and a sanitised copy for display.

``html2text`` gives text an agent can read and quote (links kept, images dropped);
``nh3`` (ammonia) sanitises about 19x faster than the deprecated bleach. ``cid:`` stays an
allowed URL scheme so inline images keep pointing at their attachments.
"""

from __future__ import annotations

import re

import html2text
import nh3

_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def html_to_text(html: str) -> str:
    """Plain text for an HTML-only body; never raises (falls back to tag stripping)."""
    converter = html2text.HTML2Text()  # stateful: one per call
    converter.body_width = 0  # keep paragraphs on one line; quoting rules want real lines
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True  # keep "é", not "e"
    try:
        text = converter.handle(html)
    except Exception:  # html2text has raised on malformed tables and entities
        text = nh3.clean(html, tags=set())
    return _BLANK_LINES.sub("\n\n", text).strip()


def sanitize_html(html: str) -> str:
    """The HTML alternative, safe to show in an agent's browser."""
    return nh3.clean(html, url_schemes=_URL_SCHEMES)
