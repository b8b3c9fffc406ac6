"""The SMS channel's pure parts: keywords, the form, the delivery order, Twilio's vectors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from gateway.sms.delivery import RANK, earlier_than
from gateway.sms.form import parse_sms, subject_of
from gateway.sms.keywords import keyword
from gateway.sms.signature import is_signed, signed_url
from tests.corpora import require_corpus
from tests.sms.conftest import sms_fields


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        ("  Stop \n", "opt_out"),
        ("StopAll", "opt_out"),
        ("unsubscribe", "opt_out"),
        ("Cancel", "opt_out"),
        ("END", "opt_out"),
        ("quit ", "opt_out"),
        ("Revoke", "opt_out"),
        ("OPTOUT", "opt_out"),
        ("START", "opt_in"),
        ("yes", "opt_in"),
        (" Unstop", "opt_in"),
        ("help", "help"),
        ("\tHELP  ", "help"),
        ("Info", "help"),
    ],
)
def test_keywords_in_any_case_with_surrounding_spaces(text: str, action: str) -> None:
    found = keyword(text)
    assert found is not None
    assert found.action == action
    assert found.word == text.strip().upper()


@pytest.mark.parametrize(
    "text",
    ["please stop texting me", "STOP!", "S T O P", "helpful", "", "stopp", "yes please", "opt out"],
)
def test_a_sentence_is_not_a_keyword(text: str) -> None:
    assert keyword(text) is None


def test_the_form_becomes_a_channel_neutral_message() -> None:
    fields = sms_fields(
        "Photo of the damage\r\nsee attached",
        sender="+1 (415) 555-2671",
        sid="SM" + "1" * 32,
        media=[
            ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", "image/jpeg"),
            ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", "image/png"),
        ],
    )
    message = parse_sms(urlencode(fields).encode())
    assert message.channel == "sms"
    assert message.sender.address == "+14155552671"
    assert [a.address for a in message.to] == ["+14155550100"]
    assert message.text == "Photo of the damage\nsee attached"
    assert message.subject == "Photo of the damage"
    assert message.sms_sid == "SM" + "1" * 32
    assert [u.rsplit("/", 1)[1] for u in message.media_urls] == ["ME1", "ME2"]
    assert message.defects == ()


def test_a_broken_form_or_sender_is_a_defect_never_an_exception() -> None:
    assert parse_sms(b"\xff\xfe").defects[0] == "the webhook body is not UTF-8"
    message = parse_sms(urlencode(sms_fields("hi", sender="Vodafone")).encode())
    assert message.sender.address == ""
    assert "not a phone number" in message.defects[0] or "not a valid" in message.defects[0]
    assert parse_sms(b"Body=a%00b&From=%2B14155552671").text == "ab"


def test_subjects_are_the_first_line_cut_at_a_word() -> None:
    assert subject_of("\n  Hello there \nsecond", "+1", 0) == "Hello there"
    long = "word " * 30
    cut = subject_of(long, "+1", 0)
    assert cut.endswith("...")
    assert len(cut) <= 63
    assert "wor..." not in cut
    assert subject_of("", "+14155552671", 2) == "MMS from +14155552671"
    assert subject_of(" ", "+14155552671", 0) == "SMS from +14155552671"


def test_delivery_statuses_only_move_forward() -> None:
    assert earlier_than("queued") == ["accepted", "scheduled"]
    assert "delivered" not in earlier_than("undelivered")
    assert set(earlier_than("delivered")) == {"accepted", "scheduled", "queued", "sending", "sent"}
    assert all(RANK[s] < RANK["read"] for s in earlier_than("read"))


def _vectors() -> list[dict[str, Any]]:
    path = require_corpus("twilio", "request_validator_vectors.json")
    vectors = json.loads(path.read_text())["vectors"]
    # Our webhooks are forms: the JSON-body vectors (bodySHA256) are for other endpoints.
    return [v for v in vectors if not isinstance(v["params"], str)]


def test_twilios_published_vectors() -> None:
    vectors = _vectors()
    assert len(vectors) >= 12
    for v in vectors:
        params = v["params"]
        pairs = (
            [
                (k, x)
                for k, vals in params.items()
                for x in (vals if isinstance(vals, list) else [vals])
            ]
            if isinstance(params, dict)
            else [tuple(p) for p in params]
        )
        assert is_signed(v["auth_token"], v["url"], pairs, v["signature"]) is v["valid"], v["name"]


def test_the_signed_url_is_the_public_base_plus_path_and_query() -> None:
    assert (
        signed_url("https://x.example/gw/", "/twilio/sms?a=1")
        == "https://x.example/gw/twilio/sms?a=1"
    )
    assert not is_signed("", "https://x.example/", [], "sig")
    assert not is_signed("token", "https://x.example/", [], None)


def test_long_values_are_bounded_before_they_reach_a_column() -> None:
    huge_url = "https://api.twilio.com/" + "x" * 3000
    fields = sms_fields("hi", sid="SM" + "9" * 200, media=[(huge_url, "image/png")])
    message = parse_sms(urlencode(fields).encode())
    assert message.sms_sid is not None
    assert len(message.sms_sid) == 64
    assert message.media_urls == ()


def test_a_garbage_signature_header_is_just_wrong() -> None:
    pairs = [("Body", "hi")]
    assert not is_signed("token", "https://x.example/twilio/sms", pairs, "\udcff\u00e9 not base64")
