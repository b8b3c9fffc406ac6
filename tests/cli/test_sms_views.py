"""What the CLI shows of SMS: inbox items, tickets on the sms channel, phones in E.164."""

from __future__ import annotations

import json

from gateway.runtime import Runtime
from tests.cli.conftest import Ticketgw, assert_ok
from tests.sms.conftest import receive_sms


def test_inbox_and_tickets_show_sms(ticketgw: Ticketgw, runtime: Runtime) -> None:
    receive_sms(runtime, "Screen cracked", sender="+1 415-555-2671")
    receive_sms(runtime, "STOP", sender="+14155552671")
    items = assert_ok(ticketgw("mail", "inbox", "list", "--json")).json()
    assert [(i["channel"], i["source"], i["sender"], i["status"]) for i in items] == [
        ("sms", "twilio", "+14155552671", "ignored"),
        ("sms", "twilio", "+14155552671", "done"),
    ]
    assert items[0]["classification"] == "keyword"
    [summary] = assert_ok(ticketgw("tickets", "list", "--json")).json()
    assert summary["channel"] == "sms"
    assert summary["contact"]["phone"] == "+14155552671"
    table = assert_ok(ticketgw("tickets", "list")).stdout
    assert "+14155552671" in table
    assert "sms" in table
    shown = assert_ok(ticketgw("tickets", "show", summary["reference"], "--json")).json()
    customer = shown["messages"][0]
    assert (customer["channel"], customer["author"]) == ("sms", "+14155552671")
    assert customer["sms_sid"].startswith("SM")
    export = ticketgw("tickets", "export")
    assert export.exit_code == 0
    record = json.loads(export.stdout.splitlines()[0])
    assert (record["channel"], record["contact"]["phone"]) == ("sms", "+14155552671")
