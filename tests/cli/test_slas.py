"""``ticketgw sla``."""

from __future__ import annotations

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok

POLICY_KEYS = {
    "name",
    "queue",
    "priority",
    "default",
    "first_response",
    "resolution",
    "business_hours",
    "timezone",
    "warn_at_percent",
    "escalate_to",
    "escalate_by",
}


def _policies(gw: Ticketgw) -> dict[str, dict[str, object]]:
    return {p["name"]: p for p in assert_ok(gw("sla", "list", "--json")).json()}


def test_defaults_set_replace_delete(gw: Ticketgw) -> None:
    listed = assert_ok(gw("sla", "list", "--json")).json()
    assert [p["priority"] for p in listed] == ["urgent", "high", "normal", "low"]
    assert all(set(p) == POLICY_KEYS for p in listed)

    assert_ok(gw("sla", "delete", "high"))
    out = assert_ok(
        gw("sla", "set", "vip", "--priority", "high", "--first-response", "1h30m", "--resolution",
           "2d", "--hours", "Mon-Fri 09:00-17:00", "--tz", "Europe/Paris", "--warn-at", "75",
           "--escalate-to", "Boss@Example.com", "--escalate-to", "ops@example.com")
    ).stdout  # fmt: skip
    assert out == "SLA policy vip set for high tickets\n"
    vip = _policies(gw)["vip"]
    assert vip == {
        "name": "vip",
        "queue": None,
        "priority": "high",
        "default": False,
        "first_response": "1h30m",
        "resolution": "2d",
        "business_hours": "Mon-Fri 09:00-17:00",
        "timezone": "Europe/Paris",
        "warn_at_percent": 75,
        "escalate_to": ["boss@example.com", "ops@example.com"],
        "escalate_by": "email",
    }
    # Setting an existing name replaces it.
    assert_ok(gw("sla", "set", "vip", "--priority", "high", "--first-response", "2h",
                 "--resolution", "1d"))  # fmt: skip
    assert _policies(gw)["vip"]["first_response"] == "2h"
    assert "vip" in assert_ok(gw("sla", "list")).stdout

    assert assert_ok(gw("sla", "delete", "vip")).stdout == "deleted SLA policy vip\n"
    assert "vip" not in _policies(gw)


def test_bad_input(gw: Ticketgw) -> None:
    base = ("sla", "set", "p", "--priority", "high", "--first-response", "1h")
    assert_fails(gw(*base, "--resolution", "2 weeks"), 2, "bad duration '2 weeks'")
    assert_fails(gw(*base, "--resolution", "8h", "--hours", "weekdays"), 2, "bad hours 'weekdays'")
    assert_fails(gw(*base, "--resolution", "8h", "--tz", "Mars/Olympus"), 2, "unknown time zone")
    assert_fails(gw(*base, "--resolution", "8h", "--warn-at", "150"), 2, "--warn-at")
    assert_fails(gw(*base, "--resolution", "30m"), 2, "must not be shorter")
    assert_fails(
        gw(*base, "--resolution", "8h", "--escalate-to", "boss"), 2, "not an email address"
    )
    assert_fails(
        gw(*base, "--resolution", "8h"), 2, "priority high in all queues already has policy 'high'"
    )
    assert_fails(
        gw("sla", "set", "p", "--priority", "asap", "--first-response", "1h", "--resolution", "8h"),
        2,
        "unknown priority",
    )
    assert_fails(gw("sla", "delete", "nope"), 2, "no SLA policy named 'nope'")
    assert sorted(_policies(gw)) == ["high", "low", "normal", "urgent"]


def test_queue_policies_and_the_default(gw: Ticketgw) -> None:
    assert_ok(gw("queues", "add", "vip", "--address", "vip@example.com"))
    out = assert_ok(
        gw("sla", "set", "vip-urgent", "--priority", "urgent", "--queue", "vip",
           "--first-response", "15m", "--resolution", "2h")
    ).stdout  # fmt: skip
    assert out == "SLA policy vip-urgent set for urgent tickets in queue vip\n"
    listed = assert_ok(gw("sla", "list", "--json")).json()
    assert [(p["name"], p["queue"], p["default"]) for p in listed] == [
        ("urgent", None, False),
        ("vip-urgent", "vip", False),
        ("high", None, False),
        ("normal", None, True),
        ("low", None, False),
    ]
    table = assert_ok(gw("sla", "list")).stdout
    assert "queue" in table.splitlines()[1]
    assert "normal (default)" in table
    [vip_row] = [line for line in table.splitlines() if "vip-urgent" in line]
    assert "vip" in vip_row.replace("vip-urgent", "")
    assert_fails(
        gw("sla", "set", "x", "--priority", "urgent", "--queue", "vip", "--first-response", "1h",
           "--resolution", "2h"),
        2,
        "priority urgent in queue vip already has policy 'vip-urgent'",
    )  # fmt: skip
    assert_fails(
        gw("sla", "set", "x", "--priority", "low", "--queue", "nope", "--first-response", "1h",
           "--resolution", "2h"),
        2,
        "no queue named 'nope'",
    )  # fmt: skip
    out = assert_ok(
        gw("sla", "set", "low", "--priority", "low", "--default", "--first-response", "1d",
           "--resolution", "5d")
    ).stdout  # fmt: skip
    assert out == "SLA policy low set for low tickets (and the default policy)\n"
    defaults = [p["name"] for p in assert_ok(gw("sla", "list", "--json")).json() if p["default"]]
    assert defaults == ["low"]


def test_holidays_add_list_remove(gw: Ticketgw) -> None:
    assert assert_ok(gw("sla", "holidays", "list", "--json")).json() == []
    out = assert_ok(gw("sla", "holidays", "add", "2026-12-25", "--name", "Christmas")).stdout
    assert out == "2026-12-25 is a holiday for all policies\n"
    out = assert_ok(gw("sla", "holidays", "add", "2026-12-24", "--policy", "urgent")).stdout
    assert out == "2026-12-24 is a holiday for policy urgent\n"
    assert assert_ok(gw("sla", "holidays", "list", "--json")).json() == [
        {"date": "2026-12-24", "policy": "urgent", "name": ""},
        {"date": "2026-12-25", "policy": None, "name": "Christmas"},
    ]
    table = assert_ok(gw("sla", "holidays", "list")).stdout
    assert "Christmas" in table
    assert "(all)" in table
    assert_fails(gw("sla", "holidays", "add", "25.12.2026"), 2, "bad date '25.12.2026'")
    assert_fails(gw("sla", "holidays", "add", "2026-12-25"), 2, "already a holiday")
    assert_fails(gw("sla", "holidays", "add", "2026-12-26", "--policy", "nope"), 2, "nope")
    assert_fails(gw("sla", "holidays", "remove", "2026-12-24"), 2, "not a holiday for all")
    out = assert_ok(gw("sla", "holidays", "remove", "2026-12-24", "--policy", "urgent")).stdout
    assert out == "2026-12-24 is no longer a holiday for policy urgent\n"
    assert [h["date"] for h in assert_ok(gw("sla", "holidays", "list", "--json")).json()] == [
        "2026-12-25"
    ]
