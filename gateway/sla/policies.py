"""SLA policies: admin operations, and which policy a ticket falls under."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.identities import normalize_email
from gateway.queues import check_priority
from gateway.sla.calendar import parse_hours, parse_timezone
from gateway.sla.durations import SlaDuration, parse_sla_duration
from gateway.unit_of_work import UnitOfWork
from schema.models import SlaPolicy

# What `demo` and a fresh install start with: tight for urgent, relaxed for low.
DEFAULT_POLICIES: tuple[tuple[str, str, str, str], ...] = (
    ("urgent", "urgent", "30m", "4h"),
    ("high", "high", "1h", "8h"),
    ("normal", "normal", "4h", "2d"),
    ("low", "low", "1d", "5d"),
)


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
    hours: str = "24x7",
    tz: str = "UTC",
    warn_at: int = 80,
    escalate_to: Iterable[str] = (),
) -> SlaPolicy:
    """Create or replace the policy ``name`` (one policy per priority)."""
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
    policy = find_policy(session, name)
    other = session.scalars(select(SlaPolicy).where(SlaPolicy.priority == priority)).one_or_none()
    if other is not None and (policy is None or other.id != policy.id):
        raise Conflict(f"priority {priority} already has policy {other.name!r}")
    if policy is None:
        policy = SlaPolicy(name=name)
        session.add(policy)
    policy.priority = priority
    policy.first_response = str(first)
    policy.resolution = str(resolve)
    policy.business_hours = canonical_hours
    policy.timezone = tz
    policy.warn_at_percent = warn_at
    policy.escalate_to = recipients
    session.flush()
    _forget_policies(session)
    return policy


def find_policy(session: Session, name: str) -> SlaPolicy | None:
    return session.scalars(select(SlaPolicy).where(SlaPolicy.name == name)).one_or_none()


def delete_policy(session: Session, name: str) -> None:
    policy = find_policy(session, name)
    if policy is None:
        raise NotFound(f"no SLA policy named {name!r}")
    session.delete(policy)
    session.flush()
    _forget_policies(session)


def list_policies(session: Session) -> list[SlaPolicy]:
    order = {p: i for i, (_, p, _, _) in enumerate(DEFAULT_POLICIES)}
    return sorted(session.scalars(select(SlaPolicy)), key=lambda p: order.get(p.priority, 9))


def policy_for(session: Session, priority: str) -> SlaPolicy | None:
    """The policy for ``priority``, looked up once per priority per transaction.

    Every new ticket asks, so the answer is kept by the transaction's unit of work (see
    :func:`_policy_cache`). That is safe because nothing in the session that reads it can
    change it unseen: :func:`set_policy` and :func:`delete_policy` drop the cache, and it
    ends with the transaction and is dropped when a unit-of-work savepoint fails (which
    may undo a policy change). A policy committed by another process while this
    transaction runs is seen from the next transaction on, as with the unit of work's cached agents
    and queues; admins change policies from the CLI, in their own transactions.
    """
    cache = _policy_cache(session)
    if priority not in cache:
        cache[priority] = session.scalars(
            select(SlaPolicy).where(SlaPolicy.priority == priority)
        ).one_or_none()
    return cache[priority]


def _policy_cache(session: Session) -> dict[str, SlaPolicy | None]:
    """This transaction's policies by priority, kept by its unit of work."""
    return UnitOfWork.of(session).policies


def _forget_policies(session: Session) -> None:
    _policy_cache(session).clear()


def ensure_default_policies(session: Session) -> list[SlaPolicy]:
    """Create the default policy for each priority that has none yet."""
    created = []
    for name, priority, first, resolution in DEFAULT_POLICIES:
        if policy_for(session, priority) is None and find_policy(session, name) is None:
            created.append(
                set_policy(
                    session, name, priority=priority, first_response=first, resolution=resolution
                )
            )
    return created
