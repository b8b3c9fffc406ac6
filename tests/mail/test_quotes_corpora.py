"""visible_text() against other projects' reply-trimming fixtures.

Where we differ from an upstream expectation on purpose, the case is listed with its reason:
we keep sign-offs ("Regards,\\nJef", "-Abhishek Kona") because guessing a free-form signature
loses what people wrote, and we drop device footers and ``-- `` signatures that talon's
quotation step leaves for a later step.
"""

from __future__ import annotations

import email
import quopri
import re
import time
from email import policy
from pathlib import Path
from typing import Any

import html2text
import pytest

from gateway.mail.quotes import visible_text
from tests.corpora import (
    corpus_exists,
    corpus_file,
    corpus_params,
    load_expected,
    missing_corpus_params,
    require_corpus,
)

pytestmark = pytest.mark.corpus

TRIMMER = "discourse-email_reply_trimmer"

# Upstream trimmed these differently; each xfail is strict, so a fix shows up as XPASS.
TRIMMER_DIFFERENCES = {
    "embedded_email_1.txt": "we keep text after a quote (it may be an inline answer); "
    "upstream calls it a signature",
}


def _raw(path: Path) -> str:
    # Bytes, not read_text(): universal newlines would hide the CRLF fixtures.
    return path.read_bytes().decode("utf-8")


def _trimmer_params() -> list[Any]:
    params = []
    for param in corpus_params(TRIMMER, pattern="test/emails/*.txt"):
        path = param.values[0]
        reason = TRIMMER_DIFFERENCES.get(path.name) if path is not None else None
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(path, id=param.id, marks=marks))
    return params


@pytest.mark.parametrize("path", _trimmer_params())
def test_trimmer_exact(path: Path | None) -> None:
    path = corpus_file(path, TRIMMER)
    trimmed = path.parents[1] / "trimmed" / path.name
    assert visible_text(_raw(path)).strip() == _raw(trimmed).strip()


@pytest.mark.parametrize("path", corpus_params(TRIMMER, pattern="test/emails/*.txt"))
def test_trimmer_loses_no_content(path: Path | None) -> None:
    path = corpus_file(path, TRIMMER)
    ours = visible_text(_raw(path))
    expected = _raw(path.parents[1] / "trimmed" / path.name).replace("\r\n", "\n")
    lost = [line for line in expected.splitlines() if line.strip() and line.strip() not in ours]
    assert lost == []


def test_trimmer_covers_all_43_fixtures() -> None:
    emails = sorted(require_corpus(TRIMMER, "test", "emails").glob("*.txt"))
    assert len(emails) == 43
    assert set(TRIMMER_DIFFERENCES) <= {path.name for path in emails}


# ---- github/email_reply_parser and its Python port -----------------------------------------

# Hidden upstream fragments that we keep on purpose: a one-line sign-off under the reply.
SIGN_OFFS = ("-Abhishek Kona",)


def _reply_parser_cases(source: str) -> list[Any]:
    if not corpus_exists(source):
        return missing_corpus_params(source, 2)
    root = require_corpus(source)
    cases = load_expected(source)
    return [
        pytest.param(root / "test" / "emails" / name, spec, id=f"{source}/{name}")
        for name, spec in cases.items()
        if not name.startswith("_") and "max_seconds" not in spec
    ]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _shows(needle: str, ours: str) -> bool:
    """Whether ``needle`` is visible; a bare "--" counts only as a line of its own."""
    if needle.strip("-_ ") == "":
        return needle.strip() in _lines(ours)
    return needle in ours


