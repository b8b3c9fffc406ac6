"""A big plain-text mail makes small notifications: each agent gets a bounded excerpt with
the size and where to read the rest, and no outbox row holds a copy of the whole text."""

from __future__ import annotations

import json

from sqlalchemy import select

from gateway.pipeline.batch import MAIL_BYTES_PER_BATCH, by_size
from schema.models import OutboxItem
from tests.live import Live, html_of, received, send, settled, text_of
from tests.safety.conftest import ANN, BOB, CUSTOMER

LINE = "2026-12-06 01:00:00 worker[42]: request served in 12 ms, status ok\n"
BIG = 4_000_000  # characters: well past any excerpt, quick enough through the listener


def big_mail() -> bytes:
    head = (
        f"From: Carol Jones <{CUSTOMER}>\r\nTo: support@example.com\r\n"
        "Subject: Our server log\r\nMessage-ID: <log.1@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Our server says this, see below.\r\n\r\n"
    )
    body = LINE * (BIG // len(LINE))
    return (head + body.replace("\n", "\r\n") + "The last line.\r\n").encode()


def test_a_big_mail_makes_bounded_notifications(live: Live) -> None:
    send(live.gateway, big_mail(), sender=CUSTOMER, to="support@example.com")
    for agent in (ANN, BOB):
        notice = received(live.sink, agent, "Our server log")
        text, page = text_of(notice), html_of(notice)
        assert len(notice.as_bytes()) < 100_000
        assert "Our server says this" in text
        assert "The last line." not in text
        assert "of 4,000,0" in text, "the size of the whole message"
        assert "ticketgw tickets show T-000001" in text
        assert "ticketgw tickets show T-000001" in page
    settled(live)
    with live.runtime.sessions() as s:
        contexts = [json.dumps(c) for c in s.scalars(select(OutboxItem.context))]
    assert len(contexts) == 3  # the acknowledgement and two agents
    assert max(len(c) for c in contexts) < 50_000, "no outbox row holds a copy of the text"


def test_big_mails_are_processed_in_batches_of_bounded_size() -> None:
    """Mail arriving together is one transaction, up to MAIL_BYTES_PER_BATCH of it; a bigger mail
    goes alone, so a burst of big mails is never all in memory at once."""
    big = MAIL_BYTES_PER_BATCH // 2 + 1
    sizes = {1: 5_000, 2: 7_000, 3: big, 4: big, 5: MAIL_BYTES_PER_BATCH * 2, 6: 300}
    assert by_size([1, 2, 3, 4, 5, 6], sizes) == [[1, 2, 3], [4], [5], [6]]
    assert by_size(list(range(1, 201)), dict.fromkeys(range(1, 201), 5_000)) == [
        list(range(1, 201))
    ]
