"""IMAP mailboxes the gateway reads, with each one's checkpoint and state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from schema.models.base import Base, choice, utcnow

TLS_MODES = ("implicit", "starttls", "none")
AFTER_ACTIONS = ("move", "flag", "delete")


class Mailbox(Base):
    """One folder of one IMAP account; what to do with a mail once it is stored.

    ``uidvalidity`` and ``last_uid`` are the checkpoint: every mail of the folder up to
    ``last_uid`` (under that UIDVALIDITY) is committed to the inbox. They are written in
    the transaction that stores the mails, never before. IMAP UIDs are 32-bit unsigned,
    hence the big integers.
    """

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    tls: Mapped[str] = mapped_column(choice(*TLS_MODES, name="mailbox_tls"))
    username: Mapped[str] = mapped_column(String(320))
    # A Fernet token (see gateway.imap.credentials), never the password itself.
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    # XOAUTH2: a program that prints a fresh access token.
    token_command: Mapped[str | None] = mapped_column(Text)
    ca_file: Mapped[str | None] = mapped_column(String(1000))
    folder: Mapped[str] = mapped_column(String(500), default="INBOX")
    after: Mapped[str] = mapped_column(choice(*AFTER_ACTIONS, name="mailbox_after"))
    move_to: Mapped[str | None] = mapped_column(String(500))
    failed_to: Mapped[str | None] = mapped_column(String(500))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    poll_seconds: Mapped[int] = mapped_column(Integer, default=60)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Changes with every `mailboxes update`, so a running poller knows to reconnect.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # What the poller last said: connecting | connected | error | stopped.
    state: Mapped[str] = mapped_column(String(16), default="new")
    messages: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    # The lease (gateway.imap.lease): the one gateway reading this mailbox, until when.
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]


class MailboxUid(Base):
    """Which inbox item a mailbox's UID became: IMAP's own dedupe key.

    The inbox dedupes by Message-ID; this dedupes by mailbox + UIDVALIDITY + UID, so a
    mail fetched again (a crash before its post-action) is known before its bytes are
    even looked at, whatever its headers say.
    """

    __tablename__ = "mailbox_uids"

    mailbox_id: Mapped[int] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True
    )
    uidvalidity: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("inbox.id", ondelete="CASCADE"), index=True)
    # When a mail the pipeline parked failed went to the failed folder (gateway.imap.failed_filing).
    filed_at: Mapped[datetime | None]
