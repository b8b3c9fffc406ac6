"""Whose problem a relay's refusal is: the rules the SMTP transport acts on."""

from __future__ import annotations

import pytest

from workers.transports.smtp_replies import Reply

# (reply, about the recipient, permanent)
CASES = [
    ("554 5.1.1 <a@x.example>: Recipient address rejected: User unknown", True, True),
    ("550 5.1.1 no such mailbox", True, True),
    ("552 5.2.2 mailbox full", True, True),
    ("450 4.2.1 mailbox busy", True, False),
    ("554 5.7.1 <a@x.example>: Recipient address rejected: Access denied", True, True),
    ("550 No such user here", True, True),
    # Postfix rejects the sender and the client at RCPT (smtpd_delay_reject).
    ("554 5.7.1 <gw@example.com>: Sender address rejected: Access denied", False, True),
    ("553 5.1.8 <gw@example.com>: Sender address rejected: Domain not found", False, True),
    ("450 4.7.1 <h>: Client host rejected: cannot find your hostname", False, False),
    ("554 5.7.1 <a@x.example>: Relay access denied", False, True),
    ("550 relaying denied", False, True),
    ("452 4.5.3 Error: too many recipients", False, False),
    # A broken session is never about the recipient and never permanent.
    ("503 5.5.1 Error: nested MAIL command", False, False),
    ("503 Error: nested MAIL command", False, False),
    ("421 4.4.2 mx.example.com Error: timeout exceeded", False, False),
    ("500 5.5.2 Error: command not recognized", False, False),
]


@pytest.mark.parametrize(("line", "about_recipient", "permanent"), CASES)
def test_refusals_are_read_by_status_code_and_postfix_wording(
    line: str, about_recipient: bool, permanent: bool
) -> None:
    code, _, text = line.partition(" ")
    reply = Reply.of(int(code), text.encode())
    assert (reply.about_recipient(), reply.permanent) == (about_recipient, permanent)
    assert str(reply) == line
