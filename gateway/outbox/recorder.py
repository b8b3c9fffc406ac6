"""Group commit of delivery outcomes: one recording thread per worker process.

Why not record a batch's outcomes when the batch is done: a mail the relay accepted but
whose ``sent`` is not yet committed is sent again after a crash (the sweep puts its row back
to ``pending`` after the lease). Recording at the end of a 50-row batch would widen that
window from one mail to the whole batch; here each outcome is handed over the moment its
send returns and written within one commit's time, together with whatever other worker
threads handed over meanwhile (one transaction for all of them). The window stays about as
wide as it was with one commit per mail, at a fraction of the commits.

A worker thread waits for its batch's outcomes before it finishes the message, so the
recorder never falls far behind and a database error reaches the message (which Dramatiq
then retries harmlessly: its rows are no longer ``pending``).

Twilio may report an SMS's delivery before its SID is committed; once a group is written,
the statuses that waited for its SIDs are applied (``gateway.sms.delivery``).

The database away when an outcome is written was a second window: the mail was sent, its
``sent`` was lost, and after the lease the sweep sent it again (six notifications twice
after one outage). Such a group is kept and written again, with a growing pause, until
the database answers: an outage shorter than the lease costs no second mail. What stays
is an outage longer than the lease, or the worker stopping or dying with outcomes
unwritten (README, Notifications).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gateway.outbox.outcomes import Outcome, record_outcomes
from gateway.sms import delivery
from schema import db

log = logging.getLogger(__name__)
MAX_GROUP = 500  # outcomes per transaction; bounds one statement's size
_STOP = object()
# The database cannot be reached: the same write may well succeed in a moment.
_UNREACHABLE = (OperationalError, InterfaceError)
_RETRY_FIRST, _RETRY_MAX = 0.2, 2.0  # seconds between attempts, doubling


class RecordFailed(Exception):
    """Outcomes could not be written; their rows stay ``sending`` until the sweep."""


class BatchOutcomes:
    """The outcomes of one batch, handed to the recorder one by one; :meth:`wait` for all."""

    def __init__(self, submit: Callable[[tuple[BatchOutcomes, Outcome]], None]) -> None:
        self._submit = submit
        self._done = threading.Condition()
        self._expected = 0
        self._recorded: list[Outcome] = []
        self._errors: list[BaseException] = []

    def add(self, outcome: Outcome) -> None:
        with self._done:
            self._expected += 1
        self._submit((self, outcome))

    def wait(self, timeout: float) -> list[Outcome]:
        """The recorded outcomes; :class:`RecordFailed` if any failed or time ran out."""
        with self._done:
            finished = self._done.wait_for(
                lambda: len(self._recorded) + len(self._errors) >= self._expected, timeout
            )
            if self._errors:
                raise RecordFailed(f"{len(self._errors)} outcomes unrecorded") from self._errors[0]
            if not finished:
                raise RecordFailed(f"outcomes not recorded within {timeout}s")
            return list(self._recorded)

    def _finish(self, outcome: Outcome, error: BaseException | None) -> None:
        with self._done:
            if error is None:
                self._recorded.append(outcome)
            else:
                self._errors.append(error)
            self._done.notify_all()


class OutcomeRecorder:
    """Writes outcomes in groups from a thread of its own; see the module docstring."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-recorder", daemon=True)
        self._thread.start()

    def batch(self) -> BatchOutcomes:
        return BatchOutcomes(self._queue.put)

    def close(self, timeout: float = 30) -> None:
        """Write what was handed over, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._stopping.set()  # a write still retrying gives up: its rows wait for the sweep
        self._thread.join(1)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            group = [item]
            while len(group) < MAX_GROUP:  # everything that queued up during the last commit
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)  # finish this group first, then stop
                    break
                group.append(item)
            self._write(group)  # type: ignore[arg-type]

    def _write(self, group: list[tuple[BatchOutcomes, Outcome]]) -> None:
        error: BaseException | None = None
        pause = _RETRY_FIRST
        while True:
            try:
                with db.transaction(self._sessions) as session:
                    record_outcomes(session, [outcome for _, outcome in group])
            except _UNREACHABLE as exc:
                log.warning("recording %d outbox outcomes failed; retrying: %s", len(group), exc)
                if not self._stopping.wait(pause):
                    pause = min(2 * pause, _RETRY_MAX)
                    continue
                error = exc
            except Exception as exc:  # the batches learn of it; this thread keeps recording
                log.exception("recording %d outbox outcomes failed", len(group))
                error = exc
            break
        if error is None:
            self._apply_unmatched([o for _, o in group])
        for batch, outcome in group:
            batch._finish(outcome, error)

    def _apply_unmatched(self, outcomes: list[Outcome]) -> None:
        """Statuses Twilio reported before these SIDs were committed, applied now."""
        sids = [o.provider_id for o in outcomes if o.channel == "sms" and o.provider_id]
        if not sids:
            return
        try:
            with db.transaction(self._sessions) as session:
                delivery.apply_unmatched(session, sids)
        except Exception:  # they wait for the sweep; the outcomes themselves are written
            log.exception("applying early delivery statuses failed")
