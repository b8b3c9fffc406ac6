"""The outbox: one row per notification, from its write to its last outcome.

A row is written ``pending`` in the transaction of the change that causes it (``rows``);
the relay hands due rows to the broker through a function the caller passes, and the
sweep puts back rows whose worker was lost (``relay``); a worker claims a batch
(``claim``), and what became of each row is an outcome, written in groups: ``sent``,
``failed`` for good, ``pending`` again after a backoff, or ``dead`` when the attempts ran
out (``outcomes``, ``recorder``). ``failed`` and ``dead`` rows wait for ``ticketgw outbox
retry`` (``admin``). The states are ``schema.models.outbox.OUTBOX_STATUSES``.

The functions that write rows are importable from here.
"""

from gateway.outbox.rows import (
    AUTO_GENERATED,
    AUTO_REPLIED,
    LOOP_MARKER,
    Recipient,
    enqueue_email,
    enqueue_sms,
    new_message_id,
)

__all__ = [
    "AUTO_GENERATED",
    "AUTO_REPLIED",
    "LOOP_MARKER",
    "Recipient",
    "enqueue_email",
    "enqueue_sms",
    "new_message_id",
]
