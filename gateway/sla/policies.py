"""SLA policies: admin operations, and which policy a ticket falls under.

Which policy: the one for the ticket's queue and priority, else the one for its priority
in every queue (no queue named), else the default policy (marked ``is_default``; the
seeded ``normal`` policy on a fresh install), else none, and the ticket has no deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.identities import normalize_email
from gateway.queues import check_priority, get_queue
from gateway.sla.calendar import parse_hours, parse_timezone
from gateway.sla.durations import SlaDuration, parse_sla_duration
from gateway.unit_of_work import UnitOfWork
from schema.models import Queue, SlaHoliday, SlaPolicy
from schema.models.sla import ESCALATE_BY

# What `demo` and a fresh install start with: tight for urgent, relaxed for low.
DEFAULT_POLICIES: tuple[tuple[str, str, str, str], ...] = (
    ("urgent", "urgent", "30m", "4h"),
    ("high", "high", "1h", "8h"),
    ("normal", "normal", "4h", "2d"),
    ("low", "low", "1d", "5d"),
)
# The seeded policy that also covers priorities left without one.
DEFAULT_POLICY = "normal"


def _target(text: str, what: str) -> SlaDuration:
    try:
        target = parse_sla_duration(text)
    except ValueError as exc:
        raise InvalidInput(f"{what}: {exc}") from exc
    if target.as_timedelta() < timedelta(minutes=1):
        raise InvalidInput(f"{what}: must be at least one minute")
    return target


def set_policy(
    session: Session,
    name: str,
    *,
    priority: str,
    first_response: str,
    resolution: str,
    queue: str | None = None,
    default: bool | None = None,
    hours: str = "24x7",
    tz: str = "UTC",
    warn_at: int = 80,
    escalate_to: Iterable[str] = (),
    escalate_by: str | None = None,
) -> SlaPolicy:
    """Create or replace the policy ``name`` (one policy per queue and priority).

    ``queue`` None: the policy covers every queue. ``default`` True makes it the fallback
    (taking the mark from any other policy), False clears the mark, None keeps it as is.
    ``escalate_by`` (email, sms or both: how escalations reach agents) None keeps it as
    is, ``email`` for a new policy.
    """
    check_priority(priority)
    first = _target(first_response, "--first-response")
    resolve = _target(resolution, "--resolution")
    if resolve.as_timedelta() < first.as_timedelta():
        raise InvalidInput("--resolution must not be shorter than --first-response")
    try:
        canonical_hours = str(parse_hours(hours))
        parse_timezone(tz)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if not 1 <= warn_at <= 99:
        raise InvalidInput("--warn-at must be a percentage between 1 and 99")
    recipients = [normalize_email(a) for a in escalate_to]
    if escalate_by is not None and escalate_by not in ESCALATE_BY:
        raise InvalidInput(f"--escalate-by must be one of {', '.join(ESCALATE_BY)}")
    queue_row = get_queue(session, queue) if queue is not None else None
    queue_id = queue_row.id if queue_row else None
    policy = find_policy(session, name)
    other = session.scalars(
        select(SlaPolicy).where(
            SlaPolicy.priority == priority,
            SlaPolicy.queue_id.is_(None) if queue_id is None else SlaPolicy.queue_id == queue_id,
        )
    ).one_or_none()
    if other is not None and (policy is None or other.id != policy.id):
        where = f"queue {queue_row.name}" if queue_row else "all queues"
        raise Conflict(f"priority {priority} in {where} already has policy {other.name!r}")
    if default:
        for marked in session.scalars(select(SlaPolicy).where(SlaPolicy.is_default.is_(True))):
            if marked is not policy:
                marked.is_default = False
        session.flush()  # the unique index allows one mark: clear the old one first
    if policy is None:
        policy = SlaPolicy(name=name, is_default=False)
        session.add(policy)
    policy.priority = priority
    policy.queue_id = queue_id
    if default is not None:
        policy.is_default = default
    policy.first_response = str(first)
    policy.resolution = str(resolve)
    policy.business_hours = canonical_hours
    policy.timezone = tz
    policy.warn_at_percent = warn_at
    policy.escalate_to = recipients
    if escalate_by is not None:
        policy.escalate_by = escalate_by
    session.flush()
    forget_policies(session)
    return policy


def find_policy(session: Session, name: str) -> SlaPolicy | None:
    return session.scalars(select(SlaPolicy).where(SlaPolicy.name == name)).one_or_none()


def get_policy(session: Session, name: str) -> SlaPolicy:
    policy = find_policy(session, name)
    if policy is None:
        raise NotFound(f"no SLA policy named {name!r}")
    return policy


def delete_policy(session: Session, name: str) -> None:
    policy = get_policy(session, name)
    # Its own holidays go with it (the foreign key cascades too; this keeps the session's
    # view of them right without a refresh).
    for holiday in session.scalars(select(SlaHoliday).where(SlaHoliday.policy_id == policy.id)):
        session.delete(holiday)
    session.delete(policy)
    session.flush()
    forget_policies(session)


def list_policies(session: Session) -> list[SlaPolicy]:
    """Most urgent first; for one priority, the all-queues policy before the queues' own."""
    order = {p: i for i, (_, p, _, _) in enumerate(DEFAULT_POLICIES)}
    queues = queue_names(session)
    return sorted(
        session.scalars(select(SlaPolicy)),
        key=lambda p: (order.get(p.priority, 9), p.queue_id is not None, queues.get(p.queue_id)),
    )


