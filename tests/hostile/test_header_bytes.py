"""Arbitrary bytes in every header: the mail is stored, and no text that reaches the
database or stdout is invalid UTF-8 or holds a NUL (hypothesis over the real pipeline)."""

from __future__ import annotations

import base64
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from admin_cli.output import json_line
from gateway.pipeline.explain import explain
from gateway.runtime import Runtime
from schema.models import Contact, InboxItem, Message, Ticket
from tests.conftest import Ingest

HEADERS = (
    "From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References",
    "Date", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
    "Thread-Index", "Auto-Submitted",
)  # fmt: skip
# Bytes as mail carries them: mostly 8-bit text, encoded words with any charset, and NUL.
VALUE = st.one_of(
    st.binary(max_size=60),
    st.builds(
        lambda charset, enc, payload: b"=?%s?%s?%s?=" % (charset, enc, payload),
        st.sampled_from([b"iso-2022-jp", b"utf-8", b"shift_jis", b"utf-16", b"x-bogus", b""]),
        st.sampled_from([b"B", b"Q", b"b"]),
        st.binary(max_size=30).map(lambda b: base64.b64encode(b)),
    ),
)


def _text_fields(runtime: Runtime) -> list[str]:
    with runtime.sessions() as s:
        texts: list[str] = []
        for m in s.scalars(select(Message)):
            texts += [m.subject, m.sender, m.visible_text, m.full_text, m.html or ""]
            texts += [str(m.email_message_id), *m.references, *m.recipients]
        texts += [c.name for c in s.scalars(select(Contact))]
        texts += [t.subject for t in s.scalars(select(Ticket))]
        texts += [i.reason or "" for i in s.scalars(select(InboxItem))]
    return texts


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(HEADERS, VALUE)))
def test_any_header_bytes_are_stored_and_clean(
    runtime: Runtime, ingest: Ingest, values: dict[str, bytes]
) -> None:
    head = {"From": b"Bob <bob@example.org>", "To": b"support@example.com", **values}
    raw = b"".join(b"%s: %s\r\n" % (k.encode(), v) for k, v in head.items())
    raw += b"\r\nPlease help.\r\n"
    outcome = ingest(raw)
    # A From that names nobody is a quarantine with its reason, never a crash.
    if outcome.status == "failed":
        assert outcome.reason.startswith(("no From address", "no usable From")), outcome.reason
    for text in _text_fields(runtime):
        assert "\x00" not in text
        text.encode("utf-8")  # raises on a lone surrogate
    out = io.StringIO()
    with runtime.sessions() as session:
        json_line(explain(session, runtime.settings, raw), out)
    printed = out.getvalue()
    assert "\x00" not in printed
    printed.encode("utf-8")
