"""Is this mail really from the agent it claims to be? Only then may it act as one.

An agent's reply acts with agent rights only when all hold: the reply token in the
recipient address is bound to that agent; the From address is that agent's own; the agent
is active; and, when the upstream MTA stamped an ``Authentication-Results`` header with an
authserv-id we trust, DMARC or DKIM passed there. Anything short of that is handled as a
customer or third-party message.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import Message

import authres

from gateway.tokens import ReplyToken
from schema.models import Agent


def verify_agent(
    agent: Agent | None,
    sender: str,
    token: ReplyToken | None,
    mime: Message,
    trusted_authserv_ids: Sequence[str],
) -> tuple[bool, str]:
    if agent is None:
        return False, "sender is not an agent"
    if not agent.active:
        return False, f"agent {agent.email} is disabled"
    if token is None or token.kind != "agent":
        return False, "no agent reply token in the recipient address"
    if token.participant_id != agent.id:
        return False, "the reply token was issued to another participant"
    if sender != agent.email:
        return False, "From is not the address of the agent the token was issued to"
    verdict = _authentication_results(mime, trusted_authserv_ids)
    if verdict is not None and verdict != "pass":
        return False, f"Authentication-Results from a trusted host: {verdict}"
    return True, "reply token bound to this agent and From matches"


def _authentication_results(mime: Message, trusted: Sequence[str]) -> str | None:
    """``"pass"`` or a failure summary from the topmost trusted header; ``None`` if none.

    Only the topmost header from a trusted authserv-id counts: anything below it, or from
    another id, may have been written by the sender.
    """
    if not trusted:
        return None
    for value in mime.get_all("Authentication-Results") or []:
        try:
            header = authres.AuthenticationResultsHeader.parse(
                f"Authentication-Results: {' '.join(str(value).split())}"
            )
        except Exception:  # authres raises several undocumented types on junk
            continue
        if header.authserv_id not in trusted:
            continue
        results = {r.method: r.result for r in header.results}
        if results.get("dmarc") == "pass" or results.get("dkim") == "pass":
            return "pass"
        summary = ", ".join(f"{m}={r}" for m, r in sorted(results.items())) or "no results"
        return f"neither DMARC nor DKIM passed ({summary})"
    return None
