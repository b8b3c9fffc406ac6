"""Rule 10, the fallback: a person wrote to us."""

from __future__ import annotations

from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView

CUSTOMER = Verdict("customer", "no automatic-mail signal")


def check(mail: MailView, ctx: Context) -> Verdict | None:
    return CUSTOMER
