"""``ticketgw templates``: listing and previewing notification templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import agents, tickets
from gateway.mail.quotes import REPLY_MARKER
from gateway.runtime import Runtime
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok, make_ticket


def _sections(stdout: str) -> tuple[str, str, str]:
    """(headers, text part, HTML part) of an email preview."""
    headers, _, rest = stdout.partition("\n----- text/plain -----\n")
    text, _, html = rest.partition("----- text/html -----\n")
    return headers, text, html


def test_list_table_and_json(ticketgw: Ticketgw) -> None:
    table = assert_ok(ticketgw("templates", "list")).stdout
    for name in ("ack", "new_ticket", "sla_breach", "command_error", "sms_help"):
        assert name in table
    assert "default, de" in table
    listed = {t["name"]: t for t in assert_ok(ticketgw("templates", "list", "--json")).json()}
    assert len(listed) == 18
    assert listed["ack"] == {
        "name": "ack",
        "channel": "email",
        "parts": ["subject", "txt", "html"],
        "locales": ["de"],
        "overridden": False,
    }
    assert listed["sms_ack"]["parts"] == ["txt"]
    assert listed["sms_ack"]["channel"] == "sms"


def test_list_shows_what_the_user_dir_overrides(
    ticketgw: Ticketgw, env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "mine" / "email").mkdir(parents=True)
    (tmp_path / "mine" / "email" / "closed.fr.txt.j2").write_text("{{ reply_marker }}\nFermé\n")
    env["TICKETGW_TEMPLATES_DIR"] = str(tmp_path / "mine")
    listed = {t["name"]: t for t in assert_ok(ticketgw("templates", "list", "--json")).json()}
    assert listed["closed"]["overridden"] is True
    assert listed["closed"]["locales"] == ["fr"]
    assert listed["ack"]["overridden"] is False
    run = assert_ok(ticketgw("templates", "render", "closed", "--locale", "fr-CA"))
    headers, text, _html = _sections(run.stdout)
    assert "Template-txt: email/closed.fr.txt.j2 (fr, user dir" in headers
    assert "Template-subject: email/closed.subject.j2 (default, packaged" in headers
    assert text == f"{REPLY_MARKER}\nFermé\n"


def test_render_email_with_sample_vars(ticketgw: Ticketgw) -> None:
    run = assert_ok(ticketgw("templates", "render", "ack"))
    headers, text, html = _sections(run.stdout)
    assert headers.splitlines()[:3] == [
        "To: Carol Jones <carol@example.org>",
        "Subject: [T-000123] We received your request: Cannot log in to my account",
        "Locale: (default)",
    ]
    assert "Template-html: email/ack.html.j2 (default, packaged" in headers
    assert text.startswith(REPLY_MARKER + "\n")
    assert "opened\nticket T-000123" in text
    assert html.startswith("<!DOCTYPE html>")
    assert REPLY_MARKER in html


def test_render_german_falls_back_from_region(ticketgw: Ticketgw) -> None:
    run = assert_ok(ticketgw("templates", "render", "resolved", "--locale", "de-AT"))
    headers, text, html = _sections(run.stdout)
    assert "Subject: [T-000123] Gelöst: Cannot log in to my account" in headers
    assert "Template-txt: email/resolved.de.txt.j2 (de, packaged" in headers
    assert "antworten Sie einfach" in text
    assert 'lang="de"' in html


def test_render_sms_shows_length_and_segments(ticketgw: Ticketgw) -> None:
    run = assert_ok(ticketgw("templates", "render", "sms_ack"))
    lines = run.stdout.splitlines()
    assert lines[0] == "To: Carol Jones <+14155552671>"
    body = lines[-1]
    assert f"Length: {len(body)} GSM-7 characters, 1 segment(s)" in run.stdout
    assert "T-000123" in body


@pytest.fixture
def ticket_ref(runtime: Runtime) -> str:
    ref = make_ticket(runtime, "dora@example.org", "Refund <please>", text="Where is my <refund>?")
    with runtime.transaction() as session:
        agents.add_agent(session, "ann@example.com", "Ann Agent")
        ticket = tickets.get_ticket(session, ref)
        ticket.contact.name = "Dora Diaz"
        ticket.contact.language = "de"
        tickets.assign(session, ticket, "ann@example.com", actor="admin")
        tickets.change_priority(session, ticket, "high", actor="admin")
    return ref


def test_render_with_a_ticket_from_the_database(gw: Ticketgw, ticket_ref: str) -> None:
    run = assert_ok(gw("templates", "render", "new_ticket", "--ticket", ticket_ref))
    headers, text, html = _sections(run.stdout)
    assert headers.splitlines()[:2] == [
        "To: Ann Agent <ann@example.com>",
        f"Subject: [{ticket_ref}] New ticket from Dora Diaz: Refund <please>",
    ]
    assert "T-000123" not in run.stdout
    assert "Where is my <refund>?" in text
    assert "Customer: Dora Diaz <dora@example.org>" in text
    assert "Queue:    default · priority high · status new" in text
    assert "Assignee: Ann Agent <ann@example.com>" in text
    assert "Where is my &lt;refund&gt;?" in html
    assert "<refund>" not in html


def test_render_with_a_ticket_uses_the_customers_language(gw: Ticketgw, ticket_ref: str) -> None:
    run = assert_ok(gw("templates", "render", "ack", "--ticket", ticket_ref))
    headers, text, _html = _sections(run.stdout)
    assert headers.splitlines()[0] == "To: Dora Diaz <dora@example.org>"
    assert f"Subject: [{ticket_ref}] Ihre Anfrage ist bei uns eingegangen: Refund <please>" in (
        headers
    )
    assert "Locale: de" in headers
    assert "Guten Tag Dora Diaz," in text
    english = assert_ok(gw("templates", "render", "ack", "--ticket", ticket_ref, "--locale", "en"))
    assert f"Subject: [{ticket_ref}] We received your request" in english.stdout


def test_render_errors_are_one_line(gw: Ticketgw, ticket_ref: str) -> None:
    assert_fails(gw("templates", "render", "nope"), 2, "unknown template 'nope'")
    assert_fails(gw("templates", "render", "ack", "--ticket", "T-009999"), 2, "no ticket T-009999")
    assert_fails(gw("templates", "render", "ack", "--ticket", "x1"), 2, "not a ticket reference")


def test_render_reports_a_broken_user_template(
    ticketgw: Ticketgw, env: dict[str, str], tmp_path: Path
) -> None:
    # Two directories: a process compiles each template once, so edits need a new dir here.
    for folder, text, message in (
        ("a", "{{ reply_marker }}\nHi {{ customer.nickname }}\n", "line 2: 'dict object'"),
        ("b", "{% if %}", "line 1: "),
    ):
        (tmp_path / folder / "email").mkdir(parents=True)
        (tmp_path / folder / "email" / "ack.txt.j2").write_text(text)
        env["TICKETGW_TEMPLATES_DIR"] = str(tmp_path / folder)
        assert_fails(ticketgw("templates", "render", "ack"), 2, f"email/ack.txt.j2, {message}")
