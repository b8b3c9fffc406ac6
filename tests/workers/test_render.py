"""Notification templates and their renderer: every template, strictness, escaping, lookup."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import agents, tickets
from gateway.errors import GatewayError
from gateway.mail.quotes import REPLY_MARKER, visible_text
from gateway.runtime import Runtime
from gateway.template_vars import VAR_KEYS, sample_vars, ticket_vars
from gateway.tickets import NewMessage
from tests.cli.conftest import make_ticket
from workers.render import (
    PACKAGED_DIR,
    TemplateError,
    locale_chain,
    render_email,
    render_sms,
    sources,
    template_names,
)

EMAIL = (
    "ack",
    "new_ticket",
    "customer_reply",
    "agent_reply",
    "internal_note",
    "resolved",
    "closed",
    "sla_warning",
    "sla_breach",
    "sla_breach2",
    "command_error",
    "reply_shortened",
    "reply_held",
)
SMS = ("sms_ack", "sms_help", "sms_agent_reply", "sms_resolved", "sms_sla_alert")
TO_AGENTS = (
    "new_ticket",
    "customer_reply",
    "internal_note",
    "sla_warning",
    "sla_breach",
    "sla_breach2",
    "reply_shortened",
)
COMMANDS = ("#note", "#close", "#resolve", "#pending", "#open", "#assign EMAIL|me")
PRIORITY_COMMAND = "#priority low|normal|high|urgent"
EVERY_LOCALE = [(t.name, locale) for t in template_names() for locale in (None, *t.locales)]


def _body_text(html: str) -> list[str]:
    """The visible lines of an HTML body, tags removed, in order."""
    body = html.split("<body", 1)[1].split(">", 1)[1]
    lines = re.sub(r"<[^>]+>", "\n", body).splitlines()
    return [line.strip() for line in lines if line.strip()]


def test_the_documented_templates_all_exist() -> None:
    found = {(t.name, t.channel): t for t in template_names()}
    assert set(found) == {(n, "email") for n in EMAIL} | {(n, "sms") for n in SMS}
    assert all(found[n, "email"].parts == ("subject", "txt", "html") for n in EMAIL)
    assert found["ack", "email"].locales == ("de",)
    assert found["resolved", "email"].locales == ("de",)
    assert not any(t.overridden for t in found.values())


@pytest.mark.parametrize(("name", "locale"), EVERY_LOCALE)
def test_every_template_renders_with_sample_vars(name: str, locale: str | None) -> None:
    values = sample_vars(name)
    assert tuple(values) == VAR_KEYS
    if name in SMS:
        text = render_sms(name, values, locale=locale)
        assert "T-000123" in text
        parts = [text]
    else:
        mail = render_email(name, values, locale=locale)
        assert mail.subject.startswith("[T-000123] ")
        assert "\n" not in mail.subject
        assert mail.text.splitlines()[0] == REPLY_MARKER
        assert _body_text(mail.html)[0] == REPLY_MARKER
        assert "T-000123" in mail.text
        assert "T-000123" in mail.html
        parts = [mail.subject, mail.text, mail.html]
    for part in parts:
        assert "None" not in part
        assert "{{" not in part
        assert "{%" not in part
    if locale == "de":
        assert "Ihre Anfrage" in parts[1]


@pytest.mark.parametrize("name", [*TO_AGENTS, "command_error"])
def test_agent_mails_show_the_message_and_every_command(name: str) -> None:
    values = sample_vars(name)
    mail = render_email(name, values)
    for part in (mail.text, mail.html):
        for command in (*COMMANDS, PRIORITY_COMMAND):
            assert command in part, (command, part)
    first_line = values["message"]["text"].splitlines()[2]
    assert first_line in mail.text
    assert first_line in mail.html


def test_customer_mails_say_how_to_go_on() -> None:
    ack = render_email("ack", sample_vars("ack"))
    assert "received" in ack.text
    assert "[T-000123]" in ack.text
    assert "reply to this email" in ack.text
    resolved = render_email("resolved", sample_vars("resolved"))
    assert "resolved" in resolved.subject.lower()
    assert "just reply to this email" in resolved.text
    assert "reply to this email" in resolved.html
    reply = render_email("agent_reply", sample_vars("agent_reply"))
    assert sample_vars("agent_reply")["message"]["text"].splitlines()[0] in reply.text


def test_a_reply_above_our_marker_is_cut_there() -> None:
    mail = render_email("ack", sample_vars("ack"))
    quoted = "\n".join(f"> {line}" for line in mail.text.splitlines())
    said = "On Mon, 23 Nov 2026 at 14:02, Support <support@example.com> wrote:"
    reply = f"Here is the screenshot you asked for.\n\n{said}\n{quoted}\n"
    assert visible_text(reply) == "Here is the screenshot you asked for."


def test_sms_stay_short_and_gsm7() -> None:
    for name in ("sms_ack", "sms_help"):
        text = render_sms(name, sample_vars(name))
        assert text.isascii(), text
        assert len(text) <= 160, (name, len(text))
    help_text = render_sms("sms_help", sample_vars("sms_help"))
    assert "HELP" in render_sms("sms_ack", sample_vars("sms_ack"))
    assert "STOP" in help_text
    # HELP can come before any ticket exists.
    no_ticket = render_sms("sms_help", {**sample_vars("sms_help"), "ticket": None})
    assert "T-" not in no_ticket
    assert "STOP" in no_ticket
    reply = render_sms("sms_agent_reply", sample_vars("sms_agent_reply"))
    assert reply.startswith("Hi Carol,")
    assert reply.endswith("- Ann Agent, ticket T-000123")


def test_a_missing_variable_raises_naming_it() -> None:
    values = sample_vars("ack")
    del values["ticket"]
    with pytest.raises(TemplateError, match=r"email/ack\.subject\.j2.*'ticket' is undefined"):
        render_email("ack", values)
    message = {k: v for k, v in sample_vars("agent_reply")["message"].items() if k != "text"}
    with pytest.raises(TemplateError, match=r"agent_reply\.txt\.j2, line \d+: .*'text'") as err:
        render_email("agent_reply", {**sample_vars("agent_reply"), "message": message})
    assert isinstance(err.value, GatewayError)
    assert err.value.exit_code == 2
    values = sample_vars("sms_help")
    del values["support_address"]
    with pytest.raises(TemplateError, match="'support_address' is undefined"):
        render_sms("sms_help", values)


def test_printing_a_null_value_is_an_error_not_none_in_the_mail() -> None:
    values = sample_vars("new_ticket")
    values["customer"] = {"name": "", "address": None}
    with pytest.raises(TemplateError, match=r"new_ticket.*null value"):
        render_email("new_ticket", values)


def test_html_escapes_what_customers_write_and_text_keeps_it() -> None:
    values = sample_vars("new_ticket")
    values["message"] = {**values["message"], "text": "Hi <script>alert(1)</script> & bye"}
    values["customer"] = {"name": 'Eve "<b>"', "address": "eve@example.org"}
    mail = render_email("new_ticket", values)
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bye" in mail.html
    assert "<b>" not in mail.html
    assert "Hi <script>alert(1)</script> & bye" in mail.text
    assert 'Eve "<b>"' in mail.text
    assert 'Eve "<b>"' in mail.subject


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_user_dir_overrides_one_part_and_the_rest_falls_back(tmp_path: Path) -> None:
    _write(tmp_path, "email/ack.txt.j2", "{{ reply_marker }}\nOurs: {{ ticket.reference }}\n")
    mail = render_email("ack", sample_vars("ack"), templates_dir=tmp_path)
    assert mail.text == f"{REPLY_MARKER}\nOurs: T-000123\n"
    packaged = render_email("ack", sample_vars("ack"))
    assert mail.subject == packaged.subject
    assert mail.html == packaged.html
    used = {s.part: s for s in sources("ack", channel="email", templates_dir=tmp_path)}
    assert used["txt"].overridden
    assert used["txt"].path == tmp_path / "email" / "ack.txt.j2"
    assert not used["html"].overridden
    assert used["html"].path == PACKAGED_DIR / "email" / "ack.html.j2"
    listed = {t.name: t for t in template_names(tmp_path)}
    assert listed["ack"].overridden
    assert not listed["resolved"].overridden
    # Without the user dir nothing changed: environments are per directory.
    assert render_email("ack", sample_vars("ack")).text == packaged.text


def test_user_dir_can_override_the_html_layout(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "email/_layout.html.j2",
        "<html><body><p>{{ reply_marker }}</p>ACME{% block content %}{% endblock %}</body></html>",
    )
    mail = render_email("resolved", sample_vars("resolved"), templates_dir=tmp_path)
    assert "ACME" in mail.html
    assert _body_text(mail.html)[0] == REPLY_MARKER


@pytest.mark.parametrize(
    ("locale", "german"),
    [
        ("de", True),
        ("de-AT", True),
        ("de_AT", True),
        ("DE", True),
        ("fr", False),
        (None, False),
        ("", False),
        ("../../etc", False),
    ],
)
def test_locale_falls_back_to_language_then_default(locale: str | None, german: bool) -> None:
    mail = render_email("resolved", sample_vars("resolved"), locale=locale)
    assert ("Gelöst" in mail.subject) is german
    assert ("antworten Sie einfach" in mail.text) is german
    assert ('lang="de"' in mail.html) is german
    # No German variant of closed: German readers get the default rather than an error.
    assert render_email("closed", sample_vars("closed"), locale=locale).subject.startswith(
        "[T-000123] Closed"
    )


def test_the_most_specific_locale_wins(tmp_path: Path) -> None:
    _write(tmp_path, "email/ack.de-at.subject.j2", "[{{ ticket.reference }}] Servus")
    values = sample_vars("ack")
    assert render_email("ack", values, locale="de-AT", templates_dir=tmp_path).subject == (
        "[T-000123] Servus"
    )
    assert "eingegangen" in render_email("ack", values, locale="de", templates_dir=tmp_path).subject
    at = {
        s.part: s for s in sources("ack", channel="email", locale="de-AT", templates_dir=tmp_path)
    }
    assert (at["subject"].locale, at["txt"].locale) == ("de-at", "de")
    assert {t.name: t for t in template_names(tmp_path)}["ack"].locales == ("de", "de-at")


def test_locale_chain() -> None:
    assert locale_chain("de-AT") == ("de-at", "de")
    assert locale_chain("zh_Hant_TW.UTF-8") == ("zh-hant-tw", "zh-hant", "zh")
    assert locale_chain(None) == ()
    assert locale_chain("x/../y") == ()


def test_subject_is_one_line(tmp_path: Path) -> None:
    _write(tmp_path, "email/closed.subject.j2", "[{{ ticket.reference }}]\n  Closed\n\n now\n")
    mail = render_email("closed", sample_vars("closed"), templates_dir=tmp_path)
    assert mail.subject == "[T-000123] Closed now"


def test_unknown_template_and_syntax_errors(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="unknown email template 'nope'"):
        render_email("nope", sample_vars("ack"))
    with pytest.raises(TemplateError, match="unknown sms template 'ack'"):
        render_sms("ack", sample_vars("ack"))
    with pytest.raises(TemplateError, match="unknown email template"):
        render_email("../sms/sms_ack", sample_vars("ack"))
    _write(tmp_path, "email/closed.txt.j2", "{{ reply_marker }}\n\n{% if ticket %}never closed\n")
    with pytest.raises(TemplateError, match=r"email/closed\.txt\.j2, line \d+: .*endif"):
        render_email("closed", sample_vars("closed"), templates_dir=tmp_path)


def test_compiled_templates_are_reused(tmp_path: Path) -> None:
    _write(tmp_path, "sms/sms_ack.txt.j2", "first {{ ticket.reference }}")
    assert render_sms("sms_ack", sample_vars("sms_ack"), templates_dir=tmp_path) == "first T-000123"
    # Hot path: no file is read (or stat-ed) again per message once compiled.
    _write(tmp_path, "sms/sms_ack.txt.j2", "second {{ ticket.reference }}")
    assert render_sms("sms_ack", sample_vars("sms_ack"), templates_dir=tmp_path) == "first T-000123"


def _ticket_with_thread(runtime: Runtime) -> tuple[str, int]:
    ref = make_ticket(runtime, "carol@example.org", "Printer on fire", text="It <smokes>.")
    with runtime.transaction() as session:
        ann = agents.add_agent(session, "ann@example.com", "Ann Agent")
        agents.add_agent(session, "bob@example.com", "Bob Agent")
        ticket = tickets.get_ticket(session, ref)
        tickets.assign(session, ticket, "bob@example.com", actor="admin")
        reply = tickets.add_message(
            session,
            ticket,
            NewMessage(author_kind="agent", channel="email", visible_text="On it.", agent=ann),
        )
        return ref, reply.id


def test_ticket_vars_from_the_database(runtime: Runtime) -> None:
    ref, reply_id = _ticket_with_thread(runtime)
    with runtime.transaction() as session:
        ticket = tickets.get_ticket(session, ref)
        reply = next(m for m in tickets.messages_of(session, ticket) if m.id == reply_id)
        first = tickets.messages_of(session, ticket)[0]
        by_ann = ticket_vars(
            session,
            ticket,
            recipient_name="Carol",
            recipient_address="carol@example.org",
            default_address="help@example.net",
            message=reply,
        )
        about_first = ticket_vars(
            session,
            ticket,
            recipient_name="Bob Agent",
            recipient_address="bob@example.com",
            default_address="help@example.net",
            message=first,
            status=("open", "resolved"),
            error=("#bogus", "unknown command"),
        )
    assert tuple(by_ann) == VAR_KEYS
    assert by_ann["ticket"] == {
        "reference": ref,
        "subject": "Printer on fire",
        "status": "open",
        "priority": "normal",
        "queue": "default",
    }
    assert by_ann["customer"] == {"name": "", "address": "carol@example.org"}
    assert by_ann["recipient"] == {"name": "Carol", "address": "carol@example.org"}
    assert by_ann["agent"] == {"name": "Ann Agent", "email": "ann@example.com"}  # the writer
    assert by_ann["message"] == {
        "id": reply_id,
        "text": "On it.",
        "size": 6,
        "truncated": False,
        "author": "Ann Agent",
        "address": "ann@example.com",
        "participant": True,
        "channel": "email",
    }
    assert (by_ann["status"], by_ann["sla"], by_ann["error"]) == (None, None, None)
    assert by_ann["support_address"] == "support@example.com"  # the queue's own address
    assert by_ann["reply_marker"] == REPLY_MARKER
    assert about_first["agent"] == {"name": "Bob Agent", "email": "bob@example.com"}  # assignee
    assert about_first["message"]["author"] == "carol@example.org"
    assert about_first["status"] == {"old": "open", "new": "resolved"}
    assert about_first["error"] == {"command": "#bogus", "reason": "unknown command"}
    mail = render_email("customer_reply", about_first)
    assert "It <smokes>." in mail.text
    assert "It &lt;smokes&gt;." in mail.html
    assert mail.subject == f"[{ref}] New reply from carol@example.org: Printer on fire"


def test_ticket_vars_for_sla_and_sms(runtime: Runtime) -> None:
    ref = make_ticket(runtime, "+14155552671", "SMS from +14155552671", text="Parcel late")
    with runtime.transaction() as session:
        ticket = tickets.get_ticket(session, ref)
        values = ticket_vars(
            session,
            ticket,
            recipient_name="",
            recipient_address="+14155552671",
            default_address="help@example.net",
            sla=("resolution", "breach", datetime(2026, 11, 23, 15, 0, tzinfo=UTC), 100),
            sla_elapsed="16h",
        )
    assert values["customer"] == {"name": "", "address": "+14155552671"}
    assert values["agent"] is None
    assert values["sla"] == {
        "kind": "resolution",
        "level": "breach",
        "due_at": "2026-11-23T15:00:00+00:00",
        "percent": 100,
        "elapsed": "16h",
    }
    mail = render_email("sla_breach", values)
    assert "resolution deadline" in mail.text
    assert "(16h of business time used, 100% of the target)" in mail.text
    assert "2026-11-23 15:00 UTC" in mail.subject
    assert "nobody yet" in mail.text
    assert ref in render_sms("sms_ack", values)
