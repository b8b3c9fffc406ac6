"""What every actor needs, as Dramatiq middleware: database, transports, logging context.

One :class:`DeliveryContext` is attached to each broker by ``setup_broker``. It opens the
database runtime once per worker process (at ``process_boot``, or on first use when the
broker runs inside another process), keeps one transport object per channel whose SMTP
connections live one per worker thread, and one outcome recorder (``gateway.outbox.recorder``), and
tags log records with the message being processed, so no actor repeats any of this.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from dramatiq import Broker, Middleware
from dramatiq.broker import MessageProxy
from dramatiq.worker import Worker, WorkerThread

from gateway.backoff import Backoff
from gateway.config import Settings
from gateway.outbox.recorder import OutcomeRecorder
from gateway.runtime import Runtime, open_runtime
from schema.models.base import utcnow
from workers.transports.base import NotConfigured, OutgoingSms, Transport
from workers.transports.smtp import Reuse, SmtpTransport
from workers.transports.twilio import TwilioTransport

NO_RELAY = "no SMTP relay configured: set TICKETGW_SMTP_RELAY"
_LOG_CONTEXT: ContextVar[str] = ContextVar("ticketgw_log_context", default="-")


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """Timing knobs; the defaults suit production, tests shrink them instead of sleeping."""

    backoff: Backoff = field(default_factory=Backoff)
    lease: float = 300.0  # a row `sending` for longer than this lost its worker
    sweep_every: float = 30.0  # seconds between outbox sweeps
    sla_scan_every: float = 30.0  # seconds between SLA safety scans (workers.sla_scheduler)
    clock: Callable[[], datetime] = utcnow  # what the SLA scheduler takes for "now"
    send_timeout: float = 30.0  # socket timeout towards providers; must stay below `lease`
    relay_reuse: Reuse = field(default_factory=Reuse)  # when an SMTP connection is recycled


class LogContextFilter(logging.Filter):
    """Adds ``%(ticketgw)s``: the actor and outbox row the current thread is working on."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.ticketgw = _LOG_CONTEXT.get()
        return True


class DeliveryContext(Middleware):
    """Per-broker state for the delivery actors; see the module docstring."""

    def __init__(
        self, settings: Settings, options: DeliveryOptions, runtime: Runtime | None = None
    ) -> None:
        self.settings, self.options = settings, options
        self._runtime, self._owns_runtime = runtime, runtime is None
        self._lock = threading.Lock()
        # Chosen here, used through the Transport protocol: senders never see the type.
        self._smtp: Transport[EmailMessage] | None = None
        self._sms: Transport[OutgoingSms] | None = None
        self._recorder: OutcomeRecorder | None = None
        # Enqueue marks for brokers without Redis (see workers.enqueue.enqueue_once).
        self.enqueued: dict[str, float] = {}

    @property
    def runtime(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                self._runtime = open_runtime(self.settings)
            return self._runtime

    def recorder(self) -> OutcomeRecorder:
        """This process's outcome recorder (``gateway.outbox.recorder``), started on first use."""
        runtime = self.runtime
        with self._lock:
            if self._recorder is None:
                self._recorder = OutcomeRecorder(runtime.sessions)
            return self._recorder

    def smtp(self) -> Transport[EmailMessage]:
        """The relay transport; :class:`NotConfigured` without ``TICKETGW_SMTP_RELAY``."""
        relay = self.settings.smtp_relay
        if relay is None:
            raise NotConfigured(NO_RELAY)
        with self._lock:
            if self._smtp is None:
                self._smtp = SmtpTransport(
                    *relay,
                    user=self.settings.smtp_relay_user,
                    password=self.settings.smtp_relay_password,
                    starttls=self.settings.smtp_relay_starttls,
                    timeout=self.options.send_timeout,
                    reuse=self.options.relay_reuse,
                )
            return self._smtp

    def sms(self) -> Transport[OutgoingSms]:
        """The Twilio transport; :class:`NotConfigured` without the Twilio settings."""
        with self._lock:
            if self._sms is None:
                self._sms = TwilioTransport.from_settings(self.settings, self.options.send_timeout)
            return self._sms

    def after_process_boot(self, broker: Broker) -> None:
        """Open the database now, so a worker with a bad URL fails at start, not per message."""
        _ = self.runtime

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        """Tag this thread's log records with the actor and its outbox row."""
        _LOG_CONTEXT.set(f"{message.actor_name}{_short(message.args)}")

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: object = None,
        exception: BaseException | None = None,
    ) -> None:
        """Clear the log tag."""
        _LOG_CONTEXT.set("-")

    def before_worker_thread_shutdown(self, broker: Broker, thread: WorkerThread) -> None:
        """Say QUIT on this thread's SMTP connection."""
        if self._smtp is not None:
            self._smtp.close()

    def after_worker_shutdown(self, broker: Broker, worker: Worker) -> None:
        """Write the outcomes still queued; close the database pool if we opened it."""
        self.close()

    def close(self) -> None:
        """Write the outcomes still queued, say QUIT on this thread's SMTP connection, and
        close the database pool if we opened it."""
        if self._smtp is not None:
            self._smtp.close()
        with self._lock:
            if self._recorder is not None:
                self._recorder.close()
                self._recorder = None
            if self._owns_runtime and self._runtime is not None:
                self._runtime.close()
                self._runtime = None


def _short(args: tuple[object, ...]) -> str:
    """``[[3, 4, 5]]``, or ``[[3, 4, ... 52] (50 rows)]`` for a long batch."""
    if len(args) == 1 and isinstance(args[0], list) and len(args[0]) > 4:
        ids = args[0]
        return f"[[{ids[0]}, {ids[1]}, ... {ids[-1]}] ({len(ids)} rows)]"
    return str(list(args))


def delivery_context(broker: Broker) -> DeliveryContext:
    """The :class:`DeliveryContext` that ``setup_broker`` attached to ``broker``."""
    for middleware in broker.middleware:
        if isinstance(middleware, DeliveryContext):
            return middleware
    raise LookupError("this broker was not made by workers.broker.setup_broker")
