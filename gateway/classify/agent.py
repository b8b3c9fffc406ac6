"""Rule 9: mail from an active agent's address.

Only the From address is compared here; whether the agent may act (the signed reply token
bound to that agent and address) is verified by threading, so a forged From gains nothing
but the label. It runs after the automatic-mail rules: an agent's own out-of-office reply
is an auto-reply, never an agent answer on the ticket.
"""

from __future__ import annotations

from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView


def check(mail: MailView, ctx: Context) -> Verdict | None:
    if ctx.sender and ctx.sender in ctx.agent_addresses:
        return Verdict("agent", "sender is an active agent")
    return None
