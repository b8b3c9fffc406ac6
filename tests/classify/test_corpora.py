"""Classification against the third-party corpora's own expectations.

Expectations we deliberately do not meet, or cannot, are listed with a one-line reason and
run as ``xfail(strict=True)``: when one starts passing, the list must shrink.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.classify.support import classify_file
from tests.corpora import corpus_file, corpus_params, load_expected, require_corpus

pytestmark = pytest.mark.corpus

SISIMAI = "sisimai"
SIS_DIR = "set-of-emails/maildir"

# sisimai files whose verdict differs from Sisimai's on purpose or out of reach
SISIMAI_KIND_XFAIL = {
    "lhost-amazonses-10.eml": "Amazon SNS JSON notification, not a mail report (use SES webhooks)",
    "lhost-amazonses-11.eml": "Amazon SNS JSON notification, not a mail report (use SES webhooks)",
    "lhost-amazonses-13.eml": "Amazon SNS JSON notification, not a mail report (use SES webhooks)",
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
    if _expected_kinds(records) == {"auto_reply"} or path.name in SISIMAI_KIND_XFAIL:
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
