"""CSAT by SMS, and by a signed link through the live HTTP listener."""

from __future__ import annotations

import requests
from sqlalchemy import select

from admin_cli.app import Gateway
from gateway.runtime import Runtime
from schema.models import AuditEvent, Message
from tests.cli.conftest import make_ticket
from tests.csat.support import notes, resolve, rows, ticket
from tests.sms.conftest import CUSTOMER, PUBLIC_URL, receive_sms
from workers.render import render_email, render_sms


def _ticket_of_sms(runtime: Runtime, text: str) -> str:
    receive_sms(runtime, text)
    [ack] = rows(runtime, "sms_ack")
    return str(ack.context["vars"]["ticket"]["reference"])


def test_the_resolved_sms_asks_and_a_digit_answer_rates_without_reopening(
    sms_runtime: Runtime,
) -> None:
    ref = _ticket_of_sms(sms_runtime, "My router blinks red")
    resolve(sms_runtime, ref)
    [question] = rows(sms_runtime, "sms_resolved")
    assert question.recipient == CUSTOMER
    assert "Reply with one digit, 1 (poor) to 5 (great)" in render_sms(
        "sms_resolved", question.context["vars"]
    )
    receive_sms(sms_runtime, "5 thanks, all green now")
    rated = ticket(sms_runtime, ref)
    assert (rated.status, rated.satisfaction_rating, rated.rated_via) == ("resolved", 5, "sms")
    assert notes(sms_runtime, ref) == [
        "The customer rated this ticket 5/5 (by sms).\n\nthanks, all green now"
    ]


def test_a_digit_answers_the_conversation_in_progress_not_an_older_survey(
    sms_runtime: Runtime,
) -> None:
    old = _ticket_of_sms(sms_runtime, "My router blinks red")
    resolve(sms_runtime, old)
    receive_sms(sms_runtime, "And now the TV box is dead")  # reopens the same ticket
    assert ticket(sms_runtime, old).status == "open"
    receive_sms(sms_runtime, "2")  # "how many boxes?" - an answer, not a rating
    assert ticket(sms_runtime, old).satisfaction_rating is None


def test_a_digit_goes_to_a_newer_ticket_in_progress_not_the_survey(
    sms_runtime: Runtime,
) -> None:
    rated = _ticket_of_sms(sms_runtime, "My router blinks red")
    resolve(sms_runtime, rated)
    newer = make_ticket(sms_runtime, CUSTOMER, "TV box", text="The TV box is dead too")
    receive_sms(sms_runtime, "2")  # "how many boxes?" asked on the newer ticket
    assert ticket(sms_runtime, rated).satisfaction_rating is None
    assert ticket(sms_runtime, rated).status == "resolved"
    with sms_runtime.sessions() as s:
        texts = s.scalars(
            select(Message.visible_text)
            .where(Message.ticket_id == ticket(sms_runtime, newer).id)
            .order_by(Message.id)
        )
        assert list(texts) == ["The TV box is dead too", "2"]


def _path(url: str) -> str:
    assert url.startswith(PUBLIC_URL)
    return url[len(PUBLIC_URL) :]


def test_a_signed_link_records_once_and_a_forged_one_is_refused(
    sms_gateway: Gateway, sms_runtime: Runtime
) -> None:
    assert sms_gateway.http_address is not None
    base = "http://{}:{}".format(*sms_gateway.http_address)
    ref = make_ticket(sms_runtime, "carol@example.org")
    resolve(sms_runtime, ref)
    [resolved] = rows(sms_runtime, "resolved")
    links = resolved.context["vars"]["csat"]["links"]
    assert [link["rating"] for link in links] == [1, 2, 3, 4, 5]
    assert links[3]["url"] in render_email("resolved", resolved.context["vars"]).text

    forged = _path(links[3]["url"]).replace(ref.removeprefix("T-").lstrip("0"), "999", 1)
    response = requests.get(base + forged, timeout=10)
    assert response.status_code == 403
    assert response.text == "403 forbidden: this rating link is not valid\n"
    path = _path(links[3]["url"])
    mac_at = path.index(".") + 1
    flipped = "0" if path[mac_at] != "0" else "1"
    tampered = path[:mac_at] + flipped + path[mac_at + 1 :]
    assert requests.get(base + tampered, timeout=10).status_code == 403
    assert requests.head(base + _path(links[3]["url"]), timeout=10).status_code == 405
    assert ticket(sms_runtime, ref).satisfaction_rating is None

    first = requests.get(base + _path(links[3]["url"]), timeout=10)
    assert first.status_code == 200
    assert "text/html" in first.headers["Content-Type"]
    assert f"Your rating of ticket {ref}: <strong>4 of 5</strong>." in first.text
    again = requests.get(base + _path(links[3]["url"]), timeout=10)
    assert again.status_code == 200
    assert "<strong>4 of 5</strong>" in again.text
    other = requests.get(base + _path(links[0]["url"]), timeout=10)
    assert "<strong>4 of 5</strong>" in other.text
    assert "already recorded" in other.text
    assert requests.get(base + _path(links[0]["url"])[:-1] + "7", timeout=10).status_code == 404

    rated = ticket(sms_runtime, ref)
    assert (rated.status, rated.satisfaction_rating, rated.rated_via) == ("resolved", 4, "link")
    with sms_runtime.sessions() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action == "rating"))
        assert list(actions) == ["rating"]
    assert notes(sms_runtime, ref) == ["The customer rated this ticket 4/5 (by link)."]
