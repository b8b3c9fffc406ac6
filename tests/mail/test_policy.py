"""The inbound policy's caching header registry and the feedparser's boundary matcher
must give exactly what the stdlib gives without them."""

from __future__ import annotations

import email
import re
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.mail.feedparser import _Boundary, _BoundaryRe, message_from_bytes
from gateway.mail.policy import INBOUND, CachingHeaderRegistry

# --- CachingHeaderRegistry ------------------------------------------------------------


def _folded(header: BaseHeader) -> str:
    try:
        return header.fold(policy=policy.default)
    except UnicodeEncodeError as exc:  # raw 8-bit text cannot be folded into encoded words
        return f"error: {exc.reason}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Content-Type", 'multipart/mixed; boundary="==x=="'),
        ("content-type", "text/plain; charset=iso-8859-1; format=flowed"),
        ("From", "=?utf-8?q?J=C3=BCrgen?= <j@example.com>, bob@example.org (Bob)"),
        ("To", "undisclosed-recipients:;"),
        ("Subject", "caf\udcc3\udca9 =?utf-8?b?w6k=?="),
        ("Content-Disposition", "attachment; filename*=utf-8''na%C3%AFve.pdf; size=\"12\""),
        ("X-Whatever", "  folded\r\n value "),
    ],
)
def test_cached_header_equals_a_fresh_parse(name: str, value: str) -> None:
    fresh = HeaderRegistry()(name, value)
    cached = CachingHeaderRegistry()(name, value)
    assert str(cached) == str(fresh)
    assert cached.name == fresh.name
    assert type(cached).__name__ == type(fresh).__name__
    assert [type(d) for d in cached.defects] == [type(d) for d in fresh.defects]
    assert _folded(cached) == _folded(fresh)
    for attribute in ("params", "content_type", "addresses", "content_disposition"):
        assert getattr(cached, attribute, None) == getattr(fresh, attribute, None)


def test_a_repeated_value_is_parsed_once_and_the_name_keeps_its_case() -> None:
    registry = CachingHeaderRegistry()
    first = registry("Content-Type", "text/plain")
    assert registry("Content-Type", "text/plain") is first
    other_case = registry("CONTENT-TYPE", "text/plain")
    assert other_case is not first
    assert other_case.name == "CONTENT-TYPE"
    assert type(other_case) is type(first)  # one class per lower-cased name


def test_the_cache_is_bounded_by_characters_and_long_values_are_not_kept() -> None:
    registry = CachingHeaderRegistry(max_chars=100, max_length=30)
    for i in range(20):
        registry("Subject", f"subject number {i}")
    assert registry._chars <= 100
    assert registry("Subject", "subject number 19") is registry("Subject", "subject number 19")
    long = "x" * 31
    assert registry("Subject", long) is not registry("Subject", long)
    assert ("Subject", long) not in registry._parsed


def test_parse_errors_are_raised_every_time_and_objects_pass_through() -> None:
    registry = CachingHeaderRegistry()
    broken = "a@b.c, x@"
    for _ in range(2):
        with pytest.raises((HeaderParseError, IndexError)):
            registry("To", broken)
    header = registry("To", Address("Ann", "ann", "example.com"))
    assert str(header) == "Ann <ann@example.com>"


def test_inbound_is_policy_default_apart_from_the_header_factory() -> None:
    ours = {k: v for k, v in vars(INBOUND).items() if k != "header_factory"}
    assert ours == {k: v for k, v in vars(policy.default).items() if k != "header_factory"}
    assert isinstance(INBOUND.header_factory, CachingHeaderRegistry)


# --- the feedparser's boundary matcher ------------------------------------------------

_LINE_ENDS = st.sampled_from(["", "\n", "\r\n", "\r", "\n\n", "\r\r\n"])
_TAILS = st.text(alphabet="- \tx\r\n=", max_size=6)


def _stdlib_boundary(separator: str) -> re.Pattern[str]:
    # The pattern Python 3.11's feedparser compiles for a multipart's boundary.
    return re.compile(
        "(?P<sep>" + re.escape(separator) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    )


@settings(max_examples=500, deadline=None)
@given(
    boundary=st.text(min_size=1, max_size=20).filter(lambda b: "\r" not in b and "\n" not in b),
    tail=_TAILS,
    line_end=_LINE_ENDS,
    drop=st.integers(min_value=0, max_value=3),
)
def test_boundary_matcher_matches_the_same_lines_as_the_stdlib_regex(
    boundary: str, tail: str, line_end: str, drop: int
) -> None:
    separator = "--" + boundary
    line = (separator + tail + line_end)[drop:]
    stdlib = _stdlib_boundary(separator)
    matcher = _BoundaryRe().compile(stdlib.pattern)
    assert isinstance(matcher, _Boundary)
    expected = stdlib.match(line)
    found = matcher.match(line)
    assert (found is None) == (expected is None)
    if found is not None and expected is not None:
        for group in ("end", "ws", "linesep"):
            assert found.group(group) == expected.group(group)


def test_only_the_boundary_pattern_is_replaced() -> None:
    shim = _BoundaryRe()
    pattern = _stdlib_boundary("--a.b(c)").pattern
    assert isinstance(shim.compile(pattern), _Boundary)
    # Not what re.escape gives ("." unescaped): compiled as it is, by re itself.
    unescaped = "(?P<sep>--a.b" + pattern[pattern.index(")(?P<end>") :]
    assert isinstance(shim.compile(unescaped), re.Pattern)
    assert isinstance(shim.compile("[a-z]+"), re.Pattern)
    assert shim.escape("a.b") == re.escape("a.b")


def test_message_from_bytes_builds_the_stdlib_tree() -> None:
    raw = (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="a.b+c"\r\n\r\n'
        b"preamble\r\n--a.b+c\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
        b"--inner\r\nContent-Type: text/plain\r\n\r\nhi\r\n--inner \t\r\n"
        b"Content-Type: text/html\r\n\r\n<p>hi</p>\r\n--inner--\r\n--a.b+c--\r\nepilogue\r\n"
        + b"x" * 9000
        + b"\r\n"
    )
    ours = message_from_bytes(raw)
    stdlib = email.message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    assert ours.policy is INBOUND
    assert [p.get_content_type() for p in ours.walk()] == [
        p.get_content_type() for p in stdlib.walk()
    ]
    assert ours.preamble == stdlib.preamble
    assert ours.epilogue == stdlib.epilogue
    assert ours.as_bytes(policy=policy.default) == stdlib.as_bytes()
    assert [type(d) for d in ours.defects] == [type(d) for d in stdlib.defects]
    stdlib_head = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(
        raw, headersonly=True
    )
    assert message_from_bytes(raw, headersonly=True).as_bytes() == stdlib_head.as_bytes()
