"""The SLA scheduler with real workers on Redis: delayed checks, the safety scan, and the
escalations arriving at the SMTP sink and the Twilio stand-in."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

from dramatiq.brokers.redis import RedisBroker

from gateway.config import load_settings
from gateway.runtime import Runtime
from tests.sla.conftest import (
    ANN,
    ANN_PHONE,
    BOB,
    LEAD,
    OpenTicket,
    berlin,
    escalate_by,
    escalation_mails,
    office,
    open_ticket,
    raised,
)
from tests.waiting import wait_until
from tests.workers.conftest import FAST, Workers
from tests.workers.sink import Recorder
from workers.broker import setup_broker
from workers.sla_scheduler import safety_scan
from workers.transports.twilio_standin import TwilioStandIn

__all__ = ["office", "open_ticket"]  # fixtures


class Clock:
    """The scheduler's "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def set(self, now: datetime) -> None:
        with self._lock:
            self.now = now


def test_breach_mails_and_sms_arrive_with_ticket_subject_deadline_and_elapsed(
    office: Runtime,
    open_ticket: OpenTicket,
    workers: Workers,
    sink: tuple[Recorder, object],
    twilio: TwilioStandIn,
) -> None:
    escalate_by(office, "both")
    open_ticket("2026-12-07 09:00", subject="Printer on fire")
    broker = workers(**twilio.settings_env())
    safety_scan(broker, berlin("2026-12-07 13:00"))  # first response was due 13:00 Berlin
    wait_until(lambda: len(_sla_mails(sink[0])) == 3, what="three breach mails")
    wait_until(lambda: len(twilio.messages) == 1, what="one breach SMS")

    by_rcpt = {str(m["To"]).rpartition("<")[2].rstrip(">"): m for m in _sla_mails(sink[0])}
    assert sorted(by_rcpt) == sorted([ANN, BOB, LEAD])
    mail = by_rcpt[ANN]
    assert mail["Subject"] == (
        "[T-000001] SLA breached: first response was due 2026-12-07 12:00 UTC (normal)"
    )
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "T-000001 Printer on fire" in text
    assert (
        "The first response deadline for T-000001 has passed: it was due 2026-12-07 12:00 UTC"
        " (4h of business time used, 100% of the target)." in text
    )
    assert "+t1.a" in str(mail["Reply-To"])  # Ann may answer from her mail client
    assert str(by_rcpt[LEAD]["Reply-To"]) == "support@example.com"  # told, not a party
    [sms] = twilio.messages
    assert sms.to == ANN_PHONE
    assert sms.body == (
        'SLA breach T-000001 "Printer on fire": first response was due 2026-12-07 12:00 UTC,'
        " 4h used."
    )


def test_the_safety_scan_recovers_a_delayed_check_the_broker_lost(
    office: Runtime, open_ticket: OpenTicket, worker_env: dict[str, str], namespace: str
) -> None:
    ticket = open_ticket("2026-12-07 09:00")
    # No worker runs: what the broker is sent waits in Redis, where it can be lost.
    broker = setup_broker(load_settings(worker_env), runtime=office, namespace=namespace)
    try:
        # The 12:12 warning is a minute away: the scan books a delayed check for it...
        assert safety_scan(broker, berlin("2026-12-07 12:11")).raised == []
        assert _waiting(broker, "sla.DQ") == 1
        # ...which the broker loses (a Redis failover, a flush), before any worker took it.
        broker.flush_all()
        assert _waiting(broker, "sla.DQ") == 0
        report = safety_scan(broker, berlin("2026-12-07 12:12:30"))
    finally:
        broker.close()
    assert [(r.moment.level, r.recipients) for r in report.raised] == [
        ("warning", (f"{ANN} (email)",))
    ]
    assert raised(office) == [(ticket, "first_response", "warning", "sent")]
    assert escalation_mails(office) == [("sla_warning", "email", ANN)]


def _sla_mails(recorder: Recorder) -> list[EmailMessage]:
    """The escalation mails among those the sink got (the ticket's own mails are there too)."""
    return [m for m in recorder.messages if "] SLA " in str(m["Subject"])]


def _waiting(broker: RedisBroker, queue: str) -> int:
    return int(broker.client.llen(f"{broker.namespace}:{queue}"))


def test_a_delayed_check_fires_the_level_at_its_moment(
    office: Runtime, open_ticket: OpenTicket, workers: Workers, sink: tuple[Recorder, object]
) -> None:
    ticket = open_ticket("2026-12-07 09:00")
    moment = berlin("2026-12-07 12:12")
    clock = Clock(moment - timedelta(milliseconds=300))
    broker = workers(options=replace(FAST, clock=clock))
    assert safety_scan(broker, clock()).raised == []  # books a check 300 ms ahead
    clock.set(moment)  # time passes; no scan runs, only the delayed message
    wait_until(lambda: raised(office), what="the delayed check")
    assert raised(office) == [(ticket, "first_response", "warning", "sent")]
    wait_until(lambda: len(_sla_mails(sink[0])) == 1, what="the warning mail")
    assert escalation_mails(office) == [("sla_warning", "email", ANN)]
