"""Replies in each major client's quote format, through the pipeline: the ticket shows what
the customer wrote, and the whole mail is kept."""

from __future__ import annotations

import pytest

from gateway import tickets
from gateway.runtime import Runtime
from tests.conftest import Ingest
from tests.inbound.mails import new_request, reply
from tests.mail.quote_formats import CLIENTS
from tests.mail.test_quote_headers import NEW, ORIGINAL, _quote

# One locale a client, the ones the suite had no case for.
PICKS = {
    "gmail": "pl",
    "outlook": "desktop-ko",
    "apple": "ja",
    "thunderbird": "pl",
    "yahoo": "de",
    "zoho": "en",
    "proton": "en-old",
}
CASES = [
    pytest.param(header, style, id=f"{client}-{locale}")
    for client, table in CLIENTS.items()
    for locale, header, style in table
    if PICKS[client] == locale
]


def _reply_with(runtime: Runtime, ingest: Ingest, body: str) -> tuple[str, str]:
    original = new_request()
    first = ingest(original)
    answer = reply("gmail", original, "x")
    answer.set_content(body)
    outcome = ingest(answer)
    assert (outcome.decision, outcome.ticket) == ("reply", first.ticket), outcome.reason
    with runtime.sessions() as s:
        message = tickets.messages_of(s, tickets.get_ticket(s, first.ticket))[-1]
        return message.visible_text, message.full_text


@pytest.mark.parametrize(("header", "style"), CASES)
def test_the_ticket_shows_only_the_reply(
    runtime: Runtime, ingest: Ingest, header: str, style: str
) -> None:
    body = f"{NEW}\n\n{header}\n\n{_quote(style)}\n"
    visible, full = _reply_with(runtime, ingest, body)
    assert visible == NEW
    assert full.strip() == body.strip()


@pytest.mark.parametrize(("header", "style"), CASES)
def test_a_reply_that_is_only_a_quote_is_kept_whole_and_shows_nothing(
    runtime: Runtime, ingest: Ingest, header: str, style: str
) -> None:
    body = f"{header}\n\n{_quote(style)}\n"
    visible, full = _reply_with(runtime, ingest, body)
    assert visible == ""
    assert "please restart the router" in full
    assert full.strip() == body.strip()
    assert ORIGINAL.splitlines()[-1] in full
