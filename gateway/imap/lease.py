"""The mailbox lease: one gateway at a time reads a mailbox.

Several gateways may run against one database, each with pollers for every mailbox. Two
reading one folder at once would fetch the same mails twice and race each other's moves
(dedupe keeps the messages single, but not the work or the folder). So a poller reads
only while it holds the mailbox's lease: its holder id and an expiry on the mailbox row,
taken with one conditional UPDATE (free, expired, or already ours), renewed while it
reads, and released when it stops. The other gateways' pollers wait and try again; when
the holder dies, its lease expires and one of them takes over, or at once when the dead
holder was a process of this same host (a gateway restarted after a crash need not wait
for its own old lease). Each batch's commit checks
the lease in its own transaction, so a holder that lost it (paused past its expiry) stores
nothing more.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from gateway.runtime import Runtime
from schema.models import Mailbox
from schema.models.base import utcnow

LEASE_SECONDS = 60.0  # well above one batch's fetch and commit; renewed every third of it


class LeaseLost(Exception):
    """Another gateway holds the mailbox's lease now: stop reading it."""


def holder_id() -> str:
    """This poller, as ``mailboxes list`` shows it: host, process, and a tag of its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    """One poller's hold on one mailbox; every method is one short transaction."""

    def __init__(self, runtime: Runtime, mailbox_id: int, *, seconds: float = LEASE_SECONDS):
        self.runtime = runtime
        self.mailbox_id = mailbox_id
        self.seconds = seconds
        self.holder = holder_id()
        self._renew_at = 0.0  # time.monotonic() when :meth:`keep` next writes

    def take(self) -> bool:
        """Hold the lease if it is free, expired, ours or a dead process's; whether we do."""
        now = utcnow()
        takeable = or_(
            Mailbox.lease_holder.is_(None),
            Mailbox.lease_holder == self.holder,
            Mailbox.lease_expires_at < now,
        )
        taken = self._take_where(takeable, now)
        if not taken:
            holder = self.current_holder()
            if holder is not None and _dead_here(holder):
                taken = self._take_where(Mailbox.lease_holder == holder, now)
        if taken:
            self._renew_at = time.monotonic() + self.seconds / 3
        return taken

    def _take_where(self, condition: ColumnElement[bool], now: datetime) -> bool:
        with self.runtime.sessions() as session, session.begin():
            taken = session.execute(
                update(Mailbox)
                .where(Mailbox.id == self.mailbox_id, condition)
                .values(lease_holder=self.holder, lease_expires_at=self._until(now))
            ).rowcount  # type: ignore[attr-defined]
        return bool(taken)

    def keep(self) -> None:
        """Renew the lease when a third of it has passed; :class:`LeaseLost` if not ours."""
        if time.monotonic() < self._renew_at:
            return
        now = utcnow()
        with self.runtime.sessions() as session, session.begin():
            kept = session.execute(
                update(Mailbox)
                .where(Mailbox.id == self.mailbox_id, Mailbox.lease_holder == self.holder)
                .values(lease_expires_at=self._until(now))
            ).rowcount  # type: ignore[attr-defined]
        if not kept:
            raise LeaseLost(self.current_holder() or "nobody")
        self._renew_at = time.monotonic() + self.seconds / 3

    def check(self, session: Session) -> None:
        """In the transaction about to store mails: :class:`LeaseLost` unless we hold it.

        Locks the mailbox row, so a takeover waits for this commit or is seen by it.
        """
        holder = session.scalar(
            select(Mailbox.lease_holder).where(Mailbox.id == self.mailbox_id).with_for_update()
        )
        if holder != self.holder:
            raise LeaseLost(holder or "nobody")

    def release(self) -> None:
        """Give the lease up at once, so another gateway need not wait for its expiry."""
        with self.runtime.sessions() as session, session.begin():
            session.execute(
                update(Mailbox)
                .where(Mailbox.id == self.mailbox_id, Mailbox.lease_holder == self.holder)
                .values(lease_holder=None, lease_expires_at=None)
            )
        self._renew_at = 0.0

    def current_holder(self) -> str | None:
        with self.runtime.sessions() as session:
            return session.scalar(select(Mailbox.lease_holder).where(Mailbox.id == self.mailbox_id))

    def _until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.seconds)


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` was a process of this host that no longer runs.

    A reused process id looks alive: then the lease is waited out, the safe way.
    """
    host, pid, _tag = [*holder.rsplit(":", 2), "", ""][:3]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # alive, but another user's
        return False
    return False
