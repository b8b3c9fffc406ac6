"""``ticketgw sla scan`` and ``sla escalate-by``."""

from __future__ import annotations

from gateway.runtime import Runtime
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.sla.conftest import ANN, BOB, LEAD, OpenTicket, berlin, escalation_mails


def test_scan_at_a_time_prints_what_fired_and_running_it_again_fires_nothing(
    office: Runtime, open_ticket: OpenTicket, gw: Ticketgw
) -> None:
    open_ticket("2026-12-07 09:00", subject="Printer on fire")
    at = berlin("2026-12-07 13:00").isoformat()  # the first-response deadline
    superseded, breach = assert_ok(gw("sla", "scan", "--at", at, "--json")).json()
    # The warning's moment passed unseen: the breach says more, so only it is sent.
    assert (superseded["level"], superseded["outcome"], superseded["recipients"]) == (
        "warning",
        "superseded",
        [],
    )
    assert breach == {
        "ticket": "T-000001",
        "subject": "Printer on fire",
        "deadline": "first_response",
        "level": "breach",
        "percent": 100,
        "due_at": "2026-12-07T12:00:00Z",
        "deadline_at": "2026-12-07T12:00:00Z",
        "elapsed": "4h",
        "outcome": "sent",
        "recipients": [f"{ANN} (email)", f"{BOB} (email)", f"{LEAD} (email)"],
    }
    assert assert_ok(gw("sla", "scan", "--at", at, "--json")).json() == []
    assert len(escalation_mails(office)) == 3


def test_scan_prints_a_table_for_people(
    office: Runtime, open_ticket: OpenTicket, gw: Ticketgw
) -> None:
    open_ticket("2026-12-07 09:00", subject="Printer on fire")
    out = assert_ok(gw("sla", "scan", "--at", "2026-12-07T12:12:00+01:00")).stdout
    [row] = [line for line in out.splitlines() if "T-000001" in line]
    assert [cell.strip() for cell in row.split("│")[1:-1]] == [
        "T-000001",
        "Printer on fire",
        "first response",
        "warning",
        "2026-12-07T11:12:00Z",
        "3h12m (80%)",
        "sent",
        f"{ANN} (email)",
    ]
    assert out.splitlines()[-1] == (
        "scanned at 2026-12-07T11:12:00Z: 1 escalations sent, 1 tickets checked"
    )
    again = assert_ok(gw("sla", "scan", "--at", "2026-12-07T12:12:00+01:00")).stdout
    assert again.splitlines() == [
        "(none)",
        "scanned at 2026-12-07T11:12:00Z: 0 escalations sent, 0 tickets checked",
    ]


def test_a_bad_time_is_bad_input(gw: Ticketgw) -> None:
    assert_fails(gw("sla", "scan", "--at", "next tuesday"), 2, "--at 'next tuesday'")


def test_escalate_by_is_kept_until_set_again(office: Runtime, gw: Ticketgw) -> None:
    base = ("sla", "set", "normal", "--priority", "normal", "--first-response", "4h",
            "--resolution", "2d")  # fmt: skip

    def normal() -> tuple[str, int]:
        [row] = [p for p in assert_ok(gw("sla", "list", "--json")).json() if p["name"] == "normal"]
        return row["escalate_by"], row["warn_at_percent"]

    assert normal() == ("email", 80)
    assert_ok(gw(*base, "--escalate-by", "sms"))
    assert normal() == ("sms", 80)
    assert_ok(gw(*base, "--warn-at", "70"))
    assert normal() == ("sms", 70)
    assert gw(*base, "--escalate-by", "pigeon").exit_code == 2
