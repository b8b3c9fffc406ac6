"""Every major client's quote header, in its locales: the reply shows only the new text.

The table is in quote_formats.py; each case is a reply above the client's header and the
quoted mail in that client's style (``>``-prefixed, as it was, or indented).
"""

from __future__ import annotations

import html2text
import pytest

from gateway.mail.quotes import visible_text
from tests.mail.quote_formats import CLIENTS, FOOTERS, INDENT, PLAIN

NEW = "Thanks, the router works again.\n\nKim"
ORIGINAL = "Hello Kim,\n\nplease restart the router and tell us\nif the light turns green.\n\nDana"


def _quote(style: str) -> str:
    if style == PLAIN:
        return ORIGINAL
    if style == INDENT:
        return "\n".join(f"    {line}".rstrip() for line in ORIGINAL.splitlines())
    return "\n".join(f"> {line}".rstrip() for line in ORIGINAL.splitlines())


CASES = [
    pytest.param(header, style, id=f"{client}-{locale}")
    for client, table in CLIENTS.items()
    for locale, header, style in table
]


@pytest.mark.parametrize(("header", "style"), CASES)
def test_reply_above_the_quote_shows_only_the_reply(header: str, style: str) -> None:
    reply = f"{NEW}\n\n{header}\n\n{_quote(style)}\n"
    assert visible_text(reply) == NEW


@pytest.mark.parametrize(("header", "style"), CASES)
def test_reply_without_blank_lines_around_the_header(header: str, style: str) -> None:
    reply = f"{NEW}\n{header}\n{_quote(style)}\n"
    assert visible_text(reply) == NEW


@pytest.mark.parametrize(("header", "style"), CASES)
def test_a_reply_that_is_only_a_quote_shows_nothing(header: str, style: str) -> None:
    assert visible_text(f"{header}\n\n{_quote(style)}\n") == ""


@pytest.mark.parametrize(("header", "style"), CASES)
def test_the_same_reply_as_html_only(header: str, style: str) -> None:
    """An HTML-only mail we know no structure of: html2text's rendering of the same text."""
    escaped = header.replace(">", "&gt;").replace("<", "&lt;")
    text = f"{NEW}\n\n{escaped}\n\n{_quote(style).replace('>', '&gt;')}"
    html = "".join(f"<div>{line or '<br>'}</div>" for line in text.splitlines())
    ours = visible_text(html2text.html2text(html))
    # html2text renders an empty <div><br></div> as a line of spaces: compare the words
    assert [line.strip() for line in ours.splitlines() if line.strip()] == [
        "Thanks, the router works again.",
        "Kim",
    ]


@pytest.mark.parametrize("footer", FOOTERS)
def test_mobile_footers(footer: str) -> None:
    attribution = "On 3 Jun 2024, at 09:12, Dana Example <dana@example.com> wrote:"
    reply = f"On my way.\n\n{footer}\n\n{attribution}\n\n> Hi\n"
    assert visible_text(reply) == "On my way."
    assert visible_text(f"On my way.\n\n{footer}\n") == "On my way."
