"""Rows queued for the bulk insert (COPY on PostgreSQL) are cleaned like any other write."""

from __future__ import annotations

from sqlalchemy import select

from gateway.runtime import Runtime
from schema.bounded import fit
from schema.db import add_row
from schema.models import InboxItem, OutboxItem


def _row(key: str, context: dict[str, object]) -> dict[str, object]:
    return {
        "channel": "email",
        "recipient": "anna@example.org",
        "template": "ack",
        "context": context,
        "idempotency_key": key,
        "status": "pending",
    }


def test_outbox_contexts_come_back_without_nul_or_lone_surrogates(runtime: Runtime) -> None:
    dirty = {"vars": {"subject": "Rech\x00nung \udcfc", "tags": ["a\x00", ("b", 1)]}, 7: "x"}
    clean = {"vars": {"subject": "Rechnung 山田 😀", "n": 3, "none": None}, "back": "\\u0000"}
    with runtime.transaction() as session:
        add_row(session, OutboxItem, _row("dirty", dirty))
        add_row(session, OutboxItem, _row("clean", clean))
    with runtime.sessions() as session:
        stored = {row.idempotency_key: row.context for row in session.scalars(select(OutboxItem))}
    assert stored["dirty"] == {
        "vars": {"subject": "Rechnung \ufffd", "tags": ["a", ["b", 1]]},
        "7": "x",
    }
    assert stored["clean"] == clean


def test_fit_bounds_to_the_column_length() -> None:
    long = "x" * 400 + "@example.org"
    bounded = fit(InboxItem.sender, long)
    assert len(bounded) == InboxItem.__table__.c.sender.type.length
    assert bounded == fit(InboxItem.sender, long)  # the same value, the same bounded one
    assert fit(InboxItem.sender, "anna@example.org") == "anna@example.org"