def _check_reply_parser(path: Path, spec: dict[str, Any]) -> None:
    ours = visible_text(_raw(path))
    our_lines = _lines(ours)
    if "parse_reply_equals" in spec:
        assert ours == spec["parse_reply_equals"].strip()
    if "reply_strip_equals" in spec:
        assert ours == spec["reply_strip_equals"]
    for needle in spec.get("reply_contains", []):
        assert needle in ours
    if "parse_reply_not_contains" in spec:
        assert spec["parse_reply_not_contains"] not in ours
    hidden = spec.get("hidden", [])
    for index, fragment in spec.get("fragment_equals", {}).items():
        text = fragment.strip()
        if int(index) < len(hidden) and hidden[int(index)]:
            assert text in SIGN_OFFS or text not in ours
        else:  # upstream trims trailing spaces inside fragments; compare line by line
            assert all(line in our_lines for line in _lines(text))
    for index, needle in spec.get("fragment_contains", {}).items():
        # Fragment 0 is the reply; later ones are quotes or signatures (hidden upstream).
        assert _shows(needle, ours) == (index == "0")
    for index, needles in spec.get("fragment_contains_all", {}).items():
        for needle in needles:
            assert _shows(needle, ours) == (index == "0")
    for index, pattern in spec.get("fragment_matches", {}).items():
        found = re.search(pattern, ours, re.M) is not None
        if index == "0":
            assert found
        elif not any(re.search(pattern, sign_off, re.M) for sign_off in SIGN_OFFS):
            assert not found


@pytest.mark.parametrize(("path", "spec"), _reply_parser_cases("github-email_reply_parser"))
def test_github_reply_parser(path: Path | None, spec: dict[str, Any]) -> None:
    _check_reply_parser(corpus_file(path, "github-email_reply_parser"), spec)


@pytest.mark.parametrize(("path", "spec"), _reply_parser_cases("zapier-email-reply-parser"))
def test_zapier_reply_parser(path: Path | None, spec: dict[str, Any]) -> None:
    _check_reply_parser(corpus_file(path, "zapier-email-reply-parser"), spec)


# ---- alfonsrv/mail-parser-reply ------------------------------------------------------------

ALFONSRV = "alfonsrv-mail-parser-reply"
# Upstream filed these under "signatures" of the newest reply; they are sign-offs we keep.
ALFONSRV_SIGN_OFFS = {"-Abhishek Kona", "Med venlig hilsen\nAnders Andersen", "Z powazaniem,\nJan"}
ALFONSRV_SIGN_OFFS |= {"/John", "Regards,"}
# Upstream's newest body keeps the rule above Outlook's header; we drop it with the header.
ALFONSRV_BODY = {"email_2_1.txt": "Outlook with a reply"}


def _alfonsrv_cases() -> list[Any]:
    if not corpus_exists(ALFONSRV):
        return missing_corpus_params(ALFONSRV, 2)
    root = require_corpus(ALFONSRV)
    return [
        pytest.param(root / "test" / "emails" / name, spec, id=name)
        for name, spec in load_expected(ALFONSRV).items()
        if not name.startswith("_") and spec.get("checks")
    ]


@pytest.mark.parametrize(("path", "spec"), _alfonsrv_cases())
def test_alfonsrv_newest_reply(path: Path | None, spec: dict[str, Any]) -> None:
    raw = corpus_file(path, ALFONSRV).read_bytes()
    # One fixture is the undecoded quoted-printable body; the gateway decodes before this.
    text = quopri.decodestring(raw).decode("utf-8") if b"=E2=80" in raw else raw.decode("utf-8")
    ours = visible_text(text)
    for index, field, op, value in spec["checks"]:
        if value.strip() in ALFONSRV_SIGN_OFFS or (index == 0 and field == "content"):
            continue  # a sign-off we keep; "content" is upstream's raw, untrimmed text
        if index > 0:
            # Older replies, their headers and signatures are history: none of it shows.
            # (Short greetings such as "Hej" open the new reply too, so they prove nothing.)
            if op in ("contains", "equals", "startswith") and len(value.strip()) > 5:
                assert value.strip() not in ours
        elif field == "signatures":
            if op in ("contains", "equals"):
                assert value.strip() not in ours
        elif op == "contains":
            assert value in ours
        elif op == "not_contains":
            assert value not in ours
        elif op == "equals":
            assert ours == ALFONSRV_BODY.get(path.name, value.strip())


# ---- mailgun/talon ---------------------------------------------------------------------------