def queue_names(session: Session) -> dict[int | None, str]:
    """Queue names by id, for showing which queue a policy covers."""
    return {row.id: row.name for row in session.execute(select(Queue.id, Queue.name))}


def policy_for(session: Session, priority: str, queue_id: int | None = None) -> SlaPolicy | None:
    """The policy for a ticket of ``priority`` in queue ``queue_id``: the most specific wins.

    Looked up once per (queue, priority) per transaction: every new ticket asks, so the
    answer is kept by the transaction's unit of work. That is safe because nothing in the
    session that reads it can change it unseen: :func:`set_policy`, :func:`delete_policy`
    and the holiday operations drop the cache, and it ends with the transaction and is
    dropped when a unit-of-work savepoint fails (which may undo a policy change). A policy
    committed by another process while this transaction runs is seen from the next
    transaction on, as with the unit of work's cached agents and queues; admins change
    policies from the CLI, in their own transactions.
    """
    cache = UnitOfWork.of(session).policies
    key = (queue_id, priority)
    if key not in cache:
        same_priority = SlaPolicy.priority == priority
        candidates = session.scalars(
            select(SlaPolicy).where(
                or_(
                    same_priority & SlaPolicy.queue_id.is_(None),
                    same_priority & (SlaPolicy.queue_id == queue_id),
                    SlaPolicy.is_default.is_(True),
                )
            )
        ).all()
        cache[key] = min(
            candidates, key=lambda p: _specificity(p, priority, queue_id), default=None
        )
    return cache[key]


def _specificity(policy: SlaPolicy, priority: str, queue_id: int | None) -> int:
    """0 for the queue's own policy, 1 for the all-queues one, 2 for the default."""
    if policy.priority != priority:
        return 2
    if policy.queue_id is not None and policy.queue_id == queue_id:
        return 0
    return 1 if policy.queue_id is None else 2


def forget_policies(session: Session) -> None:
    """Drop this transaction's cached policies and plans after a change to either."""
    uow = UnitOfWork.of(session)
    uow.policies.clear()
    uow.sla_plans.clear()


def ensure_default_policies(session: Session) -> list[SlaPolicy]:
    """Create the seeded policy for each priority that no all-queues policy covers yet.

    The ``normal`` one becomes the default policy, unless another policy already is.
    """
    has_default = session.scalars(select(SlaPolicy.id).where(SlaPolicy.is_default)).first()
    created = []
    for name, priority, first, resolution in DEFAULT_POLICIES:
        covered = session.scalars(
            select(SlaPolicy.id).where(SlaPolicy.priority == priority, SlaPolicy.queue_id.is_(None))
        ).first()
        if covered is None and find_policy(session, name) is None:
            make_default = name == DEFAULT_POLICY and has_default is None
            created.append(
                set_policy(
                    session,
                    name,
                    priority=priority,
                    first_response=first,
                    resolution=resolution,
                    default=True if make_default else None,
                )
            )
    return created
