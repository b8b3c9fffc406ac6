"""Which replies are ratings: a digit 1-5 standing alone at the start, then a comment."""

from __future__ import annotations

import pytest

from gateway.csat.answer import Answer, read_answer
from gateway.csat.links import make_token, rating_links, read_token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", Answer(4, None)),
        ("  5  \n", Answer(5, None)),
        ("5/5", Answer(5, None)),
        ("3 - fixed, but it took a week", Answer(3, "fixed, but it took a week")),
        ("2. Nobody called back.", Answer(2, "Nobody called back.")),
        ("1!", Answer(1, None)),
        ("5 thanks!", Answer(5, "thanks!")),
        ("4\n\nThanks, Ann was great.\nBob", Answer(4, "Thanks, Ann was great.\nBob")),
    ],
)
def test_a_digit_alone_is_a_rating_and_what_follows_its_comment(
    text: str, expected: Answer
) -> None:
    assert read_answer(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "0", "6", "10", "4.5", "3rd try and it fails", "It still fails", "5,5", "two", "5am"],
)
def test_anything_else_is_not_a_rating(text: str) -> None:
    assert read_answer(text) is None


def test_links_carry_a_token_only_our_key_signs() -> None:
    token = make_token("key", 42)
    assert read_token("key", token) == 42
    assert read_token("other-key", token) is None
    assert read_token("key", token.replace("t42", "t43")) is None
    assert read_token("key", "t42") is None
    links = rating_links("https://help.example.com/gw/", "key", 42)
    assert [link["url"] for link in links] == [
        f"https://help.example.com/gw/csat/{token}/{n}" for n in range(1, 6)
    ]
