"""``ticketgw mail``: explain, ingest (eml, folders, Maildir, mbox) and the inbox commands."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.inbound.machine_mails import machine_mails
from tests.inbound.mails import new_request, reply

EXPLAIN_KEYS = {
    "file", "from", "to", "cc", "subject", "date", "message_id", "in_reply_to", "references",
    "text", "full_text", "html", "attachments", "defects", "classification", "thread", "author",
}  # fmt: skip


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_explain_changes_nothing_and_says_why(gw: Ticketgw, tmp_path: Path) -> None:
    original = new_request()
    original.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    first = _write(tmp_path / "first.eml", original.as_bytes())
    second = _write(tmp_path / "second.eml", reply("gmail", original, "Any news?").as_bytes())
    out = assert_ok(gw("mail", "explain", str(first), str(tmp_path / "missing.eml"), "--json"))
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert set(lines[0]) == EXPLAIN_KEYS
    assert lines[0]["classification"] == {"kind": "customer", "reason": "no automatic-mail signal"}
    assert lines[0]["thread"]["decision"] == "new"
    assert lines[0]["attachments"][0]["filename"] == "a.pdf"
    assert lines[0]["attachments"][0]["size"] == 8
    assert lines[1]["file"].endswith("missing.eml")
    assert "error" in lines[1]
    assert gw("tickets", "list", "--json").json() == [], "explain stored nothing"

    assert_ok(gw("mail", "ingest", str(first)))
    [explained] = [
        json.loads(x) for x in gw("mail", "explain", str(second), "--json").stdout.splitlines()
    ]
    assert explained["thread"]["decision"] == "reply"
    assert explained["thread"]["ticket"] == "T-000001"
    assert explained["text"] == "Any news?"
    human = assert_ok(gw("mail", "explain", str(second))).stdout
    assert "decision:  reply T-000001" in human
    assert "references our message" in human


def test_explain_names_machine_mail_and_its_reason(gw: Ticketgw, tmp_path: Path) -> None:
    cases = machine_mails()
    files = [str(_write(tmp_path / f"{name}.eml", raw)) for name, raw, _, _ in cases]
    out = assert_ok(gw("mail", "explain", *files, "--json")).stdout
    explained = [json.loads(line) for line in out.splitlines()]
    for (name, _, kind, word), got in zip(cases, explained, strict=True):
        assert got["classification"]["kind"] == kind, name
        assert word in got["classification"]["reason"], name
        assert got["thread"]["decision"] == "ignore", name


def test_explain_a_bare_reply_says_it_matched_the_subject(gw: Ticketgw, tmp_path: Path) -> None:
    original = new_request(subject="Printer on fire")
    assert_ok(gw("mail", "ingest", str(_write(tmp_path / "first.eml", original.as_bytes()))))
    for sender, decision, reason in [
        ("bob@example.org", "reply", "subject match from participant"),
        ("eve@example.net", "new", "eve@example.net is not a participant"),
    ]:
        bare = reply(
            "outlook", original, "Any news?", sender=sender, with_references=False,
            subject="RE: Printer on fire",
        )  # fmt: skip
        path = _write(tmp_path / f"{sender}.eml", bare.as_bytes())
        explained = json.loads(assert_ok(gw("mail", "explain", str(path), "--json")).stdout)
        assert explained["thread"]["decision"] == decision
        assert reason in explained["thread"]["reason"]
        assert explained["thread"]["ticket"] == ("T-000001" if decision == "reply" else None)


def test_explain_a_reply_that_is_only_a_quote(gw: Ticketgw, tmp_path: Path) -> None:
    original = new_request()
    quote_only = reply("outlook", original, "")
    path = _write(tmp_path / "quote.eml", quote_only.as_bytes())
    explained = json.loads(assert_ok(gw("mail", "explain", str(path), "--json")).stdout)
    assert explained["text"] == ""
    assert "From: Support <support@example.com>" in explained["full_text"]
    assert "My printer is on fire." in explained["full_text"]


def test_ingest_eml_folder_maildir_and_mbox_in_order(gw: Ticketgw, tmp_path: Path) -> None:
    original = new_request(subject="Order 1")
    folder = tmp_path / "folder"
    folder.mkdir()
    _write(folder / "1.eml", original.as_bytes())
    _write(folder / "notes.yml", b"---\nnot: a mail\n")
    maildir = mailbox.Maildir(tmp_path / "maildir", create=True)
    maildir.add(reply("outlook", original, "Second thoughts.").as_bytes())
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    box.add(new_request(sender="dan@example.net", subject="Order 2").as_bytes())
    vacation = new_request(sender="eve@example.net", subject="Out of Office: Order 1")
    box.add(vacation.as_bytes())
    box.flush()
    counts = assert_ok(
        gw(
            "mail",
            "ingest",
            str(folder),
            str(tmp_path / "maildir"),
            str(tmp_path / "archive.mbox"),
            str(folder / "1.eml"),
            "--json",
        )
    ).json()
    assert counts == {
        "mails": 5, "new_tickets": 2, "replies": 1, "automatic": 1, "duplicates": 1,
        "ignored": 0, "failed": 0,
    }  # fmt: skip
    table = assert_ok(gw("mail", "ingest", str(folder))).stdout
    assert "duplicates" in table


def test_ingest_bad_paths_and_failures(gw: Ticketgw, tmp_path: Path) -> None:
    assert_fails(gw("mail", "ingest", str(tmp_path / "nope")), 2, "no such file or folder")
    nobody = _write(tmp_path / "nobody.eml", b"Subject: who am I\r\n\r\nno sender at all\r\n")
    run = gw("mail", "ingest", str(nobody), "--json")
    assert run.exit_code == 1
    assert run.json()["failed"] == 1


def test_inbox_list_show_retry_discard(gw: Ticketgw, tmp_path: Path) -> None:
    nobody = _write(tmp_path / "nobody.eml", b"Subject: who am I\r\n\r\nno sender at all\r\n")
    gw("mail", "ingest", str(nobody))
    assert_ok(gw("mail", "ingest", _write(tmp_path / "ok.eml", new_request().as_bytes()).__str__()))
    failed = assert_ok(gw("mail", "inbox", "list", "--status", "failed", "--json")).json()
    assert [(r["id"], r["failed_step"]) for r in failed] == [(1, "store")]
    assert "cannot tell who wrote it" in failed[0]["reason"]
    assert len(assert_ok(gw("mail", "inbox", "list", "--json")).json()) == 2
    shown = assert_ok(gw("mail", "inbox", "show", "1", "--json")).json()
    assert shown["status"] == "failed"
    assert assert_ok(gw("mail", "inbox", "show", "1", "--raw")).stdout.startswith("Subject: who")
    retried = gw("mail", "inbox", "retry", "1")
    assert retried.exit_code == 1, "it fails again: still no sender"
    assert "1 failed again" in retried.stdout
    assert_ok(gw("mail", "inbox", "discard", "1"))
    assert assert_ok(gw("mail", "inbox", "show", "1", "--json")).json()["status"] == "ignored"
    assert_fails(gw("mail", "inbox", "show", "99"), 2, "no inbox item 99")
    assert_fails(gw("mail", "inbox", "discard", "2"), 1, "it is on a ticket already")
    assert_fails(gw("mail", "inbox", "retry", "2"), 1, "only failed or ignored items")
    assert_fails(gw("mail", "inbox", "retry"), 2, "give an item ID or --all-failed")
    held = assert_ok(gw("mail", "inbox", "list", "--status", "held", "--json")).json()
    assert held == []
