"""A ticket's SLA clocks over a real database: policies per queue, pauses, reopen, re-plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway import audit, queues, tickets
from gateway.contacts import contact_for_email
from gateway.errors import Conflict, NotFound
from gateway.sla import holidays
from gateway.sla.deadlines import ticket_sla
from gateway.sla.policies import delete_policy, policy_for, set_policy
from schema.models import AuditEvent, SlaPolicy, Ticket

ADMIN = audit.ADMIN
# Monday 2 March 2026, 10:00 in Berlin (CET, UTC+1).
MONDAY_10 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def berlin_utc(day: int, hour: int, month: int = 3) -> datetime:
    """A Berlin wall-clock hour in March 2026 (CET until the 29th), as UTC."""
    return datetime(2026, month, day, hour - 1, 0, tzinfo=UTC)


def _office(session: Session, name: str = "normal", **kw: object) -> SlaPolicy:
    """The normal priority on Berlin office hours: 4h first response, 2 business days."""
    return set_policy(
        session,
        name,
        priority=str(kw.pop("priority", "normal")),
        first_response=str(kw.pop("first_response", "4h")),
        resolution=str(kw.pop("resolution", "2d")),
        hours="Mon-Fri 09:00-17:00",
        tz="Europe/Berlin",
        **kw,  # type: ignore[arg-type]
    )


def _open(session: Session, now: datetime, queue: str = "default", **kw: object) -> Ticket:
    contact = contact_for_email(session, "bob@example.org", "Bob")
    return tickets.open_ticket(
        session,
        queue=queues.get_queue(session, queue),
        contact=contact,
        subject="Printer on fire",
        channel="email",
        actor=ADMIN,
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def _due(ticket: Ticket) -> tuple[datetime | None, datetime | None]:
    return ticket.first_response_due_at, ticket.resolution_due_at


def _sla_events(session: Session, ticket: Ticket) -> list[tuple[str | None, str | None]]:
    session.flush()
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "sla")
        .order_by(AuditEvent.created_at, AuditEvent.id)
    )
    return [(e.old_value, e.new_value) for e in rows]


def _described(policy: str, first: datetime, resolution: datetime) -> str:
    return (
        f"policy={policy} first_response_due={first.isoformat()} "
        f"resolution_due={resolution.isoformat()}"
    )


def test_the_queue_policy_wins_over_the_all_queues_one_and_the_default(session: Session) -> None:
    queues.add_queue(session, "vip", ["vip@example.com"])
    set_policy(
        session, "vip-normal", priority="normal", queue="vip", first_response="1h", resolution="4h"
    )
    vip = _open(session, MONDAY_10, queue="vip")
    plain = _open(session, MONDAY_10)
    assert _due(vip) == (MONDAY_10 + HOUR, MONDAY_10 + 4 * HOUR)
    assert _due(plain) == (MONDAY_10 + 4 * HOUR, MONDAY_10 + timedelta(days=2))
    # A VIP ticket of a priority the VIP queue has no policy for gets the all-queues one.
    urgent_vip = _open(session, MONDAY_10, queue="vip", priority="urgent")
    assert _due(urgent_vip) == (MONDAY_10 + timedelta(minutes=30), MONDAY_10 + 4 * HOUR)
    sla = ticket_sla(session, vip)
    assert sla is not None
    assert (sla.policy.name, sla.first_response_due) == ("vip-normal", MONDAY_10 + HOUR)


def test_a_priority_without_a_policy_falls_back_to_the_default_policy(session: Session) -> None:
    delete_policy(session, "low")
    assert _due(_open(session, MONDAY_10, priority="low")) == (
        MONDAY_10 + 4 * HOUR,
        MONDAY_10 + timedelta(days=2),
    ), "the seeded normal policy is the default"
    delete_policy(session, "high")
    set_policy(
        session, "catch-all", priority="high", first_response="2h", resolution="1d", default=True
    )
    assert [p.name for p in session.scalars(select(SlaPolicy).where(SlaPolicy.is_default))] == [
        "catch-all"
    ]
    assert policy_for(session, "low").name == "catch-all"  # type: ignore[union-attr]
    delete_policy(session, "catch-all")
    low = _open(session, MONDAY_10, priority="low")
    assert (low.sla_policy_id, *_due(low)) == (None, None, None)


def test_one_policy_per_queue_and_priority_even_for_all_queues(session: Session) -> None:
    queues.add_queue(session, "vip")
    with pytest.raises(Conflict, match="priority normal in all queues already has policy"):
        set_policy(session, "n2", priority="normal", first_response="1h", resolution="4h")
    set_policy(session, "v", priority="normal", queue="vip", first_response="1h", resolution="4h")
    with pytest.raises(Conflict, match="priority normal in queue vip already has policy 'v'"):
        set_policy(
            session, "v2", priority="normal", queue="vip", first_response="1h", resolution="4h"
        )
    with pytest.raises(NotFound, match="no queue named 'nope'"):
        set_policy(session, "x", priority="low", queue="nope", first_response="1h", resolution="4h")
    session.commit()
    # The database itself refuses a second row, NULL queue included (PostgreSQL and SQLite).
    vip_id = queues.get_queue(session, "vip").id
    for clash in (
        {"priority": "normal", "queue_id": None},  # a second all-queues normal policy
        {"priority": "normal", "queue_id": vip_id},  # a second vip normal policy
        {"priority": "urgent", "queue_id": vip_id, "is_default": True},  # a second default
    ):
        savepoint = session.begin_nested()
        session.add(_policy_row(**clash))  # type: ignore[arg-type]
        with pytest.raises(IntegrityError):
            session.flush()
        savepoint.rollback()
    session.add(_policy_row(priority="urgent", queue_id=vip_id))
    session.flush()


def _policy_row(priority: str, queue_id: int | None, is_default: bool = False) -> SlaPolicy:
    return SlaPolicy(
        name=f"row-{priority}-{queue_id}-{is_default}",
        priority=priority,
        queue_id=queue_id,
        is_default=is_default,
        first_response="1h",
        resolution="2h",
        business_hours="24x7",
        timezone="UTC",
        warn_at_percent=80,
        escalate_to=[],
    )


def test_pending_pauses_both_clocks_by_business_time(session: Session) -> None:
    _office(session)
    ticket = _open(session, MONDAY_10)
    assert _due(ticket) == (berlin_utc(2, 14), berlin_utc(4, 10))
    # Pending from Monday 16:00 to Tuesday 11:00: 1h + 2h of business time.
    tickets.change_status(session, ticket, "pending", actor=ADMIN, now=berlin_utc(2, 16))
    assert ticket.sla_paused_at == berlin_utc(2, 16)
    sla = ticket_sla(session, ticket)
    assert sla is not None
    assert (sla.first_response_due, sla.resolution_due) == (None, None), "still while pending"
    tickets.change_status(session, ticket, "open", actor=ADMIN, now=berlin_utc(3, 11))
    assert ticket.sla_paused_at is None
    # 14:00 + 3h is 17:00 Monday; 10:00 Wednesday + 3h is 13:00.
    assert _due(ticket) == (berlin_utc(2, 17), berlin_utc(4, 13))
    assert (ticket.first_response_paused_seconds, ticket.resolution_paused_seconds) == (
        3 * 3600,
        3 * 3600,
    )
    assert _sla_events(session, ticket) == [
        (
            _described("normal", berlin_utc(2, 14), berlin_utc(4, 10)),
            _described("normal", berlin_utc(2, 17), berlin_utc(4, 13)),
        )
    ]


def test_a_pause_after_the_first_response_moves_only_the_resolution(session: Session) -> None:
    _office(session)
    ticket = _open(session, MONDAY_10)
    answer = tickets.NewMessage(author_kind="agent", channel="cli", visible_text="On it")
    tickets.add_message(session, ticket, answer, now=berlin_utc(2, 11))
    assert ticket.first_responded_at == berlin_utc(2, 11)
    tickets.change_status(session, ticket, "pending", actor=ADMIN, now=berlin_utc(2, 12))
    tickets.change_status(session, ticket, "open", actor=ADMIN, now=berlin_utc(2, 15))
    assert _due(ticket) == (berlin_utc(2, 14), berlin_utc(4, 13))
    assert (ticket.first_response_paused_seconds, ticket.resolution_paused_seconds) == (0, 3 * 3600)


def test_resolved_stops_the_clock_and_a_reopen_starts_it_where_it_stopped(
    session: Session,
) -> None:
    _office(session)
    ticket = _open(session, MONDAY_10)
    tickets.change_status(session, ticket, "resolved", actor=ADMIN, now=berlin_utc(2, 15))
    assert ticket.resolved_at == berlin_utc(2, 15)
    assert _due(ticket) == (berlin_utc(2, 14), berlin_utc(4, 10)), "resolved on time"
    # Resolved over the weekend into next Monday: Tuesday 09:00 to 17:00, Wednesday to
    # Friday and Monday 09:00 to 10:00 = 2h (Mon) + 4 * 8h + 1h = 35 business hours.
    tickets.change_status(session, ticket, "open", actor=ADMIN, now=berlin_utc(9, 10))
    assert ticket.resolved_at is None
    assert ticket.resolution_paused_seconds == 35 * 3600
    # Due Wednesday 10:00 plus 35 business hours: Wednesday 10:00 + 7h, Thu, Fri, Mon 8h
    # each (24h), then 4h on Tuesday: Tuesday 10 March 13:00.
    assert ticket.resolution_due_at == berlin_utc(10, 13)


def test_pending_then_resolved_is_judged_with_the_pause_forgiven(session: Session) -> None:
    _office(session)
    ticket = _open(session, MONDAY_10)
    tickets.change_status(session, ticket, "pending", actor=ADMIN, now=berlin_utc(2, 11))
    tickets.change_status(session, ticket, "resolved", actor=ADMIN, now=berlin_utc(5, 11))
    # Three working days pending (24h) moved the resolution from Wednesday to Monday 10:00.
    assert ticket.resolution_due_at == berlin_utc(9, 10)
    assert ticket.resolved_at is not None
    assert ticket.resolved_at <= ticket.resolution_due_at
    tickets.change_status(session, ticket, "closed", actor=ADMIN, now=berlin_utc(12, 11))
    assert ticket.resolution_due_at == berlin_utc(9, 10), "closing a resolved ticket moves nothing"
    assert ticket.sla_paused_at is None


def test_priority_change_replans_from_creation_keeping_the_pause(session: Session) -> None:
    _office(session)
    _office(session, "urgent", priority="urgent", first_response="1h", resolution="8h")
    ticket = _open(session, MONDAY_10)
    tickets.change_status(session, ticket, "pending", actor=ADMIN, now=berlin_utc(2, 11))
    tickets.change_status(session, ticket, "open", actor=ADMIN, now=berlin_utc(2, 13))
    before = _due(ticket)
    tickets.change_priority(session, ticket, "urgent", actor=ADMIN, now=berlin_utc(2, 14))
    # From Monday 10:00: 1h + 2h paused = 13:00; 8h + 2h paused = Tuesday 12:00.
    assert _due(ticket) == (berlin_utc(2, 13), berlin_utc(3, 12))
    events = _sla_events(session, ticket)
    assert events[-1] == (
        _described("normal", *before),  # type: ignore[arg-type]
        _described("urgent", berlin_utc(2, 13), berlin_utc(3, 12)),
    )
    assert len(events) == 2, "one for the pause, one for the re-plan"


def test_moving_to_a_queue_with_its_own_policy_replans(session: Session) -> None:
    queues.add_queue(session, "vip")
    set_policy(
        session, "vip-normal", priority="normal", queue="vip", first_response="1h", resolution="4h"
    )
    ticket = _open(session, MONDAY_10)
    tickets.move(session, ticket, "vip", actor=ADMIN)
    assert _due(ticket) == (MONDAY_10 + HOUR, MONDAY_10 + 4 * HOUR)
    assert _sla_events(session, ticket) == [
        (
            _described("normal", MONDAY_10 + 4 * HOUR, MONDAY_10 + timedelta(days=2)),
            _described("vip-normal", MONDAY_10 + HOUR, MONDAY_10 + 4 * HOUR),
        )
    ]


def test_holidays_for_all_policies_and_for_one(session: Session) -> None:
    _office(session)
    _office(session, "high", priority="high")
    # Tuesday 3 March off for everybody, Wednesday 4 March for the normal policy only.
    holidays.add_holiday(session, date(2026, 3, 3), name="Strike")
    holidays.add_holiday(session, date(2026, 3, 4), policy="normal")
    normal = _open(session, berlin_utc(2, 16))
    high = _open(session, berlin_utc(2, 16), priority="high")
    # 4h from Monday 16:00: 1h Monday, then Wednesday (high) or Thursday (normal) 12:00.
    assert normal.first_response_due_at == berlin_utc(5, 12)
    assert high.first_response_due_at == berlin_utc(4, 12)
    with pytest.raises(Conflict, match="already a holiday for all policies"):
        holidays.add_holiday(session, date(2026, 3, 3))
    with pytest.raises(NotFound, match="no SLA policy named 'nope'"):
        holidays.add_holiday(session, date(2026, 3, 3), policy="nope")
    assert [(h.day, p, h.name) for h, p in holidays.list_holidays(session)] == [
        (date(2026, 3, 3), None, "Strike"),
        (date(2026, 3, 4), "normal", ""),
    ]
    holidays.remove_holiday(session, date(2026, 3, 4), policy="normal")
    assert _open(session, berlin_utc(2, 16)).first_response_due_at == berlin_utc(4, 12)
    with pytest.raises(NotFound, match="not a holiday for policy normal"):
        holidays.remove_holiday(session, date(2026, 3, 4), policy="normal")
    delete_policy(session, "high")
    assert [p for _, p in holidays.list_holidays(session)] == [None]
