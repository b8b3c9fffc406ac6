"""Delivery status callbacks: signed, recorded by SID, never moving backwards, never lost
when they come before the SID is recorded."""

from __future__ import annotations

from sqlalchemy import func, select, update

from admin_cli.app import Gateway
from admin_cli.processing import Processing
from gateway.outbox.relay import sweep_stuck
from gateway.runtime import Runtime
from schema.models import OutboxItem, UnmatchedStatusCallback
from tests.sms.conftest import CUSTOMER, TwilioClient, new_sid, status_fields
from tests.waiting import wait_until
from workers.enqueue import to_broker
from workers.transports.twilio_standin import TwilioStandIn


def _sent_sms(runtime: Runtime, sid: str) -> int:
    with runtime.transaction() as s:
        row = OutboxItem(
            channel="sms",
            recipient=CUSTOMER,
            template="sms_ack",
            context={},
            status="sent",
            provider_id=sid,
            idempotency_key=f"test:{sid}",
        )
        s.add(row)
        s.flush()
        return row.id


def _row(runtime: Runtime, row_id: int) -> OutboxItem:
    with runtime.sessions() as s:
        row = s.get(OutboxItem, row_id)
        assert row is not None
        return row


def test_out_of_order_and_repeated_callbacks_never_go_backwards(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    sid = new_sid()
    row_id = _sent_sms(sms_runtime, sid)
    for status in ("sent", "delivered", "sent", "queued", "delivered", "undelivered"):
        response = webhooks.post("/twilio/status", status_fields(sid, status))
        assert response.status_code == 204
    row = _row(sms_runtime, row_id)
    assert (row.status, row.delivery_status, row.last_error) == ("sent", "delivered", None)


def test_a_failed_delivery_keeps_twilios_error_code(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    sid = new_sid()
    row_id = _sent_sms(sms_runtime, sid)
    assert webhooks.post("/twilio/status", status_fields(sid, "queued")).status_code == 204
    assert (
        webhooks.post("/twilio/status", status_fields(sid, "undelivered", "30003")).status_code
        == 204
    )
    assert webhooks.post("/twilio/status", status_fields(sid, "sent")).status_code == 204
    row = _row(sms_runtime, row_id)
    assert row.delivery_status == "undelivered"
    assert row.last_error == "Twilio delivery undelivered (error 30003)"


def test_unsigned_or_unknown_callbacks_change_nothing(
    webhooks: TwilioClient, sms_runtime: Runtime
) -> None:
    sid = new_sid()
    row_id = _sent_sms(sms_runtime, sid)
    assert (
        webhooks.post("/twilio/status", status_fields(sid, "failed"), sign=False).status_code == 403
    )
    assert webhooks.post("/twilio/status", status_fields(new_sid(), "failed")).status_code == 204
    assert webhooks.post("/twilio/status", status_fields(sid, "exploded")).status_code == 204
    assert _row(sms_runtime, row_id).delivery_status is None


def _waiting(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(UnmatchedStatusCallback)) or 0


def test_callbacks_before_the_sid_is_recorded_are_applied_when_it_is(
    live: tuple[Gateway, Runtime, TwilioStandIn],
) -> None:
    """Twilio reports the acknowledgement while the worker still waits for its SID."""
    gateway, runtime, standin = live
    assert gateway.http_address is not None
    webhooks = TwilioClient(gateway.http_address)
    host, port = gateway.http_address
    standin.report_early(
        "sent", "delivered", "queued", send_to=f"http://{host}:{port}/twilio/status"
    )
    assert webhooks.sms("Where is my order 5512?").status_code == 200
    [ack] = standin.wait_for(1)
    assert standin.early_answers == [204, 204, 204]
    row = wait_until(
        lambda: (r := _ack(runtime)) is not None and r.delivery_status == "delivered" and r,
        what="the early statuses applied to the acknowledgement",
    )
    assert (row.status, row.provider_id) == ("sent", ack.sid)
    assert _waiting(runtime) == 0
    # Once applied, a late one still does not move it back.
    assert webhooks.post("/twilio/status", status_fields(ack.sid, "sent")).status_code == 204
    assert (_ack(runtime) or row).delivery_status == "delivered"
    webhooks.http.close()


def test_a_waiting_status_is_applied_by_the_sweep(
    live: tuple[Gateway, Runtime, TwilioStandIn],
) -> None:
    """The status waits when neither side could apply it at once (say the database blinked
    after the worker's commit); the outbox sweep applies it."""
    gateway, runtime, _standin = live
    assert gateway.http_address is not None
    webhooks = TwilioClient(gateway.http_address)
    sid = new_sid()
    row_id = _sent_sms(runtime, new_sid())
    response = webhooks.post("/twilio/status", status_fields(sid, "undelivered", "30005"))
    assert response.status_code == 204
    assert _waiting(runtime) == 1
    with runtime.transaction() as s:  # the SID recorded behind the recorder's back
        s.execute(update(OutboxItem).where(OutboxItem.id == row_id).values(provider_id=sid))
    processing = gateway.processing
    assert isinstance(processing, Processing)
    sweep_stuck(runtime.sessions, to_broker(processing.broker), lease=300, max_attempts=5)
    assert _waiting(runtime) == 0
    row = _row(runtime, row_id)
    assert row.delivery_status == "undelivered"
    assert row.last_error == "Twilio delivery undelivered (error 30005)"
    webhooks.http.close()


def _ack(runtime: Runtime) -> OutboxItem | None:
    with runtime.sessions() as s:
        return s.scalars(select(OutboxItem).where(OutboxItem.template == "sms_ack")).first()
