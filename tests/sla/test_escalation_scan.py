"""The escalation scan on a real database, driven by the clock it is given."""

from __future__ import annotations

import threading

from sqlalchemy import select

from gateway import audit, tickets
from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime
from gateway.sla.scan import RETRY_AFTER, ScanReport, scan
from schema.models import SlaPolicy
from tests.sla.conftest import (
    ANN,
    ANN_PHONE,
    BOB,
    LEAD,
    MIA,
    MIA_PHONE,
    OpenTicket,
    berlin,
    escalate_by,
    escalation_mails,
    next_check,
    raised,
)


def test_a_warning_fires_once_at_80_percent_of_business_time_across_a_weekend(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-04 15:00")  # Friday; first response due Monday 11:00
    updated = _updated_at(office, ticket)
    assert scan(office, berlin("2026-12-07 10:11")).raised == []
    # Planned for the warning: 2h of Friday + 1h12m of Monday, not wall time.
    assert next_check(office, ticket) == berlin("2026-12-07 10:12")

    report = scan(office, berlin("2026-12-07 10:12"))
    [warning] = report.raised
    assert (warning.moment.deadline, warning.moment.level, warning.outcome) == (
        "first_response",
        "warning",
        "sent",
    )
    assert warning.recipients == (f"{ANN} (email)",)
    assert escalation_mails(office) == [("sla_warning", "email", ANN)]
    assert next_check(office, ticket) == berlin("2026-12-07 11:00")  # the breach
    # Again at the same moment, and later before the breach: nothing more.
    assert scan(office, berlin("2026-12-07 10:12")).raised == []
    assert scan(office, berlin("2026-12-07 10:59")).raised == []
    assert escalation_mails(office) == [("sla_warning", "email", ANN)]
    assert _updated_at(office, ticket) == updated  # looked at and escalated, not changed


def test_breach_goes_to_the_assignee_and_escalation_addresses_breach2_to_managers(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-07 09:00")  # Monday; first response due 13:00
    scan(office, berlin("2026-12-07 12:12"))
    breach = scan(office, berlin("2026-12-07 13:00")).raised
    assert [(r.moment.level, r.recipients) for r in breach] == [
        ("breach", (f"{ANN} (email)", f"{BOB} (email)", f"{LEAD} (email)"))
    ]
    breach2 = scan(office, berlin("2026-12-07 15:00")).raised
    assert [(r.moment.level, r.recipients) for r in breach2] == [("breach2", (f"{MIA} (email)",))]
    assert raised(office) == [
        (ticket, "first_response", "breach", "sent"),
        (ticket, "first_response", "breach2", "sent"),
        (ticket, "first_response", "warning", "sent"),
    ]


def test_an_unassigned_ticket_warns_every_active_agent(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    open_ticket("2026-12-07 09:00", assignee=None)
    scan(office, berlin("2026-12-07 12:12"))
    assert escalation_mails(office) == [
        ("sla_warning", "email", ANN),
        ("sla_warning", "email", BOB),
        ("sla_warning", "email", MIA),
    ]


def test_escalation_by_sms_texts_agents_with_a_phone_and_mails_the_others(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    escalate_by(office, "sms")
    open_ticket("2026-12-07 09:00")
    scan(office, berlin("2026-12-07 13:00"))  # warning superseded by the breach
    assert escalation_mails(office) == [
        ("sla_breach", "email", BOB),
        ("sla_breach", "email", LEAD),
        ("sms_sla_alert", "sms", ANN_PHONE),
    ]
    escalate_by(office, "both")
    scan(office, berlin("2026-12-07 15:00"))
    assert escalation_mails(office)[:2] == [
        ("sla_breach", "email", BOB),
        ("sla_breach", "email", LEAD),
    ]
    assert ("sla_breach2", "email", MIA) in escalation_mails(office)
    assert ("sms_sla_alert", "sms", MIA_PHONE) in escalation_mails(office)


def test_levels_due_together_send_only_the_highest_and_never_the_others_later(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-07 09:00")
    [sent] = [r for r in scan(office, berlin("2026-12-07 15:30")).raised if r.outcome == "sent"]
    assert (sent.moment.deadline, sent.moment.level) == ("first_response", "breach2")
    assert raised(office) == [
        (ticket, "first_response", "breach", "superseded"),
        (ticket, "first_response", "breach2", "sent"),
        (ticket, "first_response", "warning", "superseded"),
    ]
    assert escalation_mails(office) == [("sla_breach2", "email", MIA)]
    # Next: the resolution warning, due Wednesday 09:00: 80% of 16h is Tuesday 13:48.
    assert next_check(office, ticket) == berlin("2026-12-08 13:48")


def test_resolving_before_the_moment_cancels_and_keeps_what_was_sent(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-07 09:00")
    scan(office, berlin("2026-12-07 13:00"))  # the breach is sent
    with office.transaction() as session:
        tickets.change_status(
            session,
            session.get_one(tickets.Ticket, ticket),
            "resolved",
            actor=audit.ADMIN,
            now=berlin("2026-12-07 14:00"),
        )
    assert scan(office, berlin("2026-12-10 12:00")).raised == []  # no breach2, no resolution
    assert next_check(office, ticket) is None
    assert raised(office) == [
        (ticket, "first_response", "breach", "sent"),
        (ticket, "first_response", "warning", "superseded"),
    ]


def test_a_first_response_stops_its_levels_but_not_the_resolutions(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-07 09:00")
    with office.transaction() as session:
        t = session.get_one(tickets.Ticket, ticket)
        t.first_responded_at = berlin("2026-12-07 10:00")
    report = scan(office, berlin("2026-12-08 13:48"))
    assert [(r.moment.deadline, r.moment.level) for r in report.raised] == [
        ("resolution", "warning")
    ]


def test_a_restarted_scheduler_fires_nothing_again(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    open_ticket("2026-12-07 09:00")
    assert len(scan(office, berlin("2026-12-07 13:00")).raised) == 2
    before = escalation_mails(office)
    # As after a restart: a runtime of its own, nothing remembered but the database.
    restarted = open_runtime(load_settings({"TICKETGW_DATABASE_URL": office.settings.database_url}))
    try:
        assert scan(restarted, berlin("2026-12-07 13:00")).raised == []
        assert scan(restarted, berlin("2026-12-07 14:00")).raised == []
    finally:
        restarted.close()
    assert escalation_mails(office) == before


def test_two_schedulers_at_once_raise_each_level_once(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ids = [open_ticket("2026-12-07 09:00", subject=f"Case {i}") for i in range(40)]
    settings = load_settings({"TICKETGW_DATABASE_URL": office.settings.database_url})
    schedulers = [open_runtime(settings), open_runtime(settings)]
    start = threading.Barrier(2)
    reports: list[ScanReport] = []

    def run(runtime: Runtime) -> None:
        start.wait()
        reports.append(scan(runtime, berlin("2026-12-07 13:00"), batch=7))

    threads = [threading.Thread(target=run, args=(rt,)) for rt in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for runtime in schedulers:
        runtime.close()
    sent = [r.ticket_id for report in reports for r in report.raised if r.outcome == "sent"]
    assert sorted(sent) == ids  # one breach per ticket, whichever scheduler sent it
    assert len(escalation_mails(office)) == 3 * len(ids)  # Ann, Bob and the lead, once each
    assert sum(1 for row in raised(office) if row[2] == "breach") == len(ids)


def test_a_pending_ticket_raises_nothing_and_its_moments_move_out_by_the_pause(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    ticket = open_ticket("2026-12-07 09:00")  # first response due 13:00
    _status(office, ticket, "pending", "2026-12-07 10:00")
    assert scan(office, berlin("2026-12-07 16:00")).raised == []  # past the breach: paused
    assert next_check(office, ticket) is None
    _status(office, ticket, "open", "2026-12-07 12:00")  # paused 2h: due 15:00 now
    # The warning, due at 80% of the 4h target plus the 2h pause (14:12), comes now...
    held = scan(office, berlin("2026-12-07 14:59")).raised
    assert [(r.moment.level, r.moment.at) for r in held] == [
        ("warning", berlin("2026-12-07 14:12"))
    ]
    # ...and the breach at the deadline moved out by the pause.
    [breach] = [r for r in scan(office, berlin("2026-12-07 15:00")).raised if r.outcome == "sent"]
    assert (breach.moment.level, breach.moment.deadline_at) == (
        "breach",
        berlin("2026-12-07 15:00"),
    )


def _status(runtime: Runtime, ticket_id: int, status: str, at: str) -> None:
    with runtime.transaction() as session:
        tickets.change_status(
            session,
            session.get_one(tickets.Ticket, ticket_id),
            status,
            actor=audit.ADMIN,
            now=berlin(at),
        )


def _updated_at(runtime: Runtime, ticket_id: int) -> object:
    with runtime.sessions() as session:
        return session.get_one(tickets.Ticket, ticket_id).updated_at


def test_a_ticket_whose_check_fails_is_retried_later_and_the_others_escalate(
    office: Runtime, open_ticket: OpenTicket
) -> None:
    good = open_ticket("2026-12-07 09:00")
    bad = open_ticket("2026-12-07 09:00", subject="Broken policy")
    with office.transaction() as session:
        broken = session.scalars(select(SlaPolicy).where(SlaPolicy.priority == "low")).one()
        broken.timezone = "Mars/Olympus_Mons"  # written behind the CLI's back
        session.get_one(tickets.Ticket, bad).sla_policy_id = broken.id
    at = berlin("2026-12-07 13:00")
    report = scan(office, at)
    assert {r.ticket_id for r in report.raised} == {good}
    assert [row[0] for row in raised(office)] == [good, good]  # breach, warning superseded
    assert next_check(office, bad) == at + RETRY_AFTER
