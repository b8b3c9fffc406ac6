"""The IMAP listener: one poller thread per configured mailbox, kept in step with the table.

A :class:`~gateway.inbound.listener.Listener` like the SMTP and HTTP ones. It reads the
``mailboxes`` table on start and every ``refresh_seconds``: a mailbox added or enabled gets
a poller, one removed or disabled loses it, one changed (``updated_at``) gets a fresh one
with the new settings. Each stored item id goes to the ``handover`` (the inbox processor);
whatever that hand-over misses, the processor's sweep finds as pending. The pollers are
threads (imapclient blocks), so start and stop run in a thread off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from gateway.imap.lease import LEASE_SECONDS
from gateway.imap.mailboxes import MailboxConfig, configs
from gateway.imap.poller import MailboxPoller
from gateway.inbound.listener import Handover
from gateway.runtime import Runtime

log = logging.getLogger(__name__)


class ImapListener:
    """Reads every enabled mailbox of the table; see the module docstring."""

    name = "imap"

    def __init__(
        self,
        runtime: Runtime,
        *,
        refresh_seconds: float = 10.0,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.refresh_seconds = refresh_seconds
        self.lease_seconds = lease_seconds
        self._handover: Handover = lambda _item_id: None
        self._pollers: dict[int, tuple[MailboxConfig, MailboxPoller]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="imap-listener", daemon=True)

    async def start(self, handover: Handover) -> None:
        """Start a poller per mailbox; a mailbox that cannot connect retries on its own."""
        self._handover = handover
        await asyncio.to_thread(self.refresh)
        self._thread.start()

    async def stop(self) -> None:
        """Stop every poller; each finishes the batch it is storing first."""
        await asyncio.to_thread(self._stop_pollers)

    def _stop_pollers(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for _config, poller in self._pollers.values():
            poller.stop()
        self._pollers.clear()

    @property
    def mailboxes(self) -> list[str]:
        return sorted(config.name for config, _poller in self._pollers.values())

    @property
    def waiting(self) -> dict[str, str]:
        """Mailboxes another gateway reads now, each with that gateway's lease holder id."""
        return {
            config.name: poller.waiting_for
            for config, poller in self._pollers.values()
            if poller.waiting_for is not None
        }

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self.refresh()

    def refresh(self) -> None:
        """Start, restart and stop pollers to match the table."""
        try:
            with self.runtime.sessions() as session:
                wanted = {c.id: c for c in configs(session) if c.enabled}
        except SQLAlchemyError as exc:
            log.error("cannot read the mailboxes: %s", exc)
            return
        for mailbox_id in list(self._pollers):
            config, poller = self._pollers[mailbox_id]
            if wanted.get(mailbox_id) != config or not poller.is_alive():
                poller.stop()
                del self._pollers[mailbox_id]
        for mailbox_id, config in wanted.items():
            if mailbox_id not in self._pollers and not self._stop.is_set():
                poller = MailboxPoller(
                    config, self.runtime, self._handover, lease_seconds=self.lease_seconds
                )
                poller.start()
                self._pollers[mailbox_id] = (config, poller)
