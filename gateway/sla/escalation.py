"""Raising a ticket's due escalation levels: the escalation row and its outbox rows together.

For each deadline still running (first response not given; ticket not resolved, closed,
merged or paused) the levels whose moment has come and that were never raised are raised
now. When several levels of one deadline are due at once (after an outage, or a scan
``--at`` far ahead) only the highest is sent; the lower ones are recorded as
``superseded`` so that they never fire later. A deadline whose clock stopped before its
moment raises nothing, and what it already raised stays recorded.

Each level's row in ``sla_escalations`` is unique per ticket, deadline and level and is
written in the same savepoint as its outbox rows: a level that another scheduler raised
first fails the insert, rolls back the outbox rows with it, and (ticket by ticket, see
``gateway.sla.scan``) the ticket is left to that scheduler.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.outbox import Recipient, enqueue_email, enqueue_sms
from gateway.sla.deadlines import STOPPED_STATUSES, plan_for_policy
from gateway.sla.durations import SlaDuration
from gateway.sla.levels import Moment, moments
from gateway.sla.recipients import deliveries
from gateway.template_vars import ticket_vars
from gateway.unit_of_work import UnitOfWork
from schema.db import add_row
from schema.models import SlaEscalation, SlaPolicy, Ticket

TEMPLATES = {"warning": "sla_warning", "breach": "sla_breach", "breach2": "sla_breach2"}
SMS_TEMPLATE = "sms_sla_alert"


@dataclass(frozen=True, slots=True)
class Raised:
    """One level raised for one ticket: what ``sla scan`` prints."""

    ticket_id: int
    reference: str
    subject: str
    moment: Moment
    outcome: str  # sent | superseded
    recipients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    """What checking one ticket did, and when it must be checked next (``None``: never)."""

    raised: tuple[Raised, ...]
    next_check_at: datetime | None


def check_ticket(
    uow: UnitOfWork,
    ticket: Ticket,
    policy: SlaPolicy | None,
    raised_before: Iterable[tuple[str, str]],
    now: datetime,
    *,
    isolated: bool = True,
) -> Checked:
    """Raise what is due for ``ticket`` at ``now`` and plan its next check.

    ``raised_before`` holds the ``(deadline, level)`` pairs already in ``sla_escalations``.
    ``isolated`` writes the ticket's levels in a savepoint of their own and skips them if
    another scheduler was first; without it the caller's savepoint covers them (a batch
    of tickets at once, redone ticket by ticket if it fails).
    """
    if policy is None or ticket.status in STOPPED_STATUSES or ticket.merged_into_id is not None:
        return Checked((), None)
    if ticket.sla_paused_at is not None:  # resuming marks the ticket for a check
        return Checked((), None)
    due: list[tuple[Moment, str]] = []
    upcoming: list[datetime] = []
    for due_now, later in _running_moments(uow.session, ticket, policy, set(raised_before), now):
        due.extend(due_now)
        upcoming.extend(m.at for m in later)
    next_check_at = min(upcoming, default=None)
    if not due:
        return Checked((), next_check_at)
    if not isolated:
        return Checked(_record(uow, ticket, policy, due, now), next_check_at)
    try:
        with uow.savepoint():
            raised = _record(uow, ticket, policy, due, now)
            uow.write()
    except IntegrityError:  # another scheduler raised one of these first: it owns them
        raised = ()
    return Checked(raised, next_check_at)


def _running_moments(
    session: Session,
    ticket: Ticket,
    policy: SlaPolicy,
    done: set[tuple[str, str]],
    now: datetime,
) -> Iterator[tuple[list[tuple[Moment, str]], list[Moment]]]:
    """Per running deadline: the due levels with their outcome, and the levels to come."""
    calendar = plan_for_policy(session, policy).calendar
    running = (
        (
            "first_response",
            None if ticket.first_responded_at else ticket.first_response_due_at,
            ticket.first_response_paused_seconds,
        ),
        ("resolution", ticket.resolution_due_at, ticket.resolution_paused_seconds),
    )
    for deadline, deadline_at, paused in running:
        if deadline_at is None:
            continue
        levels = moments(
            deadline,
            ticket.created_at,
            deadline_at,
            policy.warn_at_percent,
            calendar,
            timedelta(seconds=paused or 0),
        )
        open_levels = [m for m in levels if (deadline, m.level) not in done]
        due = [m for m in open_levels if m.at <= now]
        if not due:
            yield [], open_levels
            continue
        # Levels below the highest one raised so far (or due now) are superseded.
        ranks = [m.level for m in levels]
        earlier = [ranks.index(level) for kind, level in done if kind == deadline]
        top = max([ranks.index(m.level) for m in due] + earlier)
        yield (
            [(m, "sent" if ranks.index(m.level) == top else "superseded") for m in due],
            [m for m in open_levels if m.at > now],
        )


def _record(
    uow: UnitOfWork,
    ticket: Ticket,
    policy: SlaPolicy,
    due: list[tuple[Moment, str]],
    now: datetime,
) -> tuple[Raised, ...]:
    """Queue the levels' rows and their notifications (written by ``uow.write``)."""
    session, settings = uow.session, uow.settings
    raised = []
    for moment, outcome in due:
        targets = deliveries(session, ticket, policy, moment.level) if outcome == "sent" else []
        add_row(
            session,
            SlaEscalation,
            {
                "ticket_id": ticket.id,
                "deadline": moment.deadline,
                "level": moment.level,
                "outcome": outcome,
                "due_at": moment.at,
                "deadline_at": moment.deadline_at,
                "fired_at": now,
                "notifications": len(targets),
            },
        )
        for target in targets:
            _notify(session, settings, ticket, moment, target.channel, target.recipient)
        addresses = tuple(f"{t.recipient.address} ({t.channel})" for t in targets)
        raised.append(
            Raised(ticket.id, ticket.reference, ticket.subject, moment, outcome, addresses)
        )
    return tuple(raised)


def _notify(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    moment: Moment,
    channel: str,
    recipient: Recipient,
) -> None:
    key = f"sla:{ticket.id}:{moment.deadline}:{moment.level}:{channel}:{recipient.address}"
    vars = ticket_vars(
        session,
        ticket,
        recipient_name=recipient.name,
        recipient_address=recipient.address,
        default_address=settings.support_address[0],
        sla=(moment.deadline, moment.level, moment.deadline_at, moment.percent),
        sla_elapsed=format_elapsed(moment.elapsed),
    )
    if channel == "sms":
        enqueue_sms(
            session,
            settings,
            ticket=ticket,
            recipient=recipient,
            template=SMS_TEMPLATE,
            vars=vars,
            key=key,
        )
    else:
        enqueue_email(
            session,
            settings,
            ticket=ticket,
            recipient=recipient,
            template=TEMPLATES[moment.level],
            vars=vars,
            key=key,
        )


def format_elapsed(elapsed: timedelta) -> str:
    """Business time as hours and minutes (``33h36m``): a business "day" has no fixed length."""
    return str(SlaDuration(time=timedelta(minutes=int(elapsed.total_seconds() // 60))))
