"""Turn a reply's HTML into plain text, leaving out the history that mail clients mark up.

Mail clients mark their quoted history, so the HTML says for certain what the plain-text
rules can only guess. This renderer:

* renders ``<blockquote>`` as ``>``-prefixed lines, so the text rules keep inline answers
  written between quotes and drop the quotes that merely trail the reply;
* drops attribution and signature containers (Gmail ``gmail_attr``/``gmail_signature``,
  Thunderbird ``moz-cite-prefix``, Yahoo ``yahoo_quoted``, Outlook web ``#Signature``), and
  inside Gmail's ``gmail_quote`` everything before its first blockquote (the attribution);
* stops at the elements after which Outlook puts nothing but history: ``#divRplyFwdMsg``,
  ``#appendonsend``, Outlook for Mac's ``#OLK_SRC_BODY_SECTION``, and a ``border-top``
  block that holds a From/Sent/To header.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from gateway.mail.quote_headers import header_field

_SKIP_CONTENT = frozenset({"head", "style", "script", "title", "template"})
_BLOCK = frozenset(
    {
        "p", "div", "br", "li", "tr", "table", "thead", "tbody", "tfoot", "ul", "ol", "dl",
        "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "blockquote", "section",
        "article", "header", "footer", "center", "address", "form", "fieldset",
    }
)  # fmt: skip
_VOID = frozenset(
    {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
)
_DROP_CLASSES = ("gmail_attr", "gmail_signature", "moz-cite-prefix", "yahoo_quoted")
_STOP_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "olk_src_body_section"})
_DROP_IDS = frozenset({"signature"})
_STRUCTURAL = frozenset({"drop", "quote", "attribution", "border"})
_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # not \s: &nbsp; must survive until _flush
_BLANK_RUN = re.compile(r"\n(?:>* *\n){2,}")


class _Stop(Exception):
    """Raised inside the parser once only history can follow."""


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._buffer: list[str] = []
        self._stack: list[tuple[str, str, int]] = []  # (tag, action on close, line index)
        # Stack positions by tag, and of quote-like entries: an end tag finds its element
        # in O(1), so stray end tags in deep HTML cannot make the walk quadratic.
        self._open: dict[str, list[int]] = {}
        self._barriers: list[int] = []
        self._quote_depth = 0
        self._dropping = 0
        self._skipping = 0
        self._pre = 0
        self._attribution = 0  # open gmail_quote divs whose first blockquote is still ahead

    def _flush(self, line_break: bool = False) -> None:
        """End the current line; an explicit ``<br>`` on an empty line makes a blank line."""
        text = "".join(self._buffer)
        self._buffer.clear()
        if "\xa0" in text:
            # A block holding only &nbsp; is how many clients write an empty line.
            line_break = True
            text = text.replace("\xa0", " ")
        if not self._pre:
            text = text.strip()
        if text or line_break:
            self.lines.append(("> " * self._quote_depth + text).rstrip())

    def _action(self, tag: str, attrs: dict[str, str]) -> str:
        classes = attrs.get("class", "").split()
        ident = attrs.get("id", "").lower()
        if ident in _STOP_IDS:
            raise _Stop
        if any(name in classes for name in _DROP_CLASSES) or ident in _DROP_IDS:
            return "drop"
        if tag == "blockquote":
            return "quote"
        if tag == "div" and "gmail_quote" in classes:
            return "attribution"
        style = attrs.get("style", "").replace(" ", "").lower()
        if tag == "div" and "border-top:solid" in style:
            return "border"
        if tag == "p":
            # Word's MsoNormal paragraphs have no margin: one per line, and an empty one
            # is the blank line. Other paragraphs are separated by a blank line.
            return "line" if "MsoNormal" in classes else "paragraph"
        return ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self._flush(line_break=tag == "br")
        if tag in _VOID:
            return
        action = "" if self._dropping else self._action(tag, {k: v or "" for k, v in attrs})
        self._open.setdefault(tag, []).append(len(self._stack))
        if action in _STRUCTURAL:
            self._barriers.append(len(self._stack))
        self._stack.append((tag, action, len(self.lines)))
        if action == "drop":
            self._dropping += 1
        elif action == "quote":
            self._quote_depth += 1
            self._attribution = 0
        elif action == "attribution":
            self._attribution += 1
        if tag in _SKIP_CONTENT:
            self._skipping += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._buffer.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK:
            self._flush()
        positions = self._open.get(tag)
        if not positions or (self._barriers and self._barriers[-1] > positions[-1]):
            # Not open, or open only outside a quote: a stray end tag (mail HTML is rarely
            # balanced) must not close the quote around it.
            return
        target = positions[-1]
        while len(self._stack) > target:
            open_tag, action, start = self._stack.pop()
            self._open[open_tag].pop()
            if action in _STRUCTURAL:
                self._barriers.pop()
            self._close(open_tag, action, start)

    def _close(self, tag: str, action: str, start: int) -> None:
        if action == "drop":
            self._dropping -= 1
        elif action == "quote":
            self._quote_depth -= 1
        elif action == "attribution":
            self._attribution = max(0, self._attribution - 1)
        elif action == "border" and _holds_reply_header(self.lines[start : start + 12]):
            del self.lines[start:]
            raise _Stop
        elif action == "paragraph" or (action == "line" and len(self.lines) == start):
            self.lines.append("> " * self._quote_depth)
        if tag in _SKIP_CONTENT:
            self._skipping -= 1
        elif tag == "pre":
            self._pre -= 1

    def handle_data(self, data: str) -> None:
        if self._dropping or self._skipping or self._attribution:
            return
        self._buffer.append(data if self._pre else _SPACE.sub(" ", data))


def _holds_reply_header(lines: list[str]) -> bool:
    kinds = {header_field(line) for line in lines}
    return "from" in kinds and len(kinds - {None}) >= 2


def html_to_text(html: str) -> str:
    """Plain text of ``html`` with client-marked history left out or ``>``-quoted."""
    renderer = _Renderer()
    try:
        renderer.feed(html)
        renderer.close()
    except _Stop:
        pass
    renderer._flush()
    return _BLANK_RUN.sub("\n\n", "\n".join(line.rstrip() for line in renderer.lines)).strip()
