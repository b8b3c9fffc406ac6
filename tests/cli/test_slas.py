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
