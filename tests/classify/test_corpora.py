"""Classification against the third-party corpora's own expectations.

Expectations we deliberately do not meet, or cannot, are listed with a one-line reason and
run as ``xfail(strict=True)``: when one starts passing, the list must shrink.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.classify.support import classify_bytes, classify_file
from tests.corpora import corpus_file, corpus_params, load_expected, require_corpus

pytestmark = pytest.mark.corpus

SISIMAI = "sisimai"
SIS_DIR = "set-of-emails/maildir"

# sisimai files whose verdict differs from Sisimai's on purpose or out of reach
SISIMAI_KIND_XFAIL = {
    "lhost-fml-02.eml": "fml list-server error notice: classified list (ticket, never answered)",
    "lhost-fml-03.eml": "fml list-server loop alert: classified list (ticket, never answered)",
    "lhost-sendmail-14.eml": "a person forwarded the bounce (Fwd:): a customer asking for help",
}
# bounces recognised, but the failed addresses are not all found in the prose
SISIMAI_RECIPIENT_XFAIL = {
    "lhost-dragonfly-04.eml": "address only in the transcript below the copy marker",
    "lhost-imailserver-02.eml": "address only in the quoted original",
    "lhost-postfix-49.eml": "Japanese OCN wording, address only in the returned copy",
    "lhost-postfix-50.eml": "Japanese OCN wording, address only in the returned copy",
    "lhost-postfix-64.eml": "delivery-status part without per-recipient fields",
    "lhost-sendmail-54.eml": "address only in the SMTP transcript",
    "lhost-verizon-01.eml": "address only in the quoted original",
    "lhost-x1-02.eml": "address only in the quoted original",
    "lhost-x5-01.eml": "address appears after the copy marker",
    "arf-19.eml": "ARF report without Original-Rcpt-To",
    "arf-20.eml": "ARF report without Original-Rcpt-To",
    "arf-26.eml": "Apple Mail unsubscribe: auto-replied, no report",
}


def _sis_expected() -> dict[str, Any]:
    return load_expected(SISIMAI)


def _sis_key(path: Path) -> str:
    return f"{SIS_DIR}/bsd/{path.name}"


def _expected_kinds(records: list[list[Any]]) -> set[str]:
    reasons = {r[2] for r in records}
    if reasons == {"vacation"}:
        return {"auto_reply"}
    if reasons == {"feedback"}:
        return {"bounce", "auto_reply"}  # a complaint; Apple's unsubscribe is auto-replied
    return {"bounce"}


@pytest.mark.parametrize("path", corpus_params(SISIMAI, pattern=f"{SIS_DIR}/bsd/*.eml"))
def test_sisimai_bsd_kind(path: Path | None, request: pytest.FixtureRequest) -> None:
    path = corpus_file(path, SISIMAI)
    if path.name in SISIMAI_KIND_XFAIL:
        request.applymarker(pytest.mark.xfail(strict=True, reason=SISIMAI_KIND_XFAIL[path.name]))
    expected = _sis_expected()[_sis_key(path)]
    verdict = classify_file(path)
    assert verdict.kind in _expected_kinds(expected["records"]), verdict


@pytest.mark.parametrize("path", corpus_params(SISIMAI, pattern=f"{SIS_DIR}/bsd/*.eml"))
def test_sisimai_bsd_recipients(path: Path | None, request: pytest.FixtureRequest) -> None:
    """Each failed-recipient record should have a recipient (Sisimai gives no addresses)."""
    path = corpus_file(path, SISIMAI)
    records = _sis_expected()[_sis_key(path)]["records"]
    delivered = {r[2] for r in records} == {"delivered"}  # names nobody as failed
    if _expected_kinds(records) == {"auto_reply"} or delivered or path.name in SISIMAI_KIND_XFAIL:
        pytest.skip("not a failure report")
    if path.name in SISIMAI_RECIPIENT_XFAIL:
        reason = SISIMAI_RECIPIENT_XFAIL[path.name]
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    verdict = classify_file(path)
    assert verdict.bounce is not None
    assert len(verdict.bounce.recipients) >= min(len(records), 1)


@pytest.mark.parametrize(
    "path",
    corpus_params(SISIMAI, pattern=f"{SIS_DIR}/dos/*")
    + corpus_params(SISIMAI, pattern=f"{SIS_DIR}/mac/*"),
)
def test_sisimai_line_endings_classify_like_bsd_twin(path: Path | None) -> None:
    path = corpus_file(path, SISIMAI)
    twin = path.parent.parent / "bsd" / path.name
    if not twin.exists():
        pytest.skip("no bsd twin")
    got, want = classify_file(path), classify_file(twin)
    assert got.kind == want.kind
    assert (got.bounce is None) == (want.bounce is None)
    if got.bounce and want.bounce:
        assert got.bounce.recipients == want.bounce.recipients
        assert got.bounce.permanent == want.bounce.permanent


@pytest.mark.parametrize("path", corpus_params(SISIMAI, pattern=f"{SIS_DIR}/not/*"))
def test_sisimai_not_bounces(path: Path | None) -> None:
    assert classify_file(corpus_file(path, SISIMAI)).kind == "customer"


# flufl.bounce ---------------------------------------------------------------------------

FLUFL = "flufl.bounce"
FLUFL_DATA = ("flufl", "bounce", "tests", "data")
FLUFL_XFAIL = {
    "yale_01.txt": "Yale phquery names only the local part; flufl rebuilds the domains",
    "dsn_15.txt": "the DSN is nested inside an attached message (a bounce of a bounce)",
    "aol_01.txt": "AOL names only the screen name; flufl appends @aol.com",
}


def _flufl_cases() -> list[Any]:
    try:
        expected = load_expected(FLUFL)
    except BaseException:  # corpus missing: one case that skips (fails in CI)
        return [pytest.param("", None, id="flufl-missing")]
    return [
        pytest.param(
            name,
            checks,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=FLUFL_XFAIL[name])]
            if name in FLUFL_XFAIL
            else [],
        )
        for name, checks in expected.items()
        if name != "_about"
    ]


@pytest.mark.parametrize(("name", "checks"), _flufl_cases())
def test_flufl_bounces(name: str, checks: list[dict[str, Any]] | None) -> None:
    path = require_corpus(FLUFL, *FLUFL_DATA, name)
    assert checks is not None
    verdict = classify_file(path)
    assert verdict.kind == "bounce", verdict
    assert verdict.bounce is not None
    want = {a.lower() for check in checks for a in check["addresses"]}
    assert want <= set(verdict.bounce.recipients)
    assert verdict.bounce.permanent == (not any(c["temporary"] for c in checks))


# bounceparser ---------------------------------------------------------------------------

BOUNCEPARSER = "bounceparser"
BOUNCEPARSER_XFAIL = {
    "t/corpus/spam-lots-of-bogus-addresses.msg": "plain spam; BounceParser counts it, we do not",
    "t/corpus/spam-with-image.msg": "plain spam; BounceParser counts it, we do not",
    "t/corpus/warning-5.msg": "From <> with no body: auto_reply (still no ticket), no report",
    "t/corpus/aol-senderblock.msg": "AOL names only the screen name, no domain",
}


def _cases(source: str, xfail: dict[str, str]) -> list[Any]:
    try:
        expected = load_expected(source)
    except BaseException:  # corpus missing: one case that skips (fails in CI)
        return [pytest.param("", None, id=f"{source}-missing")]
    return [
        pytest.param(
            name,
            facts,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else [],
        )
        for name, facts in expected.items()
        if name != "_about"
    ]


@pytest.mark.parametrize(("name", "facts"), _cases(BOUNCEPARSER, BOUNCEPARSER_XFAIL))
def test_bounceparser(name: str, facts: dict[str, Any] | None) -> None:
    verdict = classify_file(require_corpus(BOUNCEPARSER, name))
    assert facts is not None
    if facts.get("is_bounce") == 1:
        assert verdict.kind == "bounce", verdict
    elif facts.get("is_bounce") == 0:
        # vacation and challenge/response are no bounces; a delay warning may be one,
        # but never a permanent failure
        assert verdict.kind != "bounce" or not verdict.bounce or not verdict.bounce.permanent
        if "kind" in facts:
            assert verdict.kind == "auto_reply", verdict
    if "addresses" in facts:
        assert verdict.bounce is not None
        assert list(verdict.bounce.recipients) == facts["addresses"]
    if "orig_message_id" in facts:
        assert verdict.bounce is not None
        assert f"<{verdict.bounce.original_message_id}>" == facts["orig_message_id"]
    if "min_addresses" in facts:
        assert verdict.bounce is not None
        assert len(verdict.bounce.recipients) >= facts["min_addresses"]


# discourse, mikel-mail, mailgun-flanker ---------------------------------------------------


DISCOURSE_XFAIL = {
    "spec/fixtures/emails/bounced_email_multiple_status_codes.eml": (
        "we report Original-Recipient (the address we wrote), Discourse the alias target"
    ),
}


@pytest.mark.parametrize(("name", "facts"), _cases("discourse", DISCOURSE_XFAIL))
def test_discourse(name: str, facts: dict[str, Any] | None) -> None:
    verdict = classify_file(require_corpus("discourse", name))
    assert facts is not None
    if facts.get("auto_generated"):
        # Precedence: list opens a ticket here, but like every automatic mail gets no answer
        assert verdict.kind in ({"list"} if "Precedence: list" in facts["why"] else {"auto_reply"})
    if facts.get("bounce"):
        assert verdict.kind == "bounce"
        assert verdict.bounce is not None
        assert list(verdict.bounce.recipients) == facts["final_recipients"]
        assert verdict.bounce.status == facts["bounce_status"]
        assert verdict.bounce.permanent


@pytest.mark.parametrize(("name", "facts"), _cases("mikel-mail", {}))
def test_mikel_dsn(name: str, facts: dict[str, Any] | None) -> None:
    verdict = classify_file(require_corpus("mikel-mail", name))
    assert facts is not None
    assert verdict.kind == "bounce"
    assert verdict.bounce is not None
    assert verdict.bounce.permanent == facts["bounced"]
    if "final_recipient" in facts:
        assert verdict.bounce.recipients == (facts["final_recipient"].split(";")[1].strip(),)
        assert verdict.bounce.status == facts["error_status"]
        assert verdict.bounce.diagnostic == facts["diagnostic_code"]
    else:
        assert len(verdict.bounce.recipients) > 1


@pytest.mark.parametrize(("name", "facts"), _cases("mailgun-flanker", {}))
def test_flanker(name: str, facts: dict[str, Any] | None) -> None:
    verdict = classify_file(require_corpus("mailgun-flanker", name))
    assert facts is not None
    is_report = "/bounce/" in name or "/complaints/" in name
    if facts.get("is_bounce") is False or not is_report:
        assert verdict.kind != "bounce", verdict
    if is_report:
        assert verdict.kind == "bounce", verdict
    if facts.get("is_bounce"):
        assert verdict.bounce is not None
        assert verdict.bounce.permanent
        assert verdict.bounce.status == facts["bounce_status"]
        assert " ".join((verdict.bounce.diagnostic or "").split()) == " ".join(
            facts["diagnostic_code"].split()
        )


# ordinary mail: zammad and talon ----------------------------------------------------------

ZAMMAD_KINDS = {
    # Postfix DSNs: Zammad appends them to the original ticket
    "mail052.box": "bounce",
    "mail053.box": "bounce",
    "mail055.box": "bounce",
    "mail063.box": "bounce",
    "mail092.box": "bounce",
    # spam sent with a null envelope sender (Return-Path: <>): no person's mail client
    # does that, RFC 3834 responders do; keeping it out of the tickets is right
    "mail019.box": "auto_reply",
    "mail035.box": "auto_reply",
    # marketing mail with Precedence: bulk (no List-Id)
    "mail043.box": "auto_reply",
    # ServiceNow notification with Auto-Submitted: auto-generated + Precedence: bulk.
    # Zammad opens a ticket from it; RFC 3834 (and our loop policy) say it is automatic.
    "mail089.box": "auto_reply",
}


@pytest.mark.parametrize("path", corpus_params("zammad", pattern="test/data/mail/*.box"))
def test_zammad_mail_is_customer_mail(path: Path | None) -> None:
    path = corpus_file(path, "zammad")
    verdict = classify_file(path)
    assert verdict.kind == ZAMMAD_KINDS.get(path.name, "customer"), verdict


@pytest.mark.parametrize(
    "path", corpus_params("mailgun-talon", pattern="tests/fixtures/standard_replies/*.eml")
)
def test_talon_replies_are_customer_mail(path: Path | None) -> None:
    assert classify_file(corpus_file(path, "mailgun-talon")).kind == "customer"


ZAMMAD_HEADER_XFAIL = {
    "X-Auto-Response-Suppress: All": (
        "alone it only asks for no auto-answer (Outlook sets it on meeting replies); "
        "we keep it a customer mail"
    ),
}


def _zammad_header_cases() -> list[Any]:
    try:
        cases = load_expected("zammad", "expected_extra.json")["auto_response_header_cases"]
    except BaseException:
        return [pytest.param(None, id="zammad-missing")]
    return [
        pytest.param(
            case,
            id=f"{i}",
            marks=[pytest.mark.xfail(strict=True, reason=ZAMMAD_HEADER_XFAIL[case["headers"]])]
            if case["headers"] in ZAMMAD_HEADER_XFAIL
            else [],
        )
        for i, case in enumerate(cases["cases"])
    ]


@pytest.mark.parametrize("case", _zammad_header_cases())
def test_zammad_auto_response_headers(case: dict[str, Any] | None) -> None:
    if case is None:
        require_corpus("zammad", "expected_extra.json")
        return
    # Zammad's own Message-IDs are "<number@fqdn>"; ours are "<T-n.hex@domain>", and only
    # that form counts as ours (customers of an internal helpdesk share the domain).
    headers = case["headers"].replace("<1234@{our_fqdn}>", "<T-000001.0123456789abcdef@{our_fqdn}>")
    headers = headers.replace("{our_fqdn}", "tickets.help.example.org")
    raw = f"From: me@example.com\nTo: customer@example.com\nSubject: {case['subject']}\n"
    raw += (headers + "\n" if headers else "") + "\nSome Text"
    verdict = classify_bytes(raw.encode(), loop_marker="yes" if "X-Loop" in headers else "x")
    answered = verdict.kind in ("customer", "agent")
    if "send_auto_response" in case:
        assert answered == case["send_auto_response"], verdict
    if case.get("out_of_office"):
        assert verdict.kind == "auto_reply", verdict
    elif case.get("out_of_office") is False and "send_auto_response" not in case:
        assert verdict.kind == "customer", verdict
