"""Nothing written for an internal note reaches the customer, whatever an agent quotes, pastes
or bottom-posts. Through the real path: mail into the listener, notifications out through the
workers into a sink, and the agents' mail clients replying to what they received."""

from __future__ import annotations

import json
from email.message import EmailMessage

from click.testing import CliRunner

from admin_cli.main import cli
from tests.inbound.mails import new_request
from tests.live import Live, answer, html_of, mails_to, received, send, settled, text_of
from tests.safety.conftest import ANN, BOB, CUSTOMER

NOTE = (
    "The customer still owes us 4,000 EUR from last year and legal is involved; "
    "do not offer any refund or goodwill credit."
)
SECRET_WORDS = ("legal is involved", "4,000 EUR", "goodwill credit")


def open_ticket_with_note(live: Live, note: str = NOTE) -> tuple[EmailMessage, EmailMessage]:
    """Carol opens a ticket, Ann adds ``note``; Bob's new-ticket and internal-note mails."""
    send(
        live.gateway,
        new_request(
            sender=CUSTOMER,
            name="Carol Jones",
            subject="Printer prints blank pages",
            body="Since Monday my printer prints only blank pages.",
        ),
    )
    ann_new = received(live.sink, ANN, "New ticket")
    bob_new = received(live.sink, BOB, "New ticket")
    send(live.gateway, answer(ann_new, f"Ann Agent <{ANN}>", f"#note\n{note}"))
    bob_note = received(live.sink, BOB, "Internal note")
    assert note.split(";")[0] in " ".join(text_of(bob_note).split())
    return bob_new, bob_note


def customer_read(live: Live) -> str:
    """Everything the customer received, text and HTML, as one string."""
    settled(live)
    return "\n".join(text_of(m) + html_of(m) for m in mails_to(live.sink, CUSTOMER))


def ticket_json(env: dict[str, str], reference: str = "T-000001") -> dict[str, object]:
    result = CliRunner().invoke(cli, ["tickets", "show", reference, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def assert_held(live: Live, env: dict[str, str], answer_words: str) -> None:
    """Bob's reply reached nobody outside; it is kept as a note and Bob was told why."""
    read = customer_read(live)
    for words in SECRET_WORDS:
        assert words not in read
    assert answer_words not in read, "a reply that would leak is held whole"
    told = received(live.sink, BOB, "not sent to the customer")
    assert "internal note" in text_of(told)
    assert "Ann Agent" in text_of(told), "the agent learns whose note it quotes"
    messages = ticket_json(env)["messages"]
    assert isinstance(messages, list)
    [held] = [m for m in messages if answer_words in m["visible_text"]]
    assert held["internal"] is True
    assert "internal note" in held["held_reason"]


def test_bottom_posting_under_the_note_notification_is_held(
    live: Live, env: dict[str, str]
) -> None:
    _, bob_note = open_ticket_with_note(live)
    words = "Hello Carol, we are looking into your printer."
    send(live.gateway, answer(bob_note, f"Bob Builder <{BOB}>", words, below=True))
    assert_held(live, env, words)


def test_a_pasted_note_rewrapped_and_quoted_is_held(live: Live, env: dict[str, str]) -> None:
    bob_new, _ = open_ticket_with_note(live)
    # No marker, other line breaks, quote prefixes, doubled spaces, other case.
    pasted = (
        "Hello Carol,\n\nwe are looking into it. From our notes:\n\n"
        ">  The customer still owes us 4,000 EUR from\n"
        "> last year and LEGAL is involved;   do not offer\n"
        ">> any refund or goodwill credit.\n\nBest, Bob"
    )
    send(live.gateway, answer(bob_new, f"Bob Builder <{BOB}>", pasted))
    assert_held(live, env, "we are looking into it")


def test_a_note_inside_an_html_reply_is_held(live: Live, env: dict[str, str]) -> None:
    bob_new, _ = open_ticket_with_note(live)
    reply = answer(bob_new, f"Bob Builder <{BOB}>", "(the HTML body below replaces this)")
    reply.clear_content()
    reply.set_content(
        "<html><body><p>Hello Carol, here is where we are.</p>"
        "<p><b>The customer</b> still owes us 4,000&nbsp;EUR from last<br>year and "
        "<i>legal</i> is involved; do not offer any refund or goodwill&#32;credit.</p>"
        "</body></html>",
        subtype="html",
    )
    send(live.gateway, reply)
    assert_held(live, env, "here is where we are")


def test_a_part_of_a_long_note_is_held(live: Live, env: dict[str, str]) -> None:
    bob_new, _ = open_ticket_with_note(live)
    words = "Hello Carol, sorry: legal is involved; do not offer any refund for now."
    send(live.gateway, answer(bob_new, f"Bob Builder <{BOB}>", words))
    assert_held(live, env, "Hello Carol, sorry")


def test_ordinary_words_shared_with_notes_are_relayed(live: Live, env: dict[str, str]) -> None:
    """Short notes and everyday phrases are not leaks: the answer goes out."""
    bob_new, _ = open_ticket_with_note(live, "VIP, call back")
    ann_new = received(live.sink, ANN, "New ticket")
    send(live.gateway, answer(ann_new, f"Ann Agent <{ANN}>", f"#note\n{NOTE}"))
    words = (
        "Hello Carol, you are a VIP to us: we will call back today. "
        "We do not offer any refund for blank pages, but the customer service "
        "will replace the cartridge."
    )
    send(live.gateway, answer(bob_new, f"Bob Builder <{BOB}>", words))
    relayed = received(live.sink, CUSTOMER, "Printer prints blank pages", saying="call back today")
    assert "replace the cartridge" in text_of(relayed)
    settled(live)
    assert not [m for m in mails_to(live.sink, BOB) if "not sent" in str(m["Subject"])]
    messages = ticket_json(env)["messages"]
    assert isinstance(messages, list)
    assert [m["internal"] for m in messages if "call back today" in m["visible_text"]] == [False]
