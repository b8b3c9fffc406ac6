"""Classification of inbound mail: which road a parsed mail takes.

Each rule is a small predicate ``check(mail, ctx) -> Verdict | None``; the first verdict
wins, so the order below is the policy (each module's docstring says why it sits where it
does). Loops and delivery reports first, because they must never be answered and the
bounce must keep its details (providers' notifications, RFC 3464 and ARF reports, then
robot senders' notices in any language); automatic replies next, list moderation
notices among them; list mail (a ticket, no automatic answer); then an agent's
out-of-office text that came without headers; then agents; everyone else is a customer.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import Message

from gateway.classify import (
    agent,
    agent_absence,
    auto_reply,
    bounce,
    customer,
    loop,
    mailing_list,
    moderation,
    provider_report,
    robot_report,
)
from gateway.classify.verdict import BounceReport, Context, Kind, Verdict
from gateway.classify.view import MailView

Rule = Callable[[MailView, Context], Verdict | None]

RULES: tuple[Rule, ...] = (
    loop.check,
    provider_report.check,
    bounce.check,
    robot_report.check,
    auto_reply.check,
    moderation.check,
    mailing_list.check,
    agent_absence.check,
    agent.check,
    customer.check,
)


def classify(mime: Message, ctx: Context) -> Verdict:
    """The verdict of the first rule that recognises ``mime``; never raises on bad MIME."""
    mail = MailView(mime)
    for rule in RULES:
        verdict = rule(mail, ctx)
        if verdict is not None:
            return verdict
    return customer.CUSTOMER


__all__ = ["RULES", "BounceReport", "Context", "Kind", "Rule", "Verdict", "classify"]