TALON = "mailgun-talon"
# talon strips the quotation only; we also drop device footers and "-- " signatures.
TALON_REPLIES = {"iphone.eml": "Hello", "sparrow.eml": "Hello"}


def _first_plain_part(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return str(part.get_content())
    raise AssertionError(f"{path.name} has no text/plain part")


@pytest.mark.parametrize(
    "path", corpus_params(TALON, pattern="tests/fixtures/standard_replies/*.eml")
)
def test_talon_standard_replies(path: Path | None) -> None:
    path = corpus_file(path, TALON)
    expected = load_expected(TALON)["standard_replies"][path.name].strip()
    assert visible_text(_first_plain_part(path)) == TALON_REPLIES.get(path.name, expected)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("path", corpus_params(TALON, pattern="tests/fixtures/html_replies/*.html"))
def test_talon_html_replies(path: Path | None) -> None:
    html = corpus_file(path, TALON).read_text(encoding="utf-8")
    ours = visible_text(html2text.html2text(html), html)
    assert _squash(ours) == "Hi.Iamfine.Thanks,Alex"


@pytest.mark.parametrize("path", corpus_params(TALON, pattern="tests/fixtures/html_replies/*.html"))
def test_talon_html_replies_from_html2text_alone(path: Path | None) -> None:
    """An HTML-only mail whose HTML we lost still comes out right from its html2text."""
    html = corpus_file(path, TALON).read_text(encoding="utf-8")
    assert _squash(visible_text(html2text.html2text(html))) == "Hi.Iamfine.Thanks,Alex"


def test_talon_outlook_for_mac_source_section() -> None:
    html = require_corpus(TALON, "tests", "fixtures", "OLK_SRC_BODY_SECTION.html").read_text()
    assert visible_text(html2text.html2text(html), html) == "Reply"


@pytest.mark.parametrize("with_html", [False, True])
def test_talon_yahoo_reply_sharing_a_block(with_html: bool) -> None:
    path = require_corpus(TALON, "tests", "fixtures", "reply-quotations-share-block.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = {
        part.get_content_type(): str(part.get_content())
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }
    ours = visible_text(parts["text/plain"], parts["text/html"] if with_html else None)
    assert "Let me know what you think will work best" in ours
    assert "From" not in ours
    assert "Booking Inquiry" not in ours


@pytest.mark.parametrize(
    "path", corpus_params(TALON, pattern="tests/fixtures/signature/emails/stripped/*_body")
)
def test_talon_signature_samples_keep_the_body(path: Path | None) -> None:
    """Lines such as "-- FOUR $100 gift certificates" are content, not a "-- " delimiter."""
    path = corpus_file(path, TALON)
    name = path.name.removesuffix("_body")
    signature = load_expected(TALON)["signature_stripped"][name]["signature"].strip()
    body = path.read_text(encoding="utf-8")
    ours = visible_text(body)
    kept = body.strip().removesuffix(signature).strip()
    assert [line for line in kept.splitlines() if line.strip() and line not in ours] == []


# ---- catastrophic-regex traps ----------------------------------------------------------------

TRAPS = [
    ("github-email_reply_parser", "test/emails/email_long_quote.txt"),
    ("github-email_reply_parser", "test/emails/pathological.txt"),
    ("zapier-email-reply-parser", "test/emails/pathological.txt"),
    ("alfonsrv-mail-parser-reply", "test/emails/pathological.txt"),
    (TRIMMER, "test/matchers/does_not_contain_embedded_email.txt"),
]


@pytest.mark.parametrize(("source", "name"), TRAPS, ids=[f"{s}/{n}" for s, n in TRAPS])
def test_traps_finish_quickly(source: str, name: str) -> None:
    text = _raw(require_corpus(source, *name.split("/")))
    started = time.process_time()
    ours = visible_text(text)
    assert time.process_time() - started < 1.0  # a guard against backtracking, not a benchmark
    assert ours
    assert len(ours) < len(text) or source == TRIMMER
