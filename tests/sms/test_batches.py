"""SMS that wait in the inbox together are processed in one batch, each as if alone.

The processor takes every SMS waiting at once through the pipeline in one transaction;
what an SMS looks up (its MessageSid, its sender, the sender's opt-out and open ticket) is
read for the whole batch up front. These SMS depend on the ones before them in the same
batch: a new sender's second SMS, a keyword followed by a message, a repeated MessageSid.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from gateway.inbound.inbox import Incoming, accept_all
from gateway.pipeline.batch import ItemOutcome, process_pending
from gateway.runtime import Runtime
from schema.models import ContactIdentity, InboxItem, Message, OutboxItem, Ticket
from tests.sms.conftest import receive_sms, sms_fields

NEW = "+14155550001"
KNOWN = "+14155550002"
STOPS = "+14155550003"
RETURNS = "+14155550004"


def _batch(runtime: Runtime, sms: Sequence[tuple[str, str]], again: str = "") -> list[ItemOutcome]:
    """Accept ``(sender, text)`` SMS (and once more the SMS ``again``), then process them
    all in one go, as the processor finds them after a burst."""
    incoming = []
    for sender, text in sms:
        fields = sms_fields(text, sender=sender)
        key = f"sms:{dict(fields)['MessageSid']}"
        incoming.append(Incoming(urlencode(fields).encode(), "sms", "twilio", key))
    if again:
        # The same MessageSid stored twice (a redelivery that got past the inbox's key).
        fields = sms_fields("Hello again", sender=KNOWN, sid=again)
        incoming.append(Incoming(urlencode(fields).encode(), "sms", "twilio", f"{again}:twice"))
    with runtime.transaction() as session:
        accept_all(session, incoming)
    return process_pending(runtime.sessions, runtime.settings)


def test_a_batch_of_sms_threads_and_honours_keywords_as_one_by_one(
    sms_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    sid = receive_sms(sms_runtime, "My router is broken", sender=KNOWN)
    caplog.set_level(logging.INFO, logger="gateway.pipeline.batch")
    outcomes = _batch(
        sms_runtime,
        [
            (NEW, "Where is my parcel?"),
            (KNOWN, "Any news?"),
            (NEW, "It was due yesterday"),
            (STOPS, "STOP"),
            (STOPS, "Please call me instead"),
            (RETURNS, "STOP"),
            (RETURNS, "YES"),
            (RETURNS, "Back again"),
        ],
        again=sid,
    )
    assert [(o.status, o.decision, o.new_ticket) for o in outcomes] == [
        ("done", "new", True),
        ("done", "reply", False),
        ("done", "reply", False),
        ("ignored", "ignore", False),
        ("done", "new", True),
        ("ignored", "ignore", False),
        ("ignored", "ignore", False),
        ("done", "new", True),
        ("duplicate", "ignore", False),
    ]
    assert "running each alone" not in caplog.text  # all of them went through as one batch
    with sms_runtime.sessions() as s:
        by_sender = {
            t.contact.identity("phone").value: t  # type: ignore[union-attr]
            for t in s.scalars(select(Ticket))
        }
        assert sorted(by_sender) == sorted([KNOWN, NEW, STOPS, RETURNS])
        texts = {
            number: [
                m.visible_text
                for m in s.scalars(
                    select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
                )
            ]
            for number, ticket in by_sender.items()
        }
        assert texts[NEW] == ["Where is my parcel?", "It was due yesterday"]
        assert texts[KNOWN] == ["My router is broken", "Any news?"]
        # One acknowledgement per new ticket; the one to the number that opted out in
        # the same batch is written failed, the one to the number that opted back in is not.
        acks = {
            row.recipient: row.status
            for row in s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_ack"))
        }
        assert acks == {KNOWN: "pending", NEW: "pending", STOPS: "failed", RETURNS: "pending"}
        opted_out = {
            i.value: i.sms_opted_out_at is not None for i in s.scalars(select(ContactIdentity))
        }
        assert opted_out == {KNOWN: False, NEW: False, STOPS: True, RETURNS: False}
        last = s.scalars(select(InboxItem).order_by(InboxItem.id.desc())).first()
        assert last is not None
        assert last.thread_reason == f"duplicate of SMS {sid}, already on a ticket"
