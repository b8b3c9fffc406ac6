"""What a relay's refusal says: whose problem it is, and whether trying again can help.

The transport (``workers.transports.smtp``) takes three roads with a refusal:

- **about the recipient** (only at RCPT): that row alone is deferred (4xx) or failed (5xx),
  and a permanent one marks the address bouncing, as a DSN would. The connection is fine:
  RSET, and the next row uses it.
- **the session is broken** (``421`` closing, ``500`` out of step, ``503`` bad sequence,
  e.g. a nested MAIL after a transaction that was never finished): nothing is known about
  the row, so it is a temporary failure, never a permanent one.
- **anything else** (the sender, the client, relaying, the message, the relay's own
  trouble): it says something about the connection or the relay's configuration, which
  ``postfix reload`` changes for new connections only. The connection is recycled.

A refusal is "about the recipient" by its enhanced status code (RFC 3463: X.1.x addressing
except X.1.7/X.1.8, which are the sender's; X.2.x mailbox) or by Postfix's "Recipient
address rejected" wording. Postfix rejects the sender and the client at RCPT too (its
``smtpd_delay_reject``), as ``554 5.7.1 <us@...>: Sender address rejected``, and a relay
that does not relay for us says ``554 5.7.1 ... Relay access denied`` for every recipient:
neither may mark anybody's address bouncing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SESSION_BROKEN = frozenset({421, 500, 503})
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})(?!\S)")
_SENDER_DETAILS = frozenset({7, 8})  # X.1.7 bad sender mailbox syntax, X.1.8 sender system
_MAILBOX_CODES = frozenset({450, 550, 551, 553})  # RFC 5321's "mailbox" replies
_NOT_THE_RECIPIENT = ("relay", "sender", "client", "helo")


@dataclass(frozen=True, slots=True)
class Reply:
    """One refusal: the reply code and its text, on one line."""

    code: int
    text: str

    @classmethod
    def of(cls, code: int, text: bytes | str) -> Reply:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return cls(code, " ".join(text.split()))

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    @property
    def session_broken(self) -> bool:
        return self.code in SESSION_BROKEN

    @property
    def permanent(self) -> bool:
        """A 5xx that no retry could change (a broken session's 5xx is not one)."""
        return 500 <= self.code < 600 and not self.session_broken

    @property
    def enhanced(self) -> tuple[int, int, int] | None:
        """The RFC 3463 status at the start of the text, e.g. ``(5, 1, 1)``."""
        match = _ENHANCED.match(self.text)
        return (int(match[1]), int(match[2]), int(match[3])) if match else None

    def about_recipient(self) -> bool:
        """Whether a refusal at RCPT concerns the recipient's address or mailbox."""
        if self.session_broken:
            return False
        status = self.enhanced
        if status is not None and status[1] == 1:
            return status[2] not in _SENDER_DETAILS
        if status is not None and status[1] == 2:
            return True
        text = self.text.lower()
        if "recipient address rejected" in text:
            return True
        if status is None and self.code in _MAILBOX_CODES:
            return not any(word in text for word in _NOT_THE_RECIPIENT)
        return False
