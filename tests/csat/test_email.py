"""CSAT by email: the resolved mail asks once; a digit reply rates without reopening."""

from __future__ import annotations

from gateway.queues import update_queue
from gateway.runtime import Runtime
from tests.cli.conftest import Ticketgw, assert_ok
from tests.conftest import Ingest
from tests.csat.support import answer, notes, resolve, rows, ticket
from tests.inbound.mails import new_request
from workers.render import render_email


def test_the_resolved_mail_asks_and_a_digit_reply_rates_without_reopening(
    runtime: Runtime, ingest: Ingest
) -> None:
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    [resolved] = rows(runtime, "resolved")
    # No PUBLIC_URL: the question, without links.
    assert resolved.context["vars"]["csat"] == {"links": None}
    text = render_email("resolved", resolved.context["vars"]).text
    assert "Reply to this email with a single digit from 1 (poor)" in text
    assert "/csat/" not in text
    assert ticket(runtime, ref).csat_asked_at is not None

    outcome = ingest(answer(resolved, "4"))
    assert (outcome.ticket, outcome.new_ticket) == (ref, False)
    rated = ticket(runtime, ref)
    assert (rated.status, rated.satisfaction_rating, rated.rated_via) == ("resolved", 4, "email")
    assert rated.satisfaction_comment is None
    assert notes(runtime, ref) == ["The customer rated this ticket 4/5 (by email)."]
    # A rating is not a customer reply: no agent hears of it as one.
    assert rows(runtime, "customer_reply") == []


def test_a_comment_after_the_digit_becomes_an_internal_note(
    runtime: Runtime, ingest: Ingest, gw: Ticketgw
) -> None:
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    [resolved] = rows(runtime, "resolved")
    ingest(answer(resolved, "2 - it works now, but it took three days"))
    rated = ticket(runtime, ref)
    assert (rated.status, rated.satisfaction_rating) == ("resolved", 2)
    assert rated.satisfaction_comment == "it works now, but it took three days"
    assert notes(runtime, ref) == [
        "The customer rated this ticket 2/5 (by email).\n\nit works now, but it took three days"
    ]
    shown = assert_ok(gw("tickets", "show", ref)).stdout
    assert "satisfaction 2/5: it works now, but it took three days" in shown
    record = assert_ok(gw("tickets", "show", ref, "--json")).json()
    assert record["satisfaction"] == {
        "rating": 2,
        "comment": "it works now, but it took three days",
    }
    assert [a["action"] for a in record["audit"]].count("rating") == 1


def test_the_first_answer_wins_and_a_second_does_not_reopen(
    runtime: Runtime, ingest: Ingest
) -> None:
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    [resolved] = rows(runtime, "resolved")
    ingest(answer(resolved, "5"))
    ingest(answer(resolved, "1"))
    rated = ticket(runtime, ref)
    assert (rated.status, rated.satisfaction_rating) == ("resolved", 5)
    assert notes(runtime, ref)[-1] == (
        "The customer answered the survey again (1/5 by email); the first answer (5/5) stands."
    )


def test_words_reopen_as_before(runtime: Runtime, ingest: Ingest) -> None:
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    [resolved] = rows(runtime, "resolved")
    ingest(answer(resolved, "It still cannot print."))
    reopened = ticket(runtime, ref)
    assert (reopened.status, reopened.satisfaction_rating) == ("open", None)


def test_one_survey_per_ticket_a_second_resolution_does_not_ask(
    runtime: Runtime, ingest: Ingest
) -> None:
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    first_asked = ticket(runtime, ref).csat_asked_at
    resolve(runtime, ref, "open")
    resolve(runtime, ref)
    first, second = rows(runtime, "resolved")
    assert first.context["vars"]["csat"] is not None
    assert second.context["vars"]["csat"] is None
    assert ticket(runtime, ref).csat_asked_at == first_asked
    # The open survey still takes an answer after the second resolution.
    ingest(answer(second, "3"))
    assert ticket(runtime, ref).satisfaction_rating == 3


def test_a_queue_with_the_survey_off_does_not_ask_and_a_digit_reopens(
    runtime: Runtime, ingest: Ingest
) -> None:
    with runtime.transaction() as s:
        update_queue(s, "default", csat=False)
    ref = ingest(new_request()).ticket
    assert ref is not None
    resolve(runtime, ref)
    [resolved] = rows(runtime, "resolved")
    assert resolved.context["vars"]["csat"] is None
    assert ticket(runtime, ref).csat_asked_at is None
    ingest(answer(resolved, "5"))
    reopened = ticket(runtime, ref)
    assert (reopened.status, reopened.satisfaction_rating) == ("open", None)
