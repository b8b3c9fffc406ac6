"""Rule 1: our own mail coming back to us.

It runs first because it is the cheapest and the most final: whatever else such a mail
looks like, answering it would start a loop. It only reads the top-level headers. A real
bounce of our notification is written by the remote MTA: its own headers are not ours,
our marker and Message-ID sit inside the attached copy, so it falls through to the bounce
rule, which can tell us which address failed. A mail whose *own* headers carry our marker
or Message-ID is our mail, relayed back by a forwarding alias or a misconfigured MX, even
if it quotes bounce wording (our notifications may quote anything), so it is a loop.
"""

from __future__ import annotations

import re

from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView, strip_angles

# The form of the Message-IDs we write (gateway.outbox.rows.new_message_id): a ticket reference
# and 16 hex digits. The domain alone is not enough: in an internal helpdesk the
# customers' own mail servers use the very domain of the support address.
_OURS = re.compile(r"^T-\d+\.[0-9a-f]{16}@", re.IGNORECASE)


def check(mail: MailView, ctx: Context) -> Verdict | None:
    marker = ctx.loop_marker.lower()
    if marker and any(v.lower() == marker for v in mail.all("x-loop")):
        return Verdict("loop", f"X-Loop: {ctx.loop_marker}")
    domain = ctx.message_id_domain.lower()
    if domain:
        message_id = strip_angles(mail.header("message-id"))
        # exact domain only: "<1234@not_matching.ours>" is somebody else's id
        if _OURS.match(message_id) and message_id.rpartition("@")[2].lower() == domain:
            return Verdict("loop", f"Message-ID is one of ours ({message_id})")
    if ctx.sender and ctx.sender in ctx.support_addresses:
        return Verdict("loop", f"From is our support address {ctx.sender}")
    return None
