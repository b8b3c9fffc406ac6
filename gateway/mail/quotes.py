"""Quoted-history and signature stripping (being written; see tests/mail/test_quotes.py)."""

from __future__ import annotations


def visible_text(text: str, html: str | None = None) -> str:
    """Return the new part of a reply: quoted history and signature removed."""
    return text.strip()
