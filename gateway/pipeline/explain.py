"""``mail explain``: what the pipeline would do with a mail, without changing anything.

Runs the email pipeline's read-only prefix (parse, prefetch, screen, breaker, classify,
thread: ``gateway.pipeline.table``) against the live database in a transaction that is
rolled back, and reports the decisions with their reasons: how an
admin answers "why did this mail open a new ticket?".
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.pipeline.table import EMAIL
from gateway.pipeline.work import Work
from gateway.unit_of_work import UnitOfWork


def explain(session: Session, settings: Settings, raw: bytes) -> dict[str, Any]:
    """The JSON-ready explanation of ``raw`` (keys documented in the README)."""
    work = Work(raw=raw, envelope_sender=None, envelope_recipients=())
    uow = UnitOfWork.of(session, settings)
    for step in EMAIL.read_only:
        [work] = step.apply([work], uow)
    assert work.parsed is not None
    assert work.verdict is not None
    assert work.thread is not None
    msg = work.parsed.message
    thread = work.thread
    return {
        "from": str(msg.sender),
        "to": [str(a) for a in msg.to],
        "cc": [str(a) for a in msg.cc],
        "subject": msg.subject,
        "date": msg.date.isoformat() if msg.date else None,
        "message_id": msg.message_id,
        "in_reply_to": list(msg.in_reply_to),
        "references": list(msg.references),
        "text": msg.text,
        "full_text": msg.full_text,
        "html": msg.html,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": _sha256(a.data),
            }
            for a in msg.attachments
        ],
        "defects": list(msg.defects),
        "classification": {"kind": work.verdict.kind, "reason": work.verdict.reason},
        "thread": {
            "decision": thread.decision,
            "ticket": thread.ticket.reference if thread.ticket else None,
            "follows_up": thread.follows_up.reference if thread.follows_up else None,
            "reason": thread.reason,
        },
        "author": {"kind": work.author or None, "reason": work.author_reason or None},
    }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
