"""parse_mail on hand-made mails (one concern each) and on random or mutated bytes."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.mail.parse import parse_mail
from gateway.message import Address, InboundMessage
from tests.corpora import corpora_root


def mail(headers: str, body: bytes = b"Hello\n", *, sender: str = "From: a@example.com\n") -> bytes:
    return (sender + headers).encode() + b"\n" + body


def parse(raw: bytes) -> InboundMessage:
    return parse_mail(raw).message


# --- headers --------------------------------------------------------------------------


def test_sender_is_from_never_reply_to_and_addresses_are_lower_cased() -> None:
    message = parse(
        mail(
            "Reply-To: other@example.com\n"
            "To: =?utf-8?q?J=C3=BCrgen?= <Juergen@Example.COM>, undisclosed-recipients:;\n"
            'Cc: "Doe, Jane" <jane@example.org>, bob@example.org (Bob B)\n',
            sender='From: "Ann Agent" <Ann@Example.com>\n',
        )
    )
    assert message.sender == Address("ann@example.com", "Ann Agent")
    assert message.reply_to == (Address("other@example.com"),)
    assert message.to == (Address("juergen@example.com", "Jürgen"),)
    assert [a.address for a in message.cc] == ["jane@example.org", "bob@example.org"]
    assert message.cc[0].name == "Doe, Jane"


def test_a_mail_without_from_has_an_empty_sender_and_says_why() -> None:
    message = parse(b"To: x@example.com\nSubject: hi\n\nbody\n")
    assert message.sender == Address("")
    assert "no From address" in message.defects
    assert message.full_text == "body\n"


def test_an_address_header_the_stdlib_cannot_parse_is_read_leniently() -> None:
    # policy.default raises IndexError on this Cc inside header.addresses (Python 3.11).
    message = parse(mail("Cc: a@b.c (Comment), <weird@@x>, broken <\n"))
    assert Address("a@b.c") in message.cc
    assert any(d.startswith("malformed Cc header") for d in message.defects)


def test_subject_is_decoded_unfolded_and_collapsed() -> None:
    raw = mail("Subject: =?utf-8?B?R3LDvMOfZQ==?=\n  =?utf-8?Q?_aus_K=C3=B6ln?=\n\tand\t more\n")
    assert parse(raw).subject == "Grüße aus Köln and more"


def test_encoded_word_split_inside_a_multibyte_character_is_joined_first() -> None:
    # "ü" is C3 BC; a mailer split the word between the two bytes.
    assert parse(mail("Subject: =?utf-8?Q?Gr=C3?= =?utf-8?Q?=BC=C3=9Fe?=\n")).subject == "Grüße"


def test_message_ids_lose_their_brackets_and_keep_their_order() -> None:
    message = parse(
        mail(
            "Message-ID: <abc@host.example>\n"
            "In-Reply-To: Your message of Monday <prev@host.example>\n"
            "References: <one@h> <two@h>\n <three@h> junk\n"
            "Thread-Index: AdQ3Q2Vxyz==\n"
            "Date: Tue, 4 Jun 2024 10:00:00 +0200\n"
        )
    )
    assert message.message_id == "abc@host.example"
    assert message.in_reply_to == ("prev@host.example",)
    assert message.references == ("one@h", "two@h", "three@h")
    assert message.thread_index == "AdQ3Q2Vxyz=="
    assert message.date == datetime(2024, 6, 4, 10, tzinfo=timezone(timedelta(hours=2)))


def test_unreadable_date_is_none_and_minus_zero_zone_is_utc() -> None:
    assert parse(mail("Date: someday soon\n")).date is None
    assert parse(mail("Date: 4 Jun 2024 10:00:00 -0000\n")).date == datetime(
        2024, 6, 4, 10, tzinfo=UTC
    )


# --- charsets -------------------------------------------------------------------------


def test_wrongly_declared_charset_falls_back_without_replacement_characters() -> None:
    body = "Grüße, \u201equoted\u201c and \u20ac5".encode("cp1252")
    message = parse(mail("Content-Type: text/plain; charset=utf-8\n", body))
    assert message.full_text == "Grüße, \u201equoted\u201c and \u20ac5"
    assert any("charset 'utf-8' undecodable" in d for d in message.defects)


def test_utf8_body_with_a_pasted_latin1_byte_keeps_the_utf8() -> None:
    body = "Děkuji, příliš žluťoučký".encode() + b" caf\xe9"
    message = parse(mail("Content-Type: text/plain; charset=utf-8\n", body))
    assert message.full_text == "Děkuji, příliš žluťoučký café"


def test_undeclared_8bit_latin1_body() -> None:
    message = parse(mail("", "Café crème à la française\n".encode("latin-1")))
    assert message.full_text == "Café crème à la française\n"


def test_ks_c_5601_1987_means_cp949() -> None:
    text = "똠방각하 안녕하세요"  # "똠" exists only in cp949, not in EUC-KR
    subject = base64.b64encode(text.encode("cp949")).decode()
    raw = mail(
        f"Subject: =?ks_c_5601-1987?B?{subject}?=\n"
        "Content-Type: text/plain; charset=ks_c_5601-1987\n",
        text.encode("cp949"),
    )
    message = parse(raw)
    assert message.subject == text
    assert message.full_text == text
    assert not message.defects


def test_iso_2022_jp_body_and_subject() -> None:
    text = "日本語のメールです"
    subject = base64.b64encode(text.encode("iso2022_jp")).decode()
    raw = mail(
        f"Subject: =?ISO-2022-JP?B?{subject}?=\nContent-Type: text/plain; charset=ISO-2022-JP\n",
        text.encode("iso2022_jp"),
    )
    message = parse(raw)
    assert (message.subject, message.full_text) == (text, text)


@pytest.mark.parametrize(
    ("declared", "encoded", "text"),
    [
        ("unicode-1-1-utf-7", "Grüße".encode("utf-7"), "Grüße"),
        ("GB2312", "电子邮件 𠀀".encode("gb18030"), "电子邮件 𠀀"),  # beyond GB2312
        ("x-unknown", "naïve".encode(), "naïve"),
    ],
)
def test_charset_aliases(declared: str, encoded: bytes, text: str) -> None:
    message = parse(mail(f"Content-Type: text/plain; charset={declared}\n", encoded))
    assert message.full_text == text


# --- body and attachments --------------------------------------------------------------


def multipart(subtype: str, *parts: str, boundary: str = "XX") -> str:
    body = "".join(f"--{boundary}\n{p}\n" for p in parts) + f"--{boundary}--\n"
    return f"Content-Type: multipart/{subtype}; boundary={boundary}\n\n{body}"


def test_html_only_mail_gets_readable_text_and_sanitised_html() -> None:
    html = "<html><body><p>Hello <b>Jane</b>,</p><script>alert(1)</script><p>Bye</p></body></html>"
    message = parse(mail("Content-Type: text/html; charset=utf-8\n", html.encode()))
    assert message.full_text == "Hello Jane,\n\nBye"
    assert message.html is not None
    assert "<script>" not in message.html
    assert "Jane" in message.html
    assert message.text == "Hello Jane,\n\nBye"


def test_alternative_prefers_plain_text_and_keeps_html_with_inline_image() -> None:
    related = multipart(
        "related",
        'Content-Type: text/html; charset=utf-8\n\n<p>Hi <img src="cid:logo@x"></p>',
        "Content-Type: image/png\nContent-ID: <logo@x>\nContent-Transfer-Encoding: base64\n\n"
        + base64.b64encode(b"\x89PNG fake").decode(),
        boundary="RR",
    )
    raw = mail(
        "MIME-Version: 1.0\n"
        + multipart("alternative", "Content-Type: text/plain\n\nHi (plain)", related),
        b"",
    )
    message = parse(raw.replace(b"\n\n", b"\n", 1))
    assert message.full_text.strip() == "Hi (plain)"
    assert message.html is not None
    assert 'src="cid:logo@x"' in message.html
    (image,) = message.attachments
    assert (image.content_id, image.inline, image.data) == ("logo@x", True, b"\x89PNG fake")
    assert image.filename.endswith(".png")


def test_attachment_names_rfc2231_rfc2047_and_generated() -> None:
    raw = mail(
        multipart(
            "mixed",
            "Content-Type: text/plain\n\nsee attached",
            "Content-Type: application/pdf\n"
            "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\n\nPDF1",
            "Content-Type: application/octet-stream\n"
            "Content-Disposition: attachment;\n"
            " filename*0*=utf-8''Gr%C3%BC; filename*1*=%C3%9Fe.txt\n"
            "\nX",
            'Content-Type: image/jpeg; name="=?iso-8859-1?Q?B=E4r.jpg?="\n\nJPEG',
            "Content-Type: application/zip\n\nZIP",
        ),
        b"",
    )
    message = parse(raw.replace(b"\n\n", b"\n", 1))
    names = [a.filename for a in message.attachments]
    assert names == ["€ rates.pdf", "Grüße.txt", "Bär.jpg", "attachment-6.zip"]
    assert message.full_text == "see attached"


def test_forwarded_mail_is_one_eml_attachment_named_by_its_subject() -> None:
    inner = "From: c@example.com\nSubject: Invoice 42\n\nold text"
    raw = mail(
        multipart(
            "mixed", "Content-Type: text/plain\n\nFYI", f"Content-Type: message/rfc822\n\n{inner}"
        ),
        b"",
    )
    message = parse(raw.replace(b"\n\n", b"\n", 1))
    (eml,) = message.attachments
    assert eml.filename == "Invoice 42.eml"
    assert parse(eml.data).subject == "Invoice 42"
    assert parse(eml.data).full_text.strip() == "old text"
    assert message.full_text == "FYI"


def test_uuencoded_block_in_a_text_body_becomes_an_attachment() -> None:
    import binascii

    encoded = binascii.b2a_uu(b"report;1;2\n").decode()
    body = f"See the report.\n\nbegin 644 report.csv\n{encoded}`\nend\n\nThanks\n"
    message = parse(mail("", body.encode()))
    (report,) = message.attachments
    assert (report.filename, report.data) == ("report.csv", b"report;1;2\n")
    assert "begin 644" not in message.full_text
    assert "Thanks" in message.full_text


def test_winmail_dat_is_kept_as_an_attachment() -> None:
    raw = mail(
        multipart(
            "mixed",
            "Content-Type: text/plain\n\nbody",
            'Content-Type: application/ms-tnef; name="winmail.dat"\n'
            "Content-Transfer-Encoding: base64\n\n"
            + base64.b64encode(b"\x78\x9f\x3e\x22").decode(),
        ),
        b"",
    )
    (tnef,) = parse(raw.replace(b"\n\n", b"\n", 1)).attachments
    assert (tnef.filename, tnef.content_type, tnef.data) == (
        "winmail.dat",
        "application/ms-tnef",
        b"\x78\x9f\x3e\x22",
    )


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_part_bomb_is_cut_at_max_parts_quickly(newline: bytes) -> None:
    parts = b"".join(
        b'--B\nContent-Type: text/plain\nContent-Disposition: attachment; filename="f%d.txt"\n\n'
        b"x\n" % i
        for i in range(5000)
    )
    raw = b"From: a@b.c\nContent-Type: multipart/mixed; boundary=B\n\n" + parts + b"--B--\n"
    raw = raw.replace(b"\n", newline)
    started = time.process_time()
    message = parse(raw)
    assert time.process_time() - started < 5  # a hang guard; the defect below is the check
    assert [d for d in message.defects if "part limit" in d] == [
        "part limit 500 reached: 4500 parts not read"
    ]
    assert 490 <= len(message.attachments) <= 500


def test_twenty_mib_attachment_survives_intact() -> None:
    data = bytes(range(256)) * (20 * 4096)  # 20 MiB
    encoded = base64.encodebytes(data).decode()
    raw = mail(
        multipart(
            "mixed",
            "Content-Type: text/plain\n\nbig one",
            "Content-Type: application/octet-stream; name=big.bin\n"
            "Content-Transfer-Encoding: base64\n\n" + encoded,
        ),
        b"",
    )
    started = time.process_time()
    (big,) = parse(raw.replace(b"\n\n", b"\n", 1)).attachments
    assert time.process_time() - started < 5
    assert big.data == data
    assert big.filename == "big.bin"


def test_raw_8bit_gbk_headers_under_a_latin1_body() -> None:
    raw = (
        b'From: "' + "武兰成".encode("gbk") + b'" <g@example.com>\n'
        b"Subject: " + "转发：整体提升企业服务水平".encode("gbk") + b"\n"
        b"Content-Type: text/plain; charset=iso-8859-1\n\nHallo\n"
    )
    message = parse(raw)
    assert message.sender == Address("g@example.com", "武兰成")
    assert message.subject == "转发：整体提升企业服务水平"


def test_junk_line_above_the_headers_does_not_lose_the_sender() -> None:
    message = parse(b"---- Original email message ----\nFrom: a@example.com\nSubject: s\n\nbody\n")
    assert message.sender.address == "a@example.com"
    assert message.subject == "s"


# --- never raises ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_no_byte_string_makes_parse_mail_raise(raw: bytes) -> None:
    message = parse_mail(raw).message
    assert message.sender.address or "no From address" in message.defects


MIME_PIECES = st.sampled_from(
    [
        b"From: a@b.c\n",
        b"To: =?utf-8?q?x?= <@>,\n",
        b"Content-Type: multipart/mixed; boundary=Q\n",
        b"Content-Type: text/plain; charset=x-unknown\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Disposition: attachment; filename*0*=bad''%FF\n",
        b"Content-Type: message/rfc822\n",
        b"\n",
        b"--Q\n",
        b"--Q--\n",
        b"begin 644 x\n",
        b"=?ks_c_5601-1987?B?ww==?=\n",
        b"\xff\xfe\x00\x1b$B",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(MIME_PIECES, max_size=40).map(b"".join))
def test_no_mime_shaped_junk_makes_parse_mail_raise(raw: bytes) -> None:
    assert isinstance(parse_mail(raw).message.defects, tuple)


def _sample_mails() -> list[bytes]:
    root = corpora_root()
    if root is None:
        return [mail("Subject: x\n")]
    names = [
        "zammad/test/data/mail/mail010.box",
        "zammad/test/data/mail/mail078-content_transfer_encoding_x_uuencode.box",
        "bestpractical-rt/t/data/emails/notes-uuencoded",
        "mailgun-flanker/tests/fixtures/messages/torture-part.eml",
        "mikel-mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml",
    ]
    return [(root / n).read_bytes()[:20000] for n in names if (root / n).exists()] or [b""]


SAMPLES = _sample_mails()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=20),
    st.floats(0, 1),
)
def test_mutated_real_mails_never_make_parse_mail_raise(
    raw: bytes, flips: list[tuple[float, int]], keep: float
) -> None:
    data = bytearray(raw)
    for where, value in flips:
        if data:
            data[int(where * (len(data) - 1))] = value
    truncated = bytes(data[: int(len(data) * keep)])
    for candidate in (bytes(data), truncated):
        assert isinstance(parse_mail(candidate).message.defects, tuple)
