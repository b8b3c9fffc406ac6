"""``ticketgw queues``."""

from __future__ import annotations

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok

QUEUE_KEYS = {"name", "addresses", "sms_number", "default_priority", "members", "csat"}


def _queues(gw: Ticketgw) -> dict[str, dict[str, object]]:
    return {q["name"]: q for q in assert_ok(gw("queues", "list", "--json")).json()}


def test_add_update_members_and_list(gw: Ticketgw) -> None:
    added = assert_ok(
        gw("queues", "add", "billing", "--address", "Billing@Example.com", "--address",
           "invoices@example.com", "--sms-number", "+1 415 555 2671", "--priority", "high")
    )  # fmt: skip
    assert added.stdout == "added queue billing\n"
    billing = _queues(gw)["billing"]
    assert set(billing) == QUEUE_KEYS
    assert billing == {
        "name": "billing",
        "addresses": ["billing@example.com", "invoices@example.com"],
        "sms_number": "+14155552671",
        "default_priority": "high",
        "members": [],
        "csat": True,
    }

    assert_ok(gw("agents", "add", "ann@example.com", "--name", "Ann"))
    assert_ok(gw("queues", "members", "add", "billing", "ann@example.com"))
    assert_ok(
        gw("queues", "update", "billing", "--add-address", "pay@example.com", "--remove-address",
           "invoices@example.com", "--sms-number", "", "--priority", "low", "--rename", "money")
    )  # fmt: skip
    money = _queues(gw)["money"]
    assert money["addresses"] == ["billing@example.com", "pay@example.com"]
    assert (money["sms_number"], money["default_priority"]) == (None, "low")
    assert money["members"] == ["ann@example.com"]
    table = assert_ok(gw("queues", "list")).stdout
    assert "money" in table
    assert "pay@example.com" in table

    removed = assert_ok(gw("queues", "members", "remove", "money", "ann@example.com"))
    assert removed.stdout == "ann@example.com is no longer a member of queue money\n"
    assert _queues(gw)["money"]["members"] == []


def test_bad_input(gw: Ticketgw) -> None:
    assert_ok(gw("queues", "add", "billing", "--address", "billing@example.com"))
    assert_fails(gw("queues", "add", "billing", "--address", "b2@example.com"), 2, "already exists")
    assert_fails(
        gw("queues", "add", "sales", "--address", "BILLING@example.com"),
        2,
        "billing@example.com already routes to queue 'billing'",
    )
    assert_fails(gw("queues", "add", "sales", "--address", "nope"), 2, "not an email address")
    assert_fails(
        gw("queues", "add", "sales", "--address", "s@example.com", "--sms-number", "5"),
        2,
        "phone number",
    )
    assert_fails(
        gw("queues", "add", "sales", "--address", "s@example.com", "--priority", "asap"),
        2,
        "unknown priority",
    )
    assert_fails(gw("queues", "update", "nope", "--priority", "low"), 2, "no queue named 'nope'")
    assert_fails(
        gw("queues", "update", "billing", "--remove-address", "x@example.com"),
        2,
        "does not route",
    )
    assert_fails(gw("queues", "update", "billing", "--rename", "default"), 2, "already exists")
    assert_fails(gw("queues", "members", "add", "billing", "ghost@example.com"), 2, "no agent")
    assert_fails(gw("queues", "members", "add", "ghost", "ghost@example.com"), 2, "no queue")
    assert sorted(_queues(gw)) == ["billing", "default"]


def test_the_survey_switch_is_on_by_default_and_set_per_queue(gw: Ticketgw) -> None:
    assert_ok(gw("queues", "add", "vip", "--address", "vip@example.com", "--no-csat"))
    assert (_queues(gw)["vip"]["csat"], _queues(gw)["default"]["csat"]) == (False, True)
    assert_ok(gw("queues", "update", "vip", "--csat"))
    assert_ok(gw("queues", "update", "default", "--no-csat"))
    assert (_queues(gw)["vip"]["csat"], _queues(gw)["default"]["csat"]) == (True, False)
    assert_ok(gw("queues", "update", "vip", "--priority", "high"))  # leaves the switch alone
    assert _queues(gw)["vip"]["csat"] is True
