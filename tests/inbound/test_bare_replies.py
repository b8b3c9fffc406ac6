"""Bare replies: a reply prefix, no In-Reply-To/References, threaded by subject only from a
participant of exactly one live ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from gateway import tickets
from gateway.audit import ADMIN
from gateway.pipeline.batch import ingest_batch
from gateway.runtime import Runtime
from schema.models import Ticket
from tests.conftest import Ingest
from tests.inbound.mails import new_request, reply

REASON = "subject match from participant"


def _bare(subject: str, sender: str = "bob@example.org") -> bytes:
    original = new_request()
    return reply(
        "outlook", original, "Any news?", sender=sender, with_references=False, subject=subject
    ).as_bytes()


def _tickets(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Ticket)) or 0


@pytest.mark.parametrize(
    "prefix", ["Re: ", "RE: ", "AW: ", "SV: ", "Antw: ", "回复：", "RE: AW: ", "Re[2]: ", "Odp: "]
)
def test_bare_reply_from_the_contact_threads_by_subject(
    runtime: Runtime, ingest: Ingest, prefix: str
) -> None:
    first = ingest(new_request(subject="Printer on fire"))
    outcome = ingest(_bare(f"{prefix}Printer on fire"))
    assert (outcome.decision, outcome.ticket) == ("reply", first.ticket), outcome.reason
    assert outcome.reason.startswith(REASON)
    assert _tickets(runtime) == 1


def test_no_reply_prefix_no_threading(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request(subject="Printer on fire"))
    outcome = ingest(_bare("Printer on fire"))
    assert outcome.decision == "new"
    assert outcome.ticket != first.ticket
    for subject in ("Fwd: Printer on fire", "Re: Printer on fire again", "Re: printer on fire"):
        assert ingest(_bare(subject)).decision == "new", subject


def test_a_non_participant_gets_a_new_ticket_and_is_told_why(
    runtime: Runtime, ingest: Ingest
) -> None:
    first = ingest(new_request(subject="Printer on fire"))
    outcome = ingest(_bare("RE: Printer on fire", sender="mallory@evil.example"))
    assert outcome.decision == "new"
    assert outcome.ticket != first.ticket
    assert f"subject matches {first.ticket} but mallory@evil.example is not a participant" in (
        outcome.reason
    )


def test_an_address_copied_on_the_ticket_is_a_participant(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request(subject="Printer on fire", Cc="Carol <carol@example.net>"))
    outcome = ingest(_bare("RE: Printer on fire", sender="carol@example.net"))
    assert (outcome.decision, outcome.ticket) == ("reply", first.ticket), outcome.reason


def test_two_matching_tickets_open_a_new_one_and_say_why(runtime: Runtime, ingest: Ingest) -> None:
    one = ingest(new_request(subject="Invoice"))
    two = ingest(new_request(subject="Invoice"))
    outcome = ingest(_bare("Re: Invoice"))
    assert outcome.decision == "new"
    assert outcome.ticket not in (one.ticket, two.ticket)
    assert f"bare reply matches {one.ticket}, {two.ticket}" in outcome.reason
    assert "ambiguous" in outcome.reason


def test_the_same_subject_of_somebody_else_does_not_make_it_ambiguous(
    runtime: Runtime, ingest: Ingest
) -> None:
    mine = ingest(new_request(subject="Invoice"))
    ingest(new_request(sender="dan@example.net", subject="Invoice"))
    outcome = ingest(_bare("Re: Invoice"))
    assert (outcome.decision, outcome.ticket) == ("reply", mine.ticket), outcome.reason


def test_a_reply_that_names_an_unknown_mail_is_not_bare(runtime: Runtime, ingest: Ingest) -> None:
    ingest(new_request(subject="Printer on fire"))
    mail = reply("gmail", new_request(), "Any news?", subject="Re: Printer on fire")
    assert ingest(mail).decision == "new", "In-Reply-To names a mail we never saw"


def test_resolved_within_the_window_reopens_outside_it_does_not(
    runtime: Runtime, ingest: Ingest
) -> None:
    first = ingest(new_request(subject="Printer on fire"))
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, first.ticket), "resolved", actor=ADMIN)
    again = ingest(_bare("Re: Printer on fire"))
    assert (again.decision, again.ticket) == ("reply", first.ticket), again.reason
    with runtime.transaction() as s:
        ticket = tickets.get_ticket(s, first.ticket)
        assert ticket.status == "open", "the bare reply reopened it"
        tickets.change_status(s, ticket, "resolved", actor=ADMIN)
        window = timedelta(days=runtime.settings.reopen_window_days)
        ticket.resolved_at = ticket.resolved_at - window - timedelta(hours=1)
    late = ingest(_bare("Re: Printer on fire"))
    assert late.decision == "new"
    assert late.ticket != first.ticket


def test_closed_tickets_take_no_bare_replies(runtime: Runtime, ingest: Ingest) -> None:
    first = ingest(new_request(subject="Printer on fire"))
    with runtime.transaction() as s:
        tickets.change_status(s, tickets.get_ticket(s, first.ticket), "closed", actor=ADMIN)
    outcome = ingest(_bare("Re: Printer on fire"))
    assert outcome.decision == "new"
    assert outcome.ticket != first.ticket
    with runtime.sessions() as s:
        assert tickets.get_ticket(s, outcome.ticket).follows_up_id is None


def test_a_batch_reads_subjects_and_participants_once(runtime: Runtime, ingest: Ingest) -> None:
    """One query per kind for the whole batch, none per mail; the batch's own tickets count."""
    ingest(new_request(subject="Printer on fire"))
    ingest(new_request(subject="Invoice", Cc="carol@example.net"))
    mails = [
        _bare("Re: Printer on fire"),
        _bare("RE: Invoice", sender="carol@example.net"),
        _bare("AW: Invoice"),
        new_request(sender="dan@example.net", subject="Router").as_bytes(),
        _bare("Re: Router", sender="dan@example.net"),
    ]
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", seen)
    try:
        with runtime.transaction() as s:
            outcomes = ingest_batch(s, runtime.settings, [(m, "test") for m in mails])
    finally:
        event.remove(runtime.engine, "before_cursor_execute", seen)
    assert [o.decision for o in outcomes] == ["reply", "reply", "reply", "new", "reply"]
    assert outcomes[4].ticket == outcomes[3].ticket, "a ticket of the same batch"
    by_subject = [q for q in statements if "tickets.subject IN" in q]
    recipients = [q for q in statements if "messages.recipients" in q and "SELECT" in q]
    assert (len(by_subject), len(recipients)) == (1, 1)
