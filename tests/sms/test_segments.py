"""SMS length as carriers count it, and cutting a text to fit."""

from __future__ import annotations

import pytest

from gateway.sms.segments import measure, plain_gsm, shorten


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table costs two septets
        ("€" * 81, "GSM-7", 162, 2),
        # An escape pair is never split: the euro sign opens the second part, and the
        # 306 septets need three parts instead of two.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 306, 3),
        ("Çà èéìòù ÄÖÑÜäöñü £¥§¿¡ ΔΩ", "GSM-7", 26, 1),
        ("naïve", "UCS-2", 5, 1),  # ï is not in the GSM alphabet
        ("é" * 70 + "ê", "UCS-2", 71, 2),  # ê is not GSM: the whole text is UCS-2
        ("я" * 70, "UCS-2", 70, 1),
        ("я" * 134, "UCS-2", 134, 2),
        ("я" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # surrogate pairs: two units each
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 134, 3),  # a pair is never split either
        ("“quoted”", "UCS-2", 8, 1),  # typographic quotes are not GSM
    ],
)
def test_measure_counts_as_carriers_do(text: str, encoding: str, units: int, segments: int) -> None:
    length = measure(text)
    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


def test_shorten_cuts_at_the_end_of_a_word() -> None:
    text = "Please restart the router and wait two minutes before trying again."
    cut = shorten(text, lambda t: len(t) <= 30)
    assert cut == "Please restart the router and"
    assert shorten(text, lambda t: len(t) <= len(text)) == text
    assert shorten("word  \n  next", lambda t: len(t) <= 8) == "word"


def test_shorten_cuts_one_long_word_by_characters() -> None:
    url = "https://example.com/" + "x" * 300
    assert shorten(url, lambda t: len(t) <= 50) == url[:50]
    assert shorten(url, lambda t: False) == ""


def test_shorten_never_splits_a_surrogate_pair() -> None:
    text = "😀" * 100
    cut = shorten(text, lambda t: measure(t).units <= 67)
    assert cut == "😀" * 33
    assert measure(cut).units == 66


def test_typography_from_mail_clients_is_made_plain_gsm() -> None:
    typed = "We\u2019ve sent it \u2013 \u201ctracking\u201d follows\u2026\u00a0Thanks"
    assert measure(typed).encoding == "UCS-2"
    plain = plain_gsm(typed)
    assert plain == 'We\'ve sent it - "tracking" follows... Thanks'
    assert measure(plain).encoding == "GSM-7"


def test_text_that_stays_ucs2_is_left_as_written() -> None:
    for text in ("Спасибо \u2013 \u201cготово\u201d", "Done \u2019 \U0001f389", "plain"):
        assert plain_gsm(text) == text
