"""What the relay answers, and what becomes of the row, the address and the connection.

Each case is one that Postfix in front of the gateway showed (docs/deploy.md); the sink
answers the way Postfix did.
"""

from __future__ import annotations

from dataclasses import replace
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from schema.models import ContactIdentity, OutboxItem
from tests.conftest import Ingest
from tests.inbound.mails import new_request
from tests.waiting import wait_until
from tests.workers.conftest import FAST, AddRows, Workers, row, statuses
from tests.workers.sink import Recorder
from workers.enqueue import to_broker
from workers.transports.smtp import Reuse

Sink = tuple[Recorder, Controller]
JOSE = "josé@example.com"


def _from_jose(runtime: Runtime, ingest: Ingest) -> int:
    """A customer writes from a UTF-8 address (accepted with SMTPUTF8); their ack's row."""
    mail = new_request(sender=JOSE, name="José")
    ingest(mail.as_bytes(policy=policy.SMTPUTF8))
    with runtime.sessions() as session:
        return session.scalars(select(OutboxItem.id).where(OutboxItem.recipient == JOSE)).one()


def _all_done(runtime: Runtime, count: int) -> None:
    wait_until(
        lambda: sum(statuses(runtime).get(s, 0) for s in ("sent", "failed")) == count,
        what=f"{count} rows sent or failed",
    )


def test_a_utf8_recipient_is_answered_with_smtputf8(
    runtime: Runtime, ingest: Ingest, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    ack = _from_jose(runtime, ingest)
    others = add_rows(2)
    relay_pending(runtime.sessions, to_broker(workers(threads=1)))
    _all_done(runtime, 3)
    assert {row(runtime, i).status for i in (ack, *others)} == {"sent"}
    sent = zip(recorder.envelopes, recorder.mail_options, recorder.messages, strict=True)
    [(options, mail)] = [(o, m) for (_, rcpts), o, m in sent if rcpts == [JOSE]]
    assert "SMTPUTF8" in options
    assert mail["To"].addresses[0].addr_spec == JOSE
    assert "[T-000001]" in str(mail["Subject"])


def test_without_smtputf8_only_the_utf8_row_fails_and_says_why(
    runtime: Runtime, ingest: Ingest, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, controller = sink
    recorder.smtputf8 = False
    ack = _from_jose(runtime, ingest)
    others = add_rows(4)  # after the UTF-8 row, on the same connection
    relay_pending(runtime.sessions, to_broker(workers(threads=1)))
    _all_done(runtime, 5)
    assert [row(runtime, i).status for i in others] == ["sent"] * 4
    failed = row(runtime, ack)
    assert failed.status == "failed"
    assert failed.last_error == (
        f"{JOSE} needs SMTPUTF8, which relay 127.0.0.1:{controller.port} does not offer"
    )
    assert len(recorder.messages) == 4


def test_a_broken_session_is_tried_again_on_a_fresh_connection(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    broker = workers(threads=1)
    [first] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(broker))
    wait_until(lambda: row(runtime, first).status == "sent", what="first row sent")
    # Postfix's answer to a MAIL inside a transaction left open by an earlier failure.
    recorder.mail_replies = ["503 5.5.1 Error: nested MAIL command"]
    [second] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(broker))
    wait_until(lambda: row(runtime, second).status == "sent", what="second row sent")
    assert row(runtime, second).attempts == 1
    assert recorder.sessions == 2


def test_a_broken_session_on_a_fresh_connection_is_a_temporary_failure(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    recorder.mail_replies = [
        "421 4.4.2 mx.example.com Error: timeout exceeded",
        "503 5.5.1 Error: nested MAIL command",
    ]
    [row_id] = add_rows(1)
    relay_pending(runtime.sessions, to_broker(workers(threads=1)))
    wait_until(lambda: row(runtime, row_id).status == "sent", what="row sent at last")
    assert row(runtime, row_id).attempts == 3  # two deferrals, never a permanent failure


@pytest.mark.parametrize(
    "refusal",
    [
        "554 5.7.1 <bob@customer.example>: Relay access denied",
        "550 5.1.1 <bob@customer.example>: Recipient address rejected: User unknown",
    ],
    ids=["relaying", "recipient"],
)
def test_after_a_relay_reload_old_connections_do_not_fail_the_burst(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: Sink, refusal: str
) -> None:
    recorder, _ = sink
    # Before the fix of its configuration, the relay refused mail to customers.
    recorder.refuse_rcpt = {"@customer.example": refusal}
    broker = workers(threads=2)
    early = add_rows(2, recipient="ann@support.test")
    relay_pending(runtime.sessions, to_broker(broker))
    wait_until(lambda: statuses(runtime) == {"sent": 2}, what="connections in use")
    opened = recorder.sessions
    recorder.reload(refuse_rcpt={})  # fixed; `postfix reload`
    burst = add_rows(20, recipient="bob@customer.example")
    relay_pending(runtime.sessions, to_broker(broker))
    _all_done(runtime, 22)
    assert [row(runtime, i).status for i in early + burst] == ["sent"] * 22
    # Each connection from before the reload refused once, and was replaced.
    assert recorder.sessions == 2 * opened


@pytest.mark.parametrize(
    ("reuse", "rows", "connections"),
    [(Reuse(messages=3), 10, 4), (Reuse(seconds=0), 3, 3)],
    ids=["after-3-mails", "after-0-seconds"],
)
def test_connections_are_recycled_after_a_number_of_mails_or_a_time(
    runtime: Runtime,
    add_rows: AddRows,
    workers: Workers,
    sink: Sink,
    reuse: Reuse,
    rows: int,
    connections: int,
) -> None:
    broker = workers(threads=1, options=replace(FAST, relay_reuse=reuse))
    add_rows(rows)
    relay_pending(runtime.sessions, to_broker(broker))
    _all_done(runtime, rows)
    assert sink[0].sessions == connections


def test_a_permanent_refusal_at_rcpt_marks_the_address_bouncing(
    runtime: Runtime, ingest: Ingest, workers: Workers, sink: Sink
) -> None:
    recorder, _ = sink
    recorder.refuse_rcpt = {
        "gone@example.org": "554 5.1.1 <gone@example.org>: Recipient address rejected: unknown",
        "@relay.example": "554 5.7.1 <x@relay.example>: Relay access denied",
    }
    ingest(new_request(sender="gone@example.org"))
    ingest(new_request(sender="carol@relay.example"))
    relay_pending(runtime.sessions, to_broker(workers(threads=1)))
    _all_done(runtime, 2)
    with runtime.sessions() as session:
        gone, carol = (
            session.scalars(select(OutboxItem).where(OutboxItem.recipient == a)).one()
            for a in ("gone@example.org", "carol@relay.example")
        )
        bouncing = dict(
            session.execute(select(ContactIdentity.value, ContactIdentity.bouncing_since)).all()
        )
    assert (gone.status, gone.delivery_status) == ("failed", "bounced")
    assert "554 5.1.1" in (gone.last_error or "")
    assert bouncing["gone@example.org"] is not None
    # Refused for a reason that is not the address: the row fails, the address is fine.
    assert (carol.status, carol.delivery_status) == ("failed", None)
    assert bouncing["carol@relay.example"] is None
    # Like after a DSN: the next ticket from the bouncing address gets no acknowledgement.
    ingest(new_request(sender="gone@example.org", subject="Still broken"))
    with runtime.sessions() as session:
        acks = session.scalars(select(OutboxItem).where(OutboxItem.recipient == "gone@example.org"))
        assert len(acks.all()) == 1
