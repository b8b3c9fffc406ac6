"""``ticketgw sla report`` against the hand-computed week of ``dataset``."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.runtime import Runtime
from gateway.sla.holidays import add_holiday
from gateway.sla.policies import set_policy
from tests.cli.conftest import Ticketgw, assert_ok
from tests.reports.dataset import NOW, add, at, load

AT = NOW.isoformat()


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def _part(met: int, missed: int, percent: float | None, median: float | None,
          p90: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "met": met,
        "missed": missed,
        "percent_met": percent,
        "median_hours": median,
        "p90_hours": p90,
    }


def test_per_policy_compliance_times_breaches_and_risks(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    report = assert_ok(gw("sla", "report", "--since", "7d", "--at", AT, "--json")).json()
    assert set(report) == {"since", "now", "policies", "agents"}
    assert (report["since"], report["now"]) == ("2026-11-13T12:00:00Z", "2026-11-20T12:00:00Z")
    policies = _by_name(report["policies"])
    assert set(policies) == {"urgent", "normal"}
    assert policies["urgent"] == {
        "name": "urgent",
        "tickets": 4,  # T7 is older than the week
        "first_response": _part(2, 2, 50.0, 0.5, 2.0),
        "resolution": _part(1, 1, 50.0, 6.0, 10.0),
        "breached": 2,  # T3, and T7 whatever its age
        "at_risk": 1,  # T4: half an hour of eight left
    }
    assert policies["normal"] == {
        "name": "normal",
        "tickets": 3,
        "first_response": _part(2, 0, 100.0, 0.5, 2.0),
        # T8's deadline passed while it waited on the customer: not missed.
        "resolution": _part(1, 0, 100.0, 9.0, 9.0),  # Mon 09:00 -> Tue 10:00 in office hours
        "breached": 0,
        "at_risk": 1,  # T6: due 12:30, less than 2 of 4 business hours left
    }


def test_per_agent(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    report = assert_ok(gw("sla", "report", "--at", AT, "--json")).json()
    agents = _by_name(report["agents"])
    assert set(agents) == {"ann@example.com", "bob@example.com", "(unassigned)"}
    ann, bob, nobody = agents["ann@example.com"], agents["bob@example.com"], agents["(unassigned)"]
    assert (ann["tickets"], ann["breached"], ann["at_risk"]) == (4, 0, 0)
    assert ann["first_response"] == _part(3, 1, 75.0, 0.5, 2.0)
    assert ann["resolution"] == _part(2, 1, 66.7, 9.0, 10.0)
    assert (bob["tickets"], bob["breached"], bob["at_risk"]) == (2, 2, 1)
    assert bob["first_response"] == _part(1, 1, 50.0, 0.5, 0.5)
    assert bob["resolution"] == _part(0, 0, None, None, None)
    assert (nobody["tickets"], nobody["breached"], nobody["at_risk"]) == (1, 0, 1)


def test_a_shorter_window_counts_fewer_tickets_but_the_same_breaches(
    runtime: Runtime, gw: Ticketgw
) -> None:
    load(runtime)
    report = assert_ok(gw("sla", "report", "--since", "1d", "--at", AT, "--json")).json()
    urgent = _by_name(report["policies"])["urgent"]
    assert (urgent["tickets"], urgent["breached"], urgent["at_risk"]) == (3, 2, 1)  # T2-T4


def test_times_skip_the_policys_holidays_and_the_time_spent_waiting(
    runtime: Runtime, gw: Ticketgw
) -> None:
    with runtime.transaction() as s:
        office = set_policy(
            s, "normal", priority="normal", first_response="4h", resolution="3d",
            hours="Mon-Fri 09:00-17:00",
        )  # fmt: skip
        add_holiday(s, date(2026, 11, 17), policy="normal")  # the Tuesday
        add(
            runtime, s, sla_policy_id=office.id, priority="normal", channel="email",
            status="resolved", created_at=at(16, 9), first_response_due_at=at(16, 13),
            first_responded_at=at(16, 10), resolution_due_at=at(20, 10),
            resolved_at=at(18, 12), resolution_paused_seconds=3600,
        )  # fmt: skip
    report = assert_ok(gw("sla", "report", "--at", AT, "--json")).json()
    office_row = _by_name(report["policies"])["normal"]
    # Mon 09:00-17:00 is 8 hours, the Tuesday holiday none, Wed 09:00-12:00 three; an hour
    # of it the ticket waited on the customer.
    assert office_row["resolution"] == _part(1, 0, 100.0, 10.0, 10.0)
    assert office_row["first_response"] == _part(1, 0, 100.0, 1.0, 1.0)


def test_the_table_for_people(runtime: Runtime, gw: Ticketgw) -> None:
    load(runtime)
    out = assert_ok(gw("sla", "report", "--at", AT)).stdout
    assert out.startswith("Tickets created from 2026-11-13T12:00:00Z to 2026-11-20T12:00:00Z\n")
    assert "By policy" in out
    assert "By agent" in out
    urgent = next(line for line in out.splitlines() if "│ urgent" in line)
    assert "50% (2/4)" in urgent
    assert "0.5 / 2" in urgent


def test_bad_since_is_bad_usage(gw: Ticketgw) -> None:
    run = gw("sla", "report", "--since", "a week")
    assert run.exit_code == 2
    assert "bad duration" in run.stderr
    run = gw("sla", "report", "--at", "yesterday")
    assert run.exit_code == 2
    assert "not an ISO-8601 time: 'yesterday'" in run.stderr
