"""``ticketgw tickets list --breached`` and ``--at-risk``: where open tickets stand now."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime import Runtime
from gateway.sla.policies import set_policy
from schema.models.base import utcnow
from tests.cli.conftest import Ticketgw, assert_ok
from tests.reports.dataset import add


def test_breached_and_at_risk_lists(runtime: Runtime, gw: Ticketgw) -> None:
    now = utcnow()
    h = timedelta(hours=1)
    with runtime.transaction() as s:
        policy = set_policy(s, "urgent", priority="urgent", first_response="1h", resolution="8h")
        common = {"sla_policy_id": policy.id, "priority": "urgent", "channel": "email"}
        late = add(
            runtime,
            s,
            **common,
            status="open",
            created_at=now - 2 * h,
            first_response_due_at=now - h,
            resolution_due_at=now + 6 * h,
        )
        close = add(
            runtime,
            s,
            **common,
            status="open",
            created_at=now - 7.5 * h,
            first_response_due_at=now - 6.5 * h,
            first_responded_at=now - 7 * h,
            resolution_due_at=now + h / 2,
        )
        add(
            runtime,
            s,
            **common,
            status="new",
            created_at=now - h / 6,
            first_response_due_at=now + h * 5 / 6,
            resolution_due_at=now + 7.8 * h,
        )
        add(
            runtime,
            s,
            **common,
            status="resolved",
            created_at=now - 3 * h,
            first_response_due_at=now - 2 * h,
            resolution_due_at=now - h / 2,
            resolved_at=now - h / 2,
        )  # closed late, but no longer open
        add(
            runtime,
            s,
            **common,
            status="pending",
            created_at=now - 9 * h,
            first_response_due_at=now - 8 * h,
            first_responded_at=now - 8.5 * h,
            resolution_due_at=now - h,
            sla_paused_at=now - 4 * h,
        )  # paused in time
        late_ref, close_ref = late.reference, close.reference
    breached = assert_ok(gw("tickets", "list", "--breached", "--json")).json()
    assert [t["reference"] for t in breached] == [late_ref]
    at_risk = assert_ok(gw("tickets", "list", "--at-risk", "--json")).json()
    assert [t["reference"] for t in at_risk] == [close_ref]
    assert late_ref in assert_ok(gw("tickets", "list", "--breached")).stdout
    assert assert_ok(gw("tickets", "list", "--breached", "--at-risk")).stdout == "(none)\n"
