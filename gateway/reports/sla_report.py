"""``sla report``: per policy and per agent, how the tickets of a window kept their promises.

For the tickets created since ``since``:

- ``tickets``: how many;
- ``first_response`` and ``resolution``: ``met`` (done by the deadline), ``missed`` (done
  late, or not done and the deadline passed while its clock ran: a pending ticket is
  judged when it paused), ``percent_met`` of those two (``None``
  when neither), and the ``median_hours`` / ``p90_hours`` it took, in business hours of
  the ticket's policy (from creation to the first response, or to resolution);

and, for every open ticket whatever its age, ``breached`` and ``at_risk`` now
(``gateway.reports.standing``). Tickets without a policy count under ``(none)``; tickets
without an assignee under ``(unassigned)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gateway.reports.percentiles import summary
from gateway.reports.standing import at_risk, breached
from gateway.sla.deadlines import plan_for_policy
from schema.models import Agent, SlaPolicy, Ticket

NO_POLICY = "(none)"
UNASSIGNED = "(unassigned)"


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _met_missed(
    done: InstrumentedAttribute[datetime | None],
    due: InstrumentedAttribute[datetime | None],
    now: datetime,
) -> tuple[Any, Any]:
    met = _count(and_(done.is_not(None), due.is_not(None), done <= due))
    # Not done yet: missed once the deadline passed while the clock ran (see standing).
    moment = func.coalesce(Ticket.sla_paused_at, now)
    missed = _count(or_(and_(done.is_not(None), done > due), and_(done.is_(None), due < moment)))
    return met, missed


def sla_report(session: Session, since: datetime, now: datetime) -> dict[str, Any]:
    """The report as JSON-ready data (keys in the module docstring)."""
    policies = {p.id: p for p in session.scalars(select(SlaPolicy))}
    agents = {a.id: a.email for a in session.scalars(select(Agent))}
    durations = _durations(session, since, now, policies)
    policy_names = {i: p.name for i, p in policies.items()}
    return {
        "since": since,
        "now": now,
        "policies": _section(
            session, Ticket.sla_policy_id, since, now, durations["policies"], policy_names
        ),
        "agents": _section(session, Ticket.assignee_id, since, now, durations["agents"], agents),
    }


def _section(
    session: Session,
    column: InstrumentedAttribute[int | None],
    since: datetime,
    now: datetime,
    durations: dict[str, dict[Any, list[float]]],
    names: dict[int, str],
) -> list[dict[str, Any]]:
    """One row per value of ``column`` (a policy or an agent): three GROUP BY queries."""
    rows: dict[Any, dict[str, Any]] = defaultdict(_empty)
    fr_met, fr_missed = _met_missed(Ticket.first_responded_at, Ticket.first_response_due_at, now)
    res_met, res_missed = _met_missed(Ticket.resolved_at, Ticket.resolution_due_at, now)
    window = session.execute(
        select(column, func.count(), fr_met, fr_missed, res_met, res_missed)
        .where(Ticket.created_at >= since, Ticket.created_at <= now)
        .group_by(column)
    )
    for group, tickets, *counts in window:
        rows[group]["tickets"] = tickets
        rows[group]["first_response"].update(_compliance(counts[0], counts[1]))
        rows[group]["resolution"].update(_compliance(counts[2], counts[3]))
    for name, condition in (("breached", breached(now)), ("at_risk", at_risk(session, now))):
        for group, count in session.execute(
            select(column, func.count()).where(condition).group_by(column)
        ):
            rows[group][name] = count
    for group, row in rows.items():
        for kind in ("first_response", "resolution"):
            row[kind].update(summary(durations[kind].get(group, [])))
    default = NO_POLICY if column is Ticket.sla_policy_id else UNASSIGNED
    named = [
        {"name": names.get(group, default) if group is not None else default, **row}
        for group, row in rows.items()
    ]
    return sorted(named, key=lambda r: str(r["name"]))


def _empty() -> dict[str, Any]:
    blank = {"met": 0, "missed": 0, "percent_met": None}
    return {
        "tickets": 0,
        "first_response": dict(blank),
        "resolution": dict(blank),
        "breached": 0,
        "at_risk": 0,
    }


def _compliance(met: int | None, missed: int | None) -> dict[str, Any]:
    met, missed = int(met or 0), int(missed or 0)
    judged = met + missed
    return {
        "met": met,
        "missed": missed,
        "percent_met": round(100 * met / judged, 1) if judged else None,
    }


Durations = dict[str, dict[str, dict[Any, list[float]]]]


def _durations(
    session: Session, since: datetime, now: datetime, policies: dict[int, SlaPolicy]
) -> Durations:
    """Business seconds to first response and to resolution, grouped by policy and agent."""
    found: Durations = {
        key: {"first_response": defaultdict(list), "resolution": defaultdict(list)}
        for key in ("policies", "agents")
    }
    # Each policy's calendar parsed once, not once per ticket.
    calendars = {i: plan_for_policy(session, p).calendar for i, p in policies.items()}
    rows: Sequence[Any] = session.execute(
        select(
            Ticket.sla_policy_id,
            Ticket.assignee_id,
            Ticket.created_at,
            Ticket.first_responded_at,
            Ticket.resolved_at,
            Ticket.first_response_paused_seconds,
            Ticket.resolution_paused_seconds,
        ).where(
            Ticket.created_at >= since,
            Ticket.created_at <= now,
            or_(Ticket.first_responded_at.is_not(None), Ticket.resolved_at.is_not(None)),
        )
    ).all()
    for policy_id, agent_id, created, responded, resolved, first_paused, paused in rows:
        calendar = calendars.get(policy_id) if policy_id is not None else None
        for kind, end, stood_still in (
            ("first_response", responded, first_paused),
            ("resolution", resolved, paused),
        ):
            if end is None:
                continue
            # The time the clock ran, as the deadlines count it: waiting on the customer
            # (pending) and a resolved spell before a reopen are not the team's time.
            took = (
                calendar.between(created, end) if calendar is not None else end - created
            ).total_seconds() - (stood_still or 0)
            found["policies"][kind][policy_id].append(took)
            found["agents"][kind][agent_id].append(took)
    return found
