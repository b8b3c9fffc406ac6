"""Rule 7: mail distributed by a list server. It opens a ticket but is never answered.

``List-Id`` (RFC 2919) is the strong signal; ``Precedence: list`` and the list servers'
own headers (Mailman, ezmlm/Google Groups ``Mailing-List``, ``List-Post``) count too.
``List-Unsubscribe`` alone does: whoever offers an unsubscribe link sent the mail in bulk,
and an automatic answer would go to a robot or to a whole list.
"""

from __future__ import annotations

from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView

_LIST_HEADERS = (
    "list-id",
    "mailing-list",
    "list-post",
    "x-mailman-version",
    "x-mlserver",
    "list-unsubscribe",
)


def check(mail: MailView, ctx: Context) -> Verdict | None:
    for name in _LIST_HEADERS:
        if mail.has(name):
            value = mail.header(name)
            return Verdict("list", f"{'-'.join(w.title() for w in name.split('-'))}: {value}"[:100])
    precedence = mail.header("precedence").lower()
    if precedence in ("list", "bulk", "junk"):  # bulk/junk get here only with a List-Id
        return Verdict("list", f"Precedence: {precedence}")
    return None
