"""Holidays: days on which one policy's SLA clock, or every policy's, does not run.

A holiday is a calendar date, read on the wall clock of each policy's own time zone: the
25th of December is a different stretch of UTC in Tokyo and in Los Angeles. Policies with
``24x7`` hours ignore holidays, since their promise is in wall-clock time.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.sla.policies import forget_policies, get_policy
from schema.bounded import fit
from schema.models import SlaHoliday, SlaPolicy


def parse_day(text: str) -> date:
    """``2026-12-25`` into a date; anything else is refused with the form to use."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"bad date {text!r}: use YYYY-MM-DD, e.g. 2026-12-25") from None


def add_holiday(
    session: Session, day: date, *, policy: str | None = None, name: str = ""
) -> SlaHoliday:
    """Make ``day`` a holiday for the policy named ``policy``, or for all policies."""
    policy_id = get_policy(session, policy).id if policy is not None else None
    if _find(session, day, policy_id) is not None:
        raise Conflict(f"{day.isoformat()} is already a holiday for {scope(policy)}")
    holiday = SlaHoliday(day=day, policy_id=policy_id, name=fit(SlaHoliday.name, name.strip()))
    session.add(holiday)
    session.flush()
    forget_policies(session)
    return holiday


def remove_holiday(session: Session, day: date, *, policy: str | None = None) -> None:
    policy_id = get_policy(session, policy).id if policy is not None else None
    holiday = _find(session, day, policy_id)
    if holiday is None:
        raise NotFound(f"{day.isoformat()} is not a holiday for {scope(policy)}")
    session.delete(holiday)
    session.flush()
    forget_policies(session)


def list_holidays(session: Session) -> list[tuple[SlaHoliday, str | None]]:
    """Every holiday by date, with the name of its policy (None: all policies)."""
    rows = session.execute(
        select(SlaHoliday, SlaPolicy.name)
        .outerjoin(SlaPolicy, SlaPolicy.id == SlaHoliday.policy_id)
        .order_by(SlaHoliday.day, SlaPolicy.name.is_not(None), SlaPolicy.name)
    )
    return [(holiday, name) for holiday, name in rows]


def holidays_of(session: Session, policy_id: int) -> frozenset[date]:
    """The dates on which policy ``policy_id``'s clock does not run."""
    rows = session.scalars(
        select(SlaHoliday.day).where(
            or_(SlaHoliday.policy_id.is_(None), SlaHoliday.policy_id == policy_id)
        )
    )
    return frozenset(rows)


def _find(session: Session, day: date, policy_id: int | None) -> SlaHoliday | None:
    same_policy = (
        SlaHoliday.policy_id.is_(None) if policy_id is None else SlaHoliday.policy_id == policy_id
    )
    return session.scalars(
        select(SlaHoliday).where(SlaHoliday.day == day, same_policy)
    ).one_or_none()


def scope(policy: str | None) -> str:
    """Whose holiday, in words: ``policy vip`` or ``all policies``."""
    return f"policy {policy}" if policy is not None else "all policies"
