"""The pipelines, one per channel, as data: the steps that run, in order, by name.

A step's name is what an inbox item's ``failed_step`` stores when that step fails it.
A step runs for each item (``each``) or once for the whole batch (``batch``: reads
ahead, notifications, the batch's writes). Consecutive ``each`` steps run item by item,
all of them for one item before the next item starts, so a mail sees what the mails
before it in the batch wrote (a reply right behind its original finds its ticket).
``mail explain`` runs an entry's read-only prefix: the steps before the first that writes.

Adding a channel is adding an entry: its own steps where they differ (``sms`` parses
Twilio's form instead of MIME, and threads on the sender's open ticket) and the shared
ones where they do not, keyed by the ``channel`` its listener stores on the inbox row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.pipeline import email_steps as email
from gateway.pipeline.common_steps import breaker, finish, notify, write
from gateway.pipeline.work import Work
from gateway.sms import pipeline as sms
from gateway.store import store
from gateway.unit_of_work import UnitOfWork

ItemStep = Callable[[Work, UnitOfWork], Work]
BatchStep = Callable[[Sequence[Work], UnitOfWork], Sequence[Work]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # stored as the inbox item's failed_step
    one: ItemStep | None = None  # an ``each`` step: one item at a time
    many: BatchStep | None = None  # a ``batch`` step: all the batch's items at once
    writes: bool = False  # the first writing step ends the read-only prefix

    @property
    def scope(self) -> Literal["each", "batch"]:
        return "each" if self.one is not None else "batch"

    def apply(self, works: Sequence[Work], uow: UnitOfWork) -> list[Work]:
        if self.one is not None:
            return [self.one(work, uow) for work in works]
        assert self.many is not None
        return list(self.many(works, uow))


def each(name: str, run: ItemStep, *, writes: bool = False) -> Step:
    return Step(name, one=run, writes=writes)


def batch(name: str, run: BatchStep, *, writes: bool = False) -> Step:
    return Step(name, many=run, writes=writes)


@dataclass(frozen=True, slots=True)
class Pipeline:
    channel: str
    steps: tuple[Step, ...]

    @property
    def read_only(self) -> tuple[Step, ...]:
        """The steps before the first one that writes: what ``mail explain`` runs."""
        prefix = []
        for step in self.steps:
            if step.writes:
                break
            prefix.append(step)
        return tuple(prefix)


EMAIL = Pipeline(
    "email",
    (
        each("parse", email.parse),
        batch("prefetch", email.prefetch),  # one query per kind for the whole batch
        each("screen", email.screen),  # a second delivery of a stored Message-ID
        each("breaker", breaker),  # over the sender's rate: held, nobody notified
        each("classify", email.classify_step),
        each("thread", email.thread),
        each("store", store, writes=True),
        batch("notify", notify, writes=True),  # events -> outbox rows
        each("finish", finish, writes=True),  # the outcome on the inbox row
        batch("write", write, writes=True),  # all of the above, inside the savepoint
    ),
)

# An SMS is always a customer's: no MIME to classify, the sender's open ticket to thread on.
SMS = Pipeline(
    "sms",
    (
        each("parse", sms.parse),  # Twilio's stored form
        batch("prefetch", sms.prefetch),  # one query per kind for the whole batch
        each("screen", sms.screen),  # a MessageSid already on a ticket
        each("breaker", breaker),
        each("classify", sms.classify),  # carrier keywords: STOP, START, HELP
        each("thread", sms.thread),
        each("store", sms.store, writes=True),
        batch("notify", notify, writes=True),
        each("finish", finish, writes=True),
        batch("write", write, writes=True),
    ),
)

PIPELINES: Mapping[str, Pipeline] = {"email": EMAIL, "sms": SMS}
