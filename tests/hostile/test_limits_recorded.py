"""One mail must not stall the others, and every limit that cut a mail is on record.

Through the real listener and pipeline; the defects must show where an admin looks:
``mail inbox show`` and ``tickets show``.
"""

from __future__ import annotations

import smtplib

import pytest
from sqlalchemy import select

from admin_cli.app import Gateway
from gateway.mail.html import MAX_DEPTH
from schema.models import InboxItem, Message, Ticket
from tests.cli.conftest import Ticketgw, assert_ok

HEAD = (
    "From: Bob <bob@example.org>\r\nTo: support@example.com\r\nMessage-ID: <{mid}@example.org>\r\n"
)


@pytest.fixture
def listener_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "TICKETGW_SMTP_LISTEN": "127.0.0.1:0", "TICKETGW_MAX_MESSAGE_BYTES": "2000000"}


def _nested_lists(depth: int) -> bytes:
    # One nesting level a line, as a mailer would wrap it (SMTP lines end at 1,000).
    html = "<ul><li><ol><li>\r\n" * depth + "deep" + "</li></ol></li></ul>\r\n" * depth
    return (
        HEAD.format(mid="deep") + "Subject: nested\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><body>{html}<p>Please help.</p></body></html>\r\n"
    ).encode()


def _nested_multiparts(depth: int) -> bytes:
    parts = "".join(
        f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n" for i in range(depth)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(depth + 1)))
    return (
        HEAD.format(mid="parts") + "Subject: nested parts\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
        f"{parts}--b{depth}\r\nContent-Type: text/plain\r\n\r\nPlease help.\r\n{closing}"
    ).encode()


def _send(gateway: Gateway, *raws: bytes) -> None:
    with smtplib.SMTP(*gateway.smtp_address, timeout=60) as client:
        for raw in raws:
            assert client.sendmail("bob@example.org", ["support@example.com"], raw) == {}


def test_a_mail_behind_a_deeply_nested_one_is_processed(
    gateway: Gateway, ticketgw: Ticketgw
) -> None:
    behind = (HEAD.format(mid="behind") + "Subject: behind\r\n\r\nMy printer.\r\n").encode()
    _send(gateway, _nested_lists(10_000), behind)
    assert gateway.processor.wait_idle(120)
    with gateway.runtime.sessions() as s:
        items = s.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [(i.status, i.reason) for i in items] == [("done", None), ("done", None)]
        deep, behind_message = s.scalars(select(Message).order_by(Message.id)).all()
        tickets = s.scalars(select(Ticket.subject).order_by(Ticket.id)).all()
    assert tickets == ["nested", "behind"]  # in arrival order, both on tickets
    # The text is the words, not 300 million characters of indentation.
    assert deep.full_text == "deep\n\nPlease help."
    assert deep.html is None
    assert behind_message.full_text == "My printer.\n"
    shown = assert_ok(ticketgw("mail", "inbox", "show", str(items[0].id))).stdout
    assert f"limit {MAX_DEPTH}" in shown
    assert f"limit {MAX_DEPTH}" in assert_ok(ticketgw("tickets", "show", "T-000001")).stdout
    record = assert_ok(ticketgw("tickets", "show", "T-000001", "--json")).json()
    assert any("nested 20002 deep" in d for d in record["messages"][0]["defects"])
    assert (
        assert_ok(ticketgw("tickets", "show", "T-000002", "--json")).json()["messages"][0][
            "defects"
        ]
        == []
    )


def test_a_part_limit_that_cut_a_mail_is_on_record(gateway: Gateway, ticketgw: Ticketgw) -> None:
    _send(gateway, _nested_multiparts(1000))
    assert gateway.processor.wait_idle(120)
    with gateway.runtime.sessions() as s:
        [item] = s.scalars(select(InboxItem)).all()
    assert item.status == "done"
    inbox = assert_ok(ticketgw("mail", "inbox", "show", str(item.id), "--json")).json()
    assert any("part limit" in d for d in inbox["defects"]), inbox
    assert "part limit" in assert_ok(ticketgw("tickets", "show", "T-000001")).stdout
