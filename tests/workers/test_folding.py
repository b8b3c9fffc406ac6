"""Long subjects in any script arrive exactly as written: no space lost at a fold."""

from __future__ import annotations

import copy
from email import message_from_bytes, message_from_string
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, default

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import update

from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from schema.models import OutboxItem
from tests.waiting import wait_until
from tests.workers.conftest import AddRows, Workers, statuses
from tests.workers.sink import Recorder
from workers.enqueue import to_broker
from workers.folding import LINE, FoldedText
from workers.render import render_email

# Real subjects mix scripts with ASCII words, numbers and punctuation; the stdlib's folding
# lost the space after an encoded word cut at the fold ("Drucker brennt –Größe").
SCRIPTS = {
    "german": "Drucker brennt – Größe der Ausgabe prüfen, Übergröße melden: 3 Blätter",
    "japanese": "プリンター が 燃えて います 至急 対応 して ください HP LaserJet 4 の件",
    "russian": "Принтер горит – проверьте размер вывода и сообщите о проблеме ASAP",
    "greek": "Ο εκτυπωτής καίγεται – ελέγξτε το μέγεθος εξόδου (2 σελίδες) γρήγορα",
    "arabic": "الطابعة تحترق – تحقق من حجم الإخراج وأبلغ عن المشكلة بسرعة order 42",
    "emoji": "Printer 🔥 on fire 🔥 please help 🙏 now 🙏 right now 🔥🔥 thanks 👍 a lot",
    "mixed": "Re: Größe プリンター Принтер 🔥 Ausgabe – горит ok T-1 ü der 燃えて brennt",
}
LENGTHS = range(8, 74, 3)  # the ack's subject line folds after about 30 of these


def test_subjects_in_many_scripts_arrive_unchanged_at_the_relay(
    runtime: Runtime, add_rows: AddRows, workers: Workers, sink: tuple[Recorder, object]
) -> None:
    recorder, _ = sink
    subjects = [text[:n].strip() for text in SCRIPTS.values() for n in LENGTHS]
    ids = add_rows(len(subjects))
    expected = {}
    with runtime.transaction() as session:
        for row_id, subject in zip(ids, subjects, strict=True):
            item = session.get_one(OutboxItem, row_id)
            context = copy.deepcopy(item.context)
            context["vars"]["ticket"]["subject"] = subject
            session.execute(
                update(OutboxItem).where(OutboxItem.id == row_id).values(context=context)
            )
            key = context["headers"]["Message-ID"]
            expected[key] = render_email("ack", context["vars"]).subject
    relay_pending(runtime.sessions, to_broker(workers()))
    wait_until(lambda: statuses(runtime) == {"sent": len(ids)}, what="every row sent")
    arrived = {str(m["Message-ID"]): str(m["Subject"]) for m in recorder.messages}
    wrong = {k: (expected[k], arrived[k]) for k in expected if arrived[k] != expected[k]}
    assert wrong == {}


def _round_trip(subject: str, utf8: bool) -> tuple[str, list[bytes]]:
    msg = EmailMessage(policy=default)
    msg["Subject"] = FoldedText("Subject", subject)
    raw = msg.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)
    back = (
        message_from_string(raw.decode(), policy=default)
        if utf8
        else message_from_bytes(raw, policy=default)
    )
    return str(back["Subject"]), raw.split(b"\r\n\r\n")[0].split(b"\r\n")


WORDS = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1, max_size=12
)


@given(st.lists(WORDS, min_size=1, max_size=30), st.booleans())
def test_any_subject_survives_folding_and_fits_the_line(words: list[str], utf8: bool) -> None:
    subject = " ".join(words)
    arrived, lines = _round_trip(subject, utf8)
    assert arrived == subject
    assert all(len(line.decode()) <= LINE for line in lines if line.startswith((b"Subject", b" ")))


def test_a_space_next_to_a_fold_is_kept() -> None:
    subject = "[T-000123] We received your request: Drucker brennt – Größe der Ausgabe prüfen"
    assert _round_trip(subject, utf8=False)[0] == subject
