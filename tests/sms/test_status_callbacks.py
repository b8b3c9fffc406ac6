"""Delivery status callbacks: signed, recorded by SID, never moving backwards."""

from __future__ import annotations

from gateway.runtime import Runtime
from schema.models import OutboxItem
from tests.sms.conftest import CUSTOMER, TwilioClient, new_sid, status_fields


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
