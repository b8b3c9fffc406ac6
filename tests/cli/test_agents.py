"""``ticketgw agents``."""

from __future__ import annotations

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok

AGENT_KEYS = {"email", "name", "phone", "role", "active", "created_at"}


def test_add_list_update_disable_enable(gw: Ticketgw) -> None:
    added = assert_ok(gw("agents", "add", "Ann@Example.com", "--name", "Ann Smith"))
    assert added.stdout == "added agent ann@example.com (agent)\n"
    assert_ok(
        gw("agents", "add", "bob@example.com", "--name", "Bob", "--phone", "+1 415 555 2671",
           "--role", "manager")
    )  # fmt: skip

    listed = assert_ok(gw("agents", "list", "--json")).json()
    assert [a["email"] for a in listed] == ["ann@example.com", "bob@example.com"]
    assert all(set(a) == AGENT_KEYS for a in listed)
    assert listed[1]["phone"] == "+14155552671"
    assert listed[1]["role"] == "manager"
    assert listed[0]["created_at"].endswith("Z")

    assert_ok(
        gw("agents", "update", "ann@example.com", "--name", "Ann Jones", "--role", "admin",
           "--email", "ann.jones@example.com", "--phone", "+14155552672")
    )  # fmt: skip
    assert_ok(gw("agents", "disable", "bob@example.com"))
    by_email = {a["email"]: a for a in assert_ok(gw("agents", "list", "--json")).json()}
    assert by_email["ann.jones@example.com"]["name"] == "Ann Jones"
    assert by_email["ann.jones@example.com"]["role"] == "admin"
    assert by_email["bob@example.com"]["active"] is False

    assert_ok(gw("agents", "enable", "bob@example.com"))
    assert_ok(gw("agents", "update", "bob@example.com", "--phone", ""))
    table = assert_ok(gw("agents", "list")).stdout
    assert "ann.jones@example.com" in table
    assert "Ann Jones" in table
    bob = next(a for a in assert_ok(gw("agents", "list", "--json")).json() if a["name"] == "Bob")
    assert (bob["active"], bob["phone"]) == (True, None)


def test_empty_list(gw: Ticketgw) -> None:
    assert assert_ok(gw("agents", "list")).stdout == "(none)\n"
    assert assert_ok(gw("agents", "list", "--json")).json() == []


def test_bad_input(gw: Ticketgw) -> None:
    assert_ok(gw("agents", "add", "ann@example.com", "--name", "Ann"))
    assert_fails(gw("agents", "add", "not-an-address", "--name", "X"), 2, "not an email address")
    assert_fails(
        gw("agents", "add", "x@example.com", "--name", "X", "--phone", "12"), 2, "phone number"
    )
    assert_fails(
        gw("agents", "add", "x@example.com", "--name", "X", "--role", "boss"), 2, "unknown role"
    )
    assert_fails(gw("agents", "add", "x@example.com", "--name", " "), 2, "needs a name")
    assert_fails(
        gw("agents", "add", "ANN@example.com", "--name", "Ann"),
        2,
        "agent ann@example.com already exists",
    )
    assert_fails(gw("agents", "update", "nobody@example.com", "--name", "N"), 2, "no agent")
    assert_fails(gw("agents", "disable", "nobody@example.com"), 2, "no agent")
    assert_fails(gw("agents", "enable", "nobody@example.com"), 2, "no agent")
    assert_fails(gw("agents", "update", "ann@example.com", "--role", "root"), 2, "unknown role")
    assert_fails(gw("agents", "update", "ann@example.com", "--email", "nope"), 2, "not an email")
    # Nothing of the refused commands was stored.
    assert [a["email"] for a in gw("agents", "list", "--json").json()] == ["ann@example.com"]
