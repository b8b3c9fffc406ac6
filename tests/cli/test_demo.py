"""``ticketgw demo``: runs twice on the same database and shows its tickets."""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Ticketgw, assert_ok


def test_demo_twice(ticketgw: Ticketgw) -> None:
    first = assert_ok(ticketgw("demo")).stdout
    second = assert_ok(ticketgw("demo")).stdout
    for out in (first, second):
        assert out.startswith("database at revision ")
        for expected in ("T-000001", "T-000002", "T-000003", "carol@example.org", "+14155552671"):
            assert expected in out
        assert "Cannot log in" in out
    assert "T-000004" not in second  # reused, not opened again

    agents = assert_ok(ticketgw("agents", "list", "--json")).json()
    assert [a["email"] for a in agents] == ["ann@example.com", "bob@example.com"]
    assert len(assert_ok(ticketgw("sla", "list", "--json")).json()) == 4
    listed = assert_ok(ticketgw("tickets", "list", "--json")).json()
    assert len(listed) == 3
    by_channel = {t["channel"]: t for t in listed}
    assert by_channel["sms"]["contact"]["phone"] == "+14155552671"
    assigned = [t for t in listed if t["assignee"]]
    assert [t["assignee"] for t in assigned] == ["ann@example.com"]
    for ticket in listed:
        record = ticket_show(ticketgw, ticket["reference"])
        assert len(record["messages"]) == 1
        assert record["messages"][0]["channel"] == ticket["channel"]
    members = assert_ok(ticketgw("queues", "list", "--json")).json()[0]["members"]
    assert members == ["ann@example.com", "bob@example.com"]


def ticket_show(ticketgw: Ticketgw, ref: str) -> dict[str, Any]:
    record: dict[str, Any] = assert_ok(ticketgw("tickets", "show", ref, "--json")).json()
    return record
