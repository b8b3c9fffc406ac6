"""Rule 4: a delivery-failure notice from a robot address, in any language.

Many providers send their own notice instead of an RFC 3464 report, from ``noreply@`` or
``postmaster@``, in the account's language, without ``Auto-Submitted`` and with a sender
other than ``<>``: the bounce rule, which reads English wording only, let one in fifty of
them through as customer mail. Here the address is the strong signal (``robots.py``) and
the wording only has to say "not delivered" in one of the languages in
``failure_words.py`` (or the English the bounce rule knows). Runs right after the bounce
rule, so a proper report keeps its details.
"""

from __future__ import annotations

from gateway.classify import bounce, bounce_text, challenge
from gateway.classify.failure_words import NOT_DELIVERED
from gateway.classify.robots import robot_localpart
from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView

_HEAD = 4000  # the notice says what happened in its first lines


def check(mail: MailView, ctx: Context) -> Verdict | None:
    robot = robot_localpart(ctx.sender)
    if robot is None or mail.content_type == "multipart/report":
        return None  # a report the bounce rule declined (a read receipt) is not a failure
    subject = mail.subject
    found = NOT_DELIVERED.search(subject) or bounce_text.SUBJECT.search(subject)
    if found is None:
        head = bounce_text.report_text(mail.text)[:_HEAD]
        found = NOT_DELIVERED.search(head) or bounce_text.MARKER.search(head)
    if found is None or challenge.is_challenge(mail, ctx.sender):
        return None
    return bounce.prose_report(mail, ctx, f"robot sender {robot}@, wording {found.group(0)!r}")
