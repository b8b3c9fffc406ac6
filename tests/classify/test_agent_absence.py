"""An agent's out-of-office text without headers is automatic; only its opening counts, and
only for agents."""

from __future__ import annotations

import pytest

from tests.classify.support import AGENT, SUPPORT, classify_bytes


def mail(sender: str, body: str, subject: str = "Re: [T-000001] New ticket") -> bytes:
    head = f"From: {sender}\nTo: {SUPPORT}\nSubject: {subject}\nMessage-ID: <x@example.org>\n"
    return (head + "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()


ABSENT = [
    "I am out of the office until 14 December.",
    "Hello,\n\nthank you for your e-mail. I'm currently on vacation and back on Monday.",
    "Dear sender, I will be away from the office until Monday.",
    "This is an automatic reply: your mail was received.",
    "Sehr geehrte Damen und Herren,\nvielen Dank für Ihre Nachricht. Ich bin bis 3.1. im Urlaub.",
    "Bonjour, je suis absente jusqu'au 4 janvier.",
    "Gracias por su mensaje. Estoy fuera de la oficina hasta el lunes.",
    "Ik ben tot maandag afwezig.",
    "Grazie per il messaggio. Sono fuori ufficio fino a lunedì.",
]
ANSWERS = [
    "Hello Carol, I reset your password. I am out of the office tomorrow, Bob takes over.",
    "We are on it: the office printer is out of toner, a new cartridge is on its way.",
    "Hi Carol,\n\nthanks for the log. The fix is out; please update and try again.",
]


@pytest.mark.parametrize("body", ABSENT)
def test_an_agents_absence_opening_is_automatic(body: str) -> None:
    verdict = classify_bytes(mail(AGENT, body))
    assert verdict.kind == "auto_reply"
    assert "out-of-office" in verdict.reason


@pytest.mark.parametrize("body", ANSWERS)
def test_an_agents_answer_is_an_answer(body: str) -> None:
    assert classify_bytes(mail(AGENT, body)).kind == "agent"


@pytest.mark.parametrize("body", ABSENT[:3])
def test_a_customer_saying_they_are_away_is_a_customer(body: str) -> None:
    assert classify_bytes(mail("carol@example.org", body)).kind == "customer"
