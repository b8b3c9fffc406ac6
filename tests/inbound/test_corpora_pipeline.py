"""Every third-party mail through the whole pipeline: stored, classified, threaded or parked.

Nothing may crash or vanish: each mail ends ``done`` (on a ticket), ``ignored`` (automatic
mail or a loop, with the reason), or ``failed`` only when no author can be told at all.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from gateway.inbound.mailfiles import iter_mails
from gateway.pipeline.batch import ingest_batch
from gateway.runtime import Runtime
from schema.models import InboxItem, Ticket
from tests.corpora import require_corpus

SOURCES = [
    "zammad",
    "bestpractical-rt",
    "django-helpdesk",
    "mikel-mail",
    "mailgun-flanker",
    "mailgun-talon",
    "flufl.bounce",
    "sisimai/set-of-emails/maildir/bsd",
    "bounceparser",
    "discourse",
]
NO_AUTHOR = "no From address and no envelope sender"


@pytest.mark.parametrize("source", SOURCES)
def test_every_corpus_mail_is_kept(runtime: Runtime, source: str) -> None:
    root = require_corpus(*source.split("/"))
    mails = list(iter_mails([root]))
    assert mails, f"no mail found under {source}"
    with runtime.transaction() as session:
        outcomes = ingest_batch(session, runtime.settings, mails)
    statuses = Counter(o.status for o in outcomes)
    with runtime.sessions() as session:
        items = session.scalars(select(InboxItem)).all()
        failed = [i for i in items if i.status == "failed"]
        assert all(NO_AUTHOR in (i.reason or "") for i in failed), [i.reason for i in failed]
        assert all(i.status in {"done", "ignored", "failed"} for i in items)
        assert all(i.thread_reason for i in items if i.status != "failed")
        tickets = len(session.scalars(select(Ticket.id)).all())
    assert statuses["done"] + statuses["ignored"] + statuses["failed"] + statuses[
        "duplicate"
    ] == len(mails)
    if source in {"flufl.bounce", "sisimai/set-of-emails/maildir/bsd"}:
        # Bounce collections: almost none may open a ticket (a handful are forwarded
        # bounces or list notices, which the classification tests list one by one).
        assert tickets <= len(mails) * 0.05, statuses
