"""Benchmark: ``mail ingest`` throughput, threading accuracy, peak RSS and the SMTP listener.

Run: ``.venv/bin/python bench/ingest.py [--mails 5000] [--runs 3] [--backends sqlite,postgresql]``
(``--only ingest,cli,smtp,big`` picks parts; ``--profile DIR`` records one in-process run
with py-spy). Every figure is the median of ``--runs`` runs in this invocation; each run gets
a fresh database (a SQLite file, or a PostgreSQL database created on ``TICKETGW_TEST_PG_URL``,
default the local socket, and dropped afterwards).

The corpus is generated from a seeded ``random``: 60% new requests, 35% customer replies,
5% auto-replies. Replies and auto-replies answer what the gateway really sent: they are
made *after* the originals are ingested, from the acknowledgement rows in the outbox (their
Message-ID and signed Reply-To), the way a customer's mail client would; some reference only
the customer's own original, and some are bare: a reply prefix in the customer's language
(``RE:``, ``AW:``, ``RE :``, ``返信:``) and no In-Reply-To/References, from the customer or
from somebody else. So each reply's right ticket is known (for a bare reply: the one ticket
of its sender with that subject, else a new ticket) and threading accuracy is measured, not
assumed.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.common import create_pg_database, drop_pg_database, free_port  # noqa: E402
from gateway.agents import add_agent  # noqa: E402
from gateway.config import load_settings  # noqa: E402
from gateway.inbound.parse_ahead import default_processes, parse_ahead  # noqa: E402
from gateway.pipeline.batch import ITEMS_PER_BATCH, ingest_batch  # noqa: E402
from gateway.queues import DEFAULT_QUEUE, add_member  # noqa: E402
from gateway.runtime import Runtime, open_runtime  # noqa: E402
from schema.models import InboxItem, KnownMessageId, OutboxItem, Ticket  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
TICKETGW = str(ROOT / ".venv" / "bin" / "ticketgw")
SUPPORT = "support@example.com"
SECRET = "bench-secret-key"
SEED = 20261123
BASE_DATE = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

TARGETS = {
    "ingest_pg": 400.0,  # mails/s
    "listener": 300.0,  # accepted mails/s
    "rss_mb": 250.0,
    "big_growth": 4.0,  # RSS growth / mail size
}

# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------

FIRST = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Inès", "Jonas"]
LAST = ["Müller", "Martin", "Smith", "Dubois", "Schneider", "Bernard", "Jones", "Weiß"]
JA_NAMES = ["山田 太郎", "佐藤 花子", "鈴木 一郎", "高橋 美咲"]
WORDS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "soylent"]
TLDS = ["com", "de", "fr", "co.jp", "org", "net", "io"]

SUBJECTS = {
    "en": [
        "Cannot log in to my account",
        "Invoice {n} is wrong",
        "Refund for order #{n}",
        "App crashes on start",
        "How do I change my plan?",
        "Password reset mail never arrives",
    ],
    "de": [
        "Rechnung {n} ist falsch",
        "Ich kann mich nicht anmelden",
        "Rückerstattung für Bestellung {n}",
        "Lieferung verspätet – Größe ändern?",
    ],
    "fr": [
        "Problème de connexion à mon compte",
        "Facture {n} erronée",
        "Remboursement de la commande n° {n}",
        "L'application plante au démarrage",
    ],
    "ja": ["ログインできません", "請求書{n}について", "注文{n}の返金", "アプリが起動しません"],
}
BODIES = {
    "en": "Hello,\n\nsince this morning {what}. I tried twice and cleared the cache.\n"
    "Order number {n}, account {email}.\n\nCan you help?\n\nThanks,\n{name}",
    "de": "Guten Tag,\n\nseit heute früh {what}. Ich habe es zweimal versucht.\n"
    "Bestellnummer {n}, Konto {email}.\n\nVielen Dank für Ihre Hilfe!\n\nGrüße\n{name}",
    "fr": "Bonjour,\n\ndepuis ce matin {what}. J'ai déjà essayé deux fois.\n"
    "Numéro de commande {n}, compte {email}.\n\nMerci d'avance,\n{name}",
    "ja": "お世話になっております。\n\n今朝から{what}。二回試しました。\n"
    "注文番号 {n}、アカウント {email}。\n\nよろしくお願いいたします。\n{name}",
}
WHAT = {
    "en": ["the login page says my password is wrong", "the app shows a blank screen"],
    "de": ["sagt die Anmeldeseite, mein Passwort sei falsch", "zeigt die App nur Weiß"],
    "fr": ["la page de connexion refuse mon mot de passe", "l'appli affiche un écran blanc"],
    "ja": ["パスワードが違うと表示されます", "画面が真っ白になります"],
}
REPLY_TEXT = {
    "en": ["Thanks, that worked!", "It still fails, see the screenshot.", "Any news on this?"],
    "de": ["Danke, jetzt geht es!", "Es klappt leider immer noch nicht.", "Gibt es Neuigkeiten?"],
    "fr": ["Merci, ça marche !", "Ça ne marche toujours pas.", "Des nouvelles ?"],
    "ja": ["ありがとうございます。解決しました。", "まだ直りません。", "その後いかがでしょうか。"],
}
# The reply prefixes clients write in each language (French Outlook puts a space before ":").
BARE_PREFIXES = {
    "en": ("Re: ", "RE: "),
    "de": ("AW: ", "Re: "),
    "fr": ("RE : ", "Re: "),
    "ja": ("RE: ", "返信: "),
}
# Reply client styles: how each writes the quote header above the quoted mail.
STYLES = ("gmail", "outlook", "apple", "thunderbird", "german", "french")
AUTO_SUBJECTS = (
    "Out of Office: {s}",
    "Automatic reply: {s}",
    "Abwesenheitsnotiz: {s}",
    "Réponse automatique : {s}",
    "Auto: {s}",
    "On vacation: {s}",
)
AUTO_HEADERS: tuple[dict[str, str], ...] = (
    {"Auto-Submitted": "auto-replied (vacation)"},
    {"X-Autoreply": "yes"},
    {"Precedence": "auto_reply"},
    {"X-Auto-Response-Suppress": "All", "X-MS-Exchange-Inbox-Rules-Loop": "x@example.net"},
    {},  # the subject alone says it
)


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    address: str
    lang: str


@dataclass(frozen=True, slots=True)
class Original:
    """A new request; small, so 5,000 of them cost nothing to keep."""

    index: int
    customer: Customer
    subject: str
    body: str
    message_id: str
    html: bool
    attachment: str | None  # pdf | png
    charset: str  # utf-8 | iso-8859-1 | iso-2022-jp
    style: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A customer reply (or an auto-reply) and the ticket it must land on (None: none)."""

    index: int
    original: Original
    mode: str
    expected_ticket: int | None
    message_id: str
    to: str
    subject: str
    in_reply_to: str | None
    auto: dict[str, str] | None = None
    sender: Customer | None = None  # somebody else than the original's customer


def customers(rng: random.Random, count: int, domains: int) -> list[Customer]:
    """Many customers over many domains: the breaker holds >20 mails/min per domain."""
    names = [f"{w}{i}.{rng.choice(TLDS)}" for i, w in enumerate(rng.choices(WORDS, k=domains))]
    out = []
    for i in range(count):
        lang = rng.choices(("en", "de", "fr", "ja"), weights=(55, 20, 15, 10))[0]
        name = rng.choice(JA_NAMES) if lang == "ja" else f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        out.append(Customer(name, f"user{i}@{names[i % domains]}", lang))
    return out


def originals(rng: random.Random, count: int, people: Sequence[Customer]) -> list[Original]:
    out = []
    for i in range(count):
        c = people[i % len(people)] if i < len(people) else rng.choice(people)
        n = rng.randrange(10000, 99999)
        lang = c.lang
        charset = "utf-8"
        if lang in ("de", "fr") and rng.random() < 0.5:
            charset = "iso-8859-1"
        elif lang == "ja" and rng.random() < 0.5:
            charset = "iso-2022-jp"
        body = BODIES[lang].format(what=rng.choice(WHAT[lang]), n=n, email=c.address, name=c.name)
        out.append(
            Original(
                index=i,
                customer=c,
                subject=rng.choice(SUBJECTS[lang]).format(n=n),
                body=body,
                message_id=f"orig.{i}.{n}@{c.address.partition('@')[2]}",
                html=rng.random() < 0.35,
                attachment=rng.choices((None, "pdf", "png"), weights=(80, 10, 10))[0],
                charset=charset,
                style=rng.choice(STYLES),
            )
        )
    return out


def _pdf(rng: random.Random, size: int) -> bytes:
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstream\n"
    return head + rng.randbytes(size) + b"\nendstream\n%%EOF\n"


def _png(rng: random.Random, size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.randbytes(size)


def _html(text_body: str, quote: str | None = None) -> str:
    paras = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text_body.split("\n\n"))
    if quote is not None:
        paras += f'<div class="gmail_quote"><blockquote>{quote}</blockquote></div>'
    return f"<html><body><div dir='ltr'>{paras}</div></body></html>"


def _set_text(msg: EmailMessage, body: str, charset: str) -> None:
    cte = "7bit" if charset == "iso-2022-jp" else "quoted-printable"
    if charset != "utf-8":  # a quote header in another language may not fit the charset
        body = body.encode(charset, "replace").decode(charset)
    msg.set_content(body, charset=charset, cte=cte)


def render_original(o: Original) -> bytes:
    rng = random.Random(o.index)
    msg = EmailMessage()
    msg["From"] = Address(o.customer.name, addr_spec=o.customer.address)
    msg["To"] = SUPPORT
    msg["Subject"] = o.subject
    msg["Date"] = format_datetime(BASE_DATE + timedelta(seconds=o.index))
    msg["Message-ID"] = f"<{o.message_id}>"
    _set_text(msg, o.body, o.charset)
    if o.html:
        msg.add_alternative(_html(o.body), subtype="html")
    if o.attachment == "pdf":
        data = _pdf(rng, rng.randrange(20_000, 80_000))
        msg.add_attachment(
            data, maintype="application", subtype="pdf", filename=f"scan-{o.index}.pdf"
        )
    elif o.attachment == "png":
        data = _png(rng, rng.randrange(10_000, 50_000))
        msg.add_attachment(data, maintype="image", subtype="png", filename="screenshot.png")
    return bytes(msg)


def _quote_header(style: str, when: datetime, who: str) -> str:
    return {
        "gmail": f"On {when:%a, %d %b %Y} at {when:%H:%M}, {who} wrote:",
        "apple": f"On {when:%b %d, %Y}, at {when:%H:%M}, {who} wrote:",
        "thunderbird": f"On {when:%d.%m.%Y %H:%M}, {who} wrote:",
        "german": f"Am {when:%d.%m.%Y} um {when:%H:%M} schrieb {who}:",
        "french": f"Le {when:%d/%m/%Y} à {when:%H:%M}, {who} a écrit :",
    }[style]


def render_reply(r: Reply) -> bytes:
    """A reply as the customer's client writes it: new text above the quoted mail."""
    o, rng = r.original, random.Random(r.index)
    who = r.sender or o.customer
    lang = o.customer.lang
    new = rng.choice(REPLY_TEXT[lang]) + f"\n\n{who.name.split()[0]}"
    when = BASE_DATE + timedelta(hours=1, seconds=o.index)
    quoted = o.body if r.mode == "own" else f"We have received your request: {o.subject}"
    quoted_subject = o.subject if r.mode.startswith("bare") else r.subject.removeprefix("Re: ")
    if r.auto is not None:
        body = "I am out of the office until Monday and will read your mail then."
    elif o.style == "outlook":
        body = (
            f"{new}\n\n________________________________\nFrom: Support <{SUPPORT}>\n"
            f"Sent: {when:%A, %B %d, %Y %I:%M %p}\nTo: {o.customer.name} <{o.customer.address}>\n"
            f"Subject: {quoted_subject}\n\n{quoted}\n"
        )
    else:
        header = _quote_header(o.style, when, f"Support <{SUPPORT}>")
        body = f"{new}\n\n{header}\n" + "\n".join(f"> {line}" for line in quoted.splitlines())
    msg = EmailMessage()
    msg["From"] = Address(who.name, addr_spec=who.address)
    msg["To"] = r.to
    msg["Subject"] = r.subject
    msg["Date"] = format_datetime(when + timedelta(minutes=r.index % 50))
    msg["Message-ID"] = f"<{r.message_id}>"
    if r.in_reply_to:
        msg["In-Reply-To"] = f"<{r.in_reply_to}>"
        msg["References"] = f"<{r.in_reply_to}>"
    for name, value in (r.auto or {}).items():
        msg[name] = value
    _set_text(msg, body, o.charset)
    if o.html and r.auto is None:
        msg.add_alternative(_html(new, quoted.replace("\n", "<br>")), subtype="html")
    return bytes(msg)


@dataclass(slots=True)
class Corpus:
    """The originals; replies are added once the originals' acknowledgements exist."""

    originals: list[Original]
    replies: list[Reply] = field(default_factory=list)


def make_corpus(total: int, seed: int = SEED) -> Corpus:
    rng = random.Random(seed)
    n_orig = round(total * 0.60)
    # ~3 mails per customer on average and >= 1000 domains: well under 20 a minute each.
    people = customers(rng, max(50, total // 3), max(10, total // 5))
    return Corpus(originals(rng, n_orig, people))


def make_replies(runtime: Runtime, corpus: Corpus, total: int, seed: int = SEED) -> list[Reply]:
    """Replies and auto-replies to what the gateway sent, from its outbox rows."""
    rng = random.Random(seed + 1)
    n_auto = round(total * 0.05)
    n_reply = total - len(corpus.originals) - n_auto
    with runtime.sessions() as session:
        known = select(KnownMessageId.message_id, KnownMessageId.ticket_id).where(
            KnownMessageId.outbound.is_(False)
        )
        ticket_of: dict[str, int] = dict(session.execute(known).all())
        acks = {
            row.ticket_id: row.context["headers"]
            for row in session.scalars(select(OutboxItem).where(OutboxItem.template == "ack"))
        }
    opened = [o for o in corpus.originals if o.message_id in ticket_of]
    # A bare reply belongs on its sender's one ticket with that subject; with none or
    # several, on a new ticket.
    same: dict[tuple[str, str], list[int]] = {}
    for o in opened:
        same.setdefault((o.customer.address, o.subject), []).append(ticket_of[o.message_id])
    people = sorted({o.customer for o in opened}, key=lambda c: c.address)
    out: list[Reply] = []
    for i in range(n_reply + n_auto):
        o = rng.choice(opened)
        ticket = ticket_of[o.message_id]
        ref = f"[T-{ticket:06d}]"
        ack = acks.get(ticket)
        mid = f"reply.{i}.{rng.randrange(1 << 30)}@{o.customer.address.partition('@')[2]}"
        if i >= n_reply:  # an auto-reply: to our acknowledgement, or to nobody in particular
            auto = rng.choice(AUTO_HEADERS)
            subject = rng.choice(AUTO_SUBJECTS).format(s=f"{ref} We received your request")
            irt = ack["Message-ID"].strip("<>") if ack and rng.random() < 0.7 else None
            out.append(Reply(i, o, "auto", None, mid, SUPPORT, subject, irt, auto))
            continue
        mode = rng.choices(
            ("headers+token", "headers", "token", "subject", "own", "bare", "bare-stranger"),
            weights=(30, 20, 15, 10, 15, 8, 2),
        )[0]
        if ack is None and not mode.startswith(("subject", "bare")):
            mode = "own"  # no acknowledgement went out (the hourly cap): reply to one's own mail
        tagged = f"Re: {ref} We received your request: {o.subject}"
        plain = f"Re: {o.subject}"
        if mode.startswith("bare"):
            who = rng.choice(people) if mode == "bare-stranger" else o.customer
            bare = rng.choice(BARE_PREFIXES[o.customer.lang]) + o.subject
            mine = same.get((who.address, o.subject), [])
            expected = mine[0] if len(mine) == 1 else None
            sender = who if who != o.customer else None
            out.append(Reply(i, o, mode, expected, mid, SUPPORT, bare, None, sender=sender))
        elif mode == "own":
            out.append(Reply(i, o, mode, ticket, mid, SUPPORT, plain, o.message_id))
        elif mode == "subject":
            out.append(Reply(i, o, mode, ticket, mid, SUPPORT, tagged, None))
        else:
            assert ack is not None
            subject = tagged if rng.random() < 0.5 else plain
            to = ack["Reply-To"] if "token" in mode else SUPPORT
            irt = ack["Message-ID"].strip("<>") if "headers" in mode else None
            out.append(Reply(i, o, mode, ticket, mid, to, subject, irt))
    return out


def accuracy(runtime: Runtime, replies: Sequence[Reply]) -> dict[str, Any]:
    """Replies on the right ticket / all replies; auto-replies that opened a ticket."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(InboxItem.dedupe_key, InboxItem.ticket_id, InboxItem.thread_decision)
        ).all()
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        outbox = session.scalar(select(func.count()).select_from(OutboxItem))
        held = session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.held))
        failed = session.scalar(
            select(func.count()).select_from(InboxItem).where(InboxItem.status == "failed")
        )
    got = {key: (ticket, decision) for key, ticket, decision in rows}
    right, wrong_by_mode, auto_opened, total = 0, dict[str, int](), 0, 0
    for r in replies:
        ticket, decision = got.get(f"mid:{r.message_id}", (None, None))
        if r.auto is not None:
            auto_opened += decision == "new"
            continue
        total += 1
        if r.expected_ticket is None and decision == "new":
            right += 1  # a bare reply with no single ticket of its sender: a new ticket
        elif decision == "reply" and ticket == r.expected_ticket:
            right += 1
        else:
            wrong_by_mode[r.mode] = wrong_by_mode.get(r.mode, 0) + 1
    return {
        "replies": total,
        "replies_right": right,
        "wrong_by_mode": wrong_by_mode,
        "auto_replies": len(replies) - total,
        "auto_opened": auto_opened,
        "tickets": tickets,
        "outbox_rows": outbox,
        "held": held,
        "failed": failed,
    }


# ---------------------------------------------------------------------------------------
# Databases and processes
# ---------------------------------------------------------------------------------------


def fresh_database(backend: str, workdir: Path) -> str:
    """An empty database (migrated by the first runtime that opens it)."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    return create_pg_database()


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        drop_pg_database(url)


def gateway_env(url: str, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETGW_")}
    env.update(
        TICKETGW_DATABASE_URL=url,
        TICKETGW_DATA_DIR=str(workdir / "data"),
        TICKETGW_SUPPORT_ADDRESS=SUPPORT,
        TICKETGW_SECRET_KEY=SECRET,
        TICKETGW_HTTP_LISTEN="127.0.0.1:0",
        **extra,
    )
    return env


def open_seeded(url: str, workdir: Path) -> Runtime:
    """A migrated runtime with three agents in the default queue (they get notified too)."""
    rt = open_runtime(load_settings(gateway_env(url, workdir)), migrate=True)
    with rt.transaction() as session:
        for who in ("ann", "bob", "cem"):
            add_agent(session, f"{who}@example.com", who.title())
            add_member(session, DEFAULT_QUEUE, f"{who}@example.com")
    return rt


def _status_kb(pid: int | str, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_watched(cmd: Sequence[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Run ``cmd``; its wall time, its peak RSS in KiB (VmHWM, polled) and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _status_kb(proc.pid, "VmHWM"))
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {err.decode()[-2000:]}")
    return elapsed, peak, out.decode()


class Serve:
    """``ticketgw serve`` as a subprocess on a free port; ``with`` starts and stops it."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.port = free_port()
        self.env = gateway_env(url, workdir, TICKETGW_SMTP_LISTEN=f"127.0.0.1:{self.port}")
        self.log = open(workdir / f"serve-{self.port}.log", "wb")  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Serve:
        self.proc = subprocess.Popen(
            [TICKETGW, "serve"], env=self.env, stdout=self.log, stderr=self.log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ticketgw serve exited {self.proc.returncode}")
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=2) as s:
                    s.noop()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("ticketgw serve did not start listening in 30 s")

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def wait_processed(rt: Runtime, expected: int, timeout: float = 600) -> float:
    """Seconds until ``expected`` inbox items are no longer pending."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        with rt.sessions() as session:
            done = session.scalar(
                select(func.count()).select_from(InboxItem).where(InboxItem.status != "pending")
            )
        if (done or 0) >= expected:
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError(f"inbox items still pending after {timeout} s")


# ---------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------


def reference_rate(mails: int = 1000) -> float:
    """How fast this machine is right now: the bare standard-library parser (compat32) on
    the first originals of the corpus, median of 3. These shared machines swing by half
    in an hour; a figure is only comparable with this printed beside it."""
    raws = [render_original(o) for o in make_corpus(round(mails / 0.6)).originals[:mails]]
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        for raw in raws:
            email.message_from_bytes(raw)
        rates.append(len(raws) / (time.perf_counter() - start))
    return statistics.median(rates)


def _batches(raws: Iterator[bytes], source: str) -> Iterator[list[tuple[bytes, str]]]:
    batch: list[tuple[bytes, str]] = []
    for raw in raws:
        batch.append((raw, source))
        if len(batch) == ITEMS_PER_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _ingest(rt: Runtime, raws: Iterator[bytes], parse_processes: int) -> tuple[float, int]:
    """Seconds to ingest ``raws`` as ``mail ingest`` does, and how many mails.

    The mails are rendered first and not timed; the clock covers everything after: the
    parsing processes' start, parsing ahead, and ``ingest_batch`` in transactions of 200.
    """
    rendered = list(raws)
    count = 0
    start = time.perf_counter()
    for batch, parsed in parse_ahead(_batches(iter(rendered), "bench"), parse_processes):
        with rt.transaction() as session:
            count += len(ingest_batch(session, rt.settings, batch, parsed))
    return time.perf_counter() - start, count


def inprocess_child(url: str, workdir: Path, total: int, parse_processes: int) -> dict[str, Any]:
    """One in-process run (in a fresh interpreter, so its peak RSS is its own)."""
    rt = open_seeded(url, workdir)
    corpus = make_corpus(total)
    t1, n1 = _ingest(rt, (render_original(o) for o in corpus.originals), parse_processes)
    corpus.replies = make_replies(rt, corpus, total)
    t2, n2 = _ingest(rt, (render_reply(r) for r in corpus.replies), parse_processes)
    result = accuracy(rt, corpus.replies)
    rt.close()
    return {
        "mails": n1 + n2,
        "seconds": t1 + t2,
        "rate": (n1 + n2) / (t1 + t2),
        "rate_new": n1 / t1,
        "rate_replies": n2 / t2,
        "peak_rss_kb": _status_kb("self", "VmHWM"),
        **result,
    }


def run_inprocess(
    backend: str, total: int, parse_processes: int, profile: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(backend, workdir)
        try:
            cmd = [PYTHON, __file__, "_child", url, str(workdir), str(total), str(parse_processes)]
            if profile is not None:
                svg = profile / f"ingest-{backend}.svg"
                cmd = [str(ROOT / ".venv/bin/py-spy"), "record", "-o", str(svg), "--", *cmd]
            _, _, out = run_watched(cmd, os.environ.copy())
            return json.loads(out.strip().splitlines()[-1])
        finally:
            drop_database(url)


def run_cli(backend: str, total: int) -> dict[str, Any]:
    """``ticketgw mail ingest`` on the originals, then on the replies made from its acks."""
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(backend, workdir)
        try:
            rt = open_seeded(url, workdir)
            corpus = make_corpus(total)
            env = gateway_env(url, workdir)
            folder = workdir / "originals"
            folder.mkdir()
            for o in corpus.originals:
                (folder / f"{o.index:06d}.eml").write_bytes(render_original(o))
            t1, rss1, out1 = run_watched([TICKETGW, "mail", "ingest", "--json", str(folder)], env)
            corpus.replies = make_replies(rt, corpus, total)
            folder = workdir / "replies"
            folder.mkdir()
            for r in corpus.replies:
                (folder / f"{r.index:06d}.eml").write_bytes(render_reply(r))
            t2, rss2, out2 = run_watched([TICKETGW, "mail", "ingest", "--json", str(folder)], env)
            result = accuracy(rt, corpus.replies)
            rt.close()
        finally:
            drop_database(url)
    mails = json.loads(out1)["mails"] + json.loads(out2)["mails"]
    return {
        "mails": mails,
        "seconds": t1 + t2,
        "rate": mails / (t1 + t2),
        "peak_rss_kb": max(rss1, rss2),
        **result,
    }


def run_listener(backend: str, total: int, clients: int = 8) -> dict[str, Any]:
    """Accepted mails/s with ``clients`` concurrent smtplib clients, one connection each."""
    corpus = make_corpus(round(total / 0.6))
    raws = [crlf(render_original(o)) for o in corpus.originals[:total]]
    with tempfile.TemporaryDirectory(prefix="bench-smtp-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(backend, workdir)
        try:
            rt = open_seeded(url, workdir)
            with Serve(url, workdir) as serve:
                accepted = [0] * clients
                barrier = threading.Barrier(clients + 1)

                def client(k: int) -> None:
                    with smtplib.SMTP("127.0.0.1", serve.port, timeout=60) as s:
                        barrier.wait()
                        for raw in raws[k::clients]:
                            s.sendmail("sender@bench.example", [SUPPORT], raw)
                            accepted[k] += 1

                threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
                for t in threads:
                    t.start()
                barrier.wait()
                start = time.perf_counter()
                for t in threads:
                    t.join()
                elapsed = time.perf_counter() - start
                drained = wait_processed(rt, sum(accepted))
            rt.close()
        finally:
            drop_database(url)
    n = sum(accepted)
    return {"accepted": n, "rate": n / elapsed, "processed_rate": n / (elapsed + drained)}


def big_mail(size: int) -> bytes:
    """One mail of about ``size`` bytes on the wire: a short text and one attachment."""
    msg = EmailMessage()
    msg["From"] = "Big Sender <big@files.example>"
    msg["To"] = SUPPORT
    msg["Subject"] = "Log files attached"
    msg["Message-ID"] = f"<big.{uuid.uuid4().hex}@files.example>"
    msg.set_content("Hello,\n\nthe logs you asked for are attached.\n\nRegards")
    # base64 grows it by 4/3, its CRLF line ends by 78/76
    data = random.Random(7).randbytes(size * 3 * 76 // (4 * 78) - 4096)
    msg.add_attachment(data, maintype="application", subtype="zip", filename="logs.zip")
    return crlf(bytes(msg))


def crlf(raw: bytes) -> bytes:
    """SMTP wants CRLF line ends; smtplib sends bytes as they are."""
    return raw.replace(b"\n", b"\r\n")


def run_big(backend: str, size: int = 20 * 1024 * 1024) -> dict[str, Any]:
    """RSS growth of ``ticketgw serve`` accepting and processing one ~20 MiB mail."""
    raw = big_mail(size)
    with tempfile.TemporaryDirectory(prefix="bench-big-") as tmp:
        workdir = Path(tmp)
        url = fresh_database(backend, workdir)
        try:
            rt = open_seeded(url, workdir)
            with Serve(url, workdir) as serve:
                assert serve.proc is not None
                pid = serve.proc.pid
                time.sleep(1.0)  # let start-up settle
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to VmRSS
                before = _status_kb(pid, "VmRSS")
                start = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", serve.port, timeout=120) as s:
                    s.sendmail("big@files.example", [SUPPORT], raw)
                accepted = time.perf_counter() - start
                wait_processed(rt, 1)
                processed = time.perf_counter() - start
                peak = _status_kb(pid, "VmHWM")
            with rt.sessions() as session:
                item = session.scalars(select(InboxItem)).one()
                status, attachments = item.status, item.message_id is not None
            rt.close()
        finally:
            drop_database(url)
    growth = (peak - before) * 1024
    return {
        "size": len(raw),
        "before_mb": before / 1024,
        "peak_mb": peak / 1024,
        "growth_x": growth / len(raw),
        "accept_s": accepted,
        "processed_s": processed,
        "status": status,
        "on_ticket": attachments,
    }


# ---------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------


def median(results: Sequence[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in results)


def spread(results: Sequence[dict[str, Any]], key: str) -> str:
    values = sorted(float(r[key]) for r in results)
    return ", ".join(f"{v:.1f}" for v in values)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--only", default="ingest,cli,smtp,big")
    parser.add_argument("--listener-mails", type=int, default=2000)
    parser.add_argument("--profile", type=Path, help="record the in-process runs with py-spy")
    parser.add_argument(
        "--parse-processes",
        default=f"0,{default_processes()}",
        help="comma-separated parse-ahead process counts to compare (0: parse in-process)",
    )
    args = parser.parse_args(argv)
    modes = list(dict.fromkeys(int(m) for m in args.parse_processes.split(",")))
    backends = args.backends.split(",")
    parts = set(args.only.split(","))
    print(f"nproc {os.cpu_count()}, Python {sys.version.split()[0]}, {args.runs} runs each")
    print(f"machine speed now: {reference_rate():.0f} corpus mails/s parsed by the bare stdlib")
    rows: list[tuple[str, str, str, str, str]] = []

    def row(figure: str, backend: str, value: str, runs: str, target: str) -> None:
        rows.append((figure, backend, value, runs, target))
        print(f"  {figure} [{backend}]: {value} (runs: {runs}) {target}", flush=True)

    for backend in backends:
        if "ingest" in parts:
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                run_inprocess(backend, args.mails, modes[-1], args.profile)
            by_mode: dict[int, list[dict[str, Any]]] = {m: [] for m in modes}
            for _ in range(args.runs):  # modes alternate, so a noisy minute hits both
                for mode in modes:
                    by_mode[mode].append(run_inprocess(backend, args.mails, mode))
                    print(f"    run (parse ahead {mode}): {json.dumps(by_mode[mode][-1])}")
            target = f">= {TARGETS['ingest_pg']:.0f}" if backend == "postgresql" else ""
            for mode, res in by_mode.items():
                how = f"parse ahead in {mode} process(es)" if mode else "parse in-process"
                row(
                    f"ingest mails/s, {how}",
                    backend,
                    f"{median(res, 'rate'):.0f}",
                    spread(res, "rate"),
                    target,
                )
                row(
                    "  of which new requests/s",
                    backend,
                    f"{median(res, 'rate_new'):.0f}",
                    spread(res, "rate_new"),
                    "",
                )
                row(
                    "  of which replies/s",
                    backend,
                    f"{median(res, 'rate_replies'):.0f}",
                    spread(res, "rate_replies"),
                    "",
                )
                row(
                    f"  peak RSS MB ({args.mails:,} mails held rendered)",
                    backend,
                    f"{median(res, 'peak_rss_kb') / 1024:.0f}",
                    ", ".join(f"{r['peak_rss_kb'] / 1024:.0f}" for r in res),
                    f"< {TARGETS['rss_mb']:.0f}",
                )
            res = by_mode[modes[-1]]
            r0 = res[0]
            row(
                "threading accuracy",
                backend,
                f"{r0['replies_right']}/{r0['replies']}",
                f"wrong by mode {r0['wrong_by_mode']}",
                "",
            )
            row(
                "auto-replies that opened a ticket",
                backend,
                f"{r0['auto_opened']}/{r0['auto_replies']}",
                "",
                "must be 0",
            )
            row(
                "tickets / outbox rows / held / failed",
                backend,
                f"{r0['tickets']} / {r0['outbox_rows']} / {r0['held']} / {r0['failed']}",
                "",
                "",
            )
        if "cli" in parts:
            res = [run_cli(backend, args.mails) for _ in range(args.runs)]
            for r in res:
                print(f"    run: {json.dumps(r)}", flush=True)
            row(
                "ticketgw mail ingest mails/s",
                backend,
                f"{median(res, 'rate'):.0f}",
                spread(res, "rate"),
                "",
            )
            row(
                "peak RSS MB (ticketgw mail ingest)",
                backend,
                f"{median(res, 'peak_rss_kb') / 1024:.0f}",
                ", ".join(f"{r['peak_rss_kb'] / 1024:.0f}" for r in res),
                f"< {TARGETS['rss_mb']:.0f}",
            )
            row(
                "threading accuracy (CLI)",
                backend,
                f"{res[0]['replies_right']}/{res[0]['replies']}",
                f"wrong by mode {res[0]['wrong_by_mode']}",
                "",
            )
        if "smtp" in parts:
            res = [run_listener(backend, args.listener_mails) for _ in range(args.runs)]
            row(
                "listener accepted mails/s (8 clients)",
                backend,
                f"{median(res, 'rate'):.0f}",
                spread(res, "rate"),
                f">= {TARGETS['listener']:.0f}",
            )
            row(
                "  accepted and processed mails/s",
                backend,
                f"{median(res, 'processed_rate'):.0f}",
                spread(res, "processed_rate"),
                "",
            )
        if "big" in parts:
            res = [run_big(backend) for _ in range(args.runs)]
            for r in res:
                print(f"    run: {json.dumps(r)}", flush=True)
            row(
                "20 MiB mail: RSS growth / size",
                backend,
                f"{median(res, 'growth_x'):.2f}x",
                spread(res, "growth_x"),
                f"< {TARGETS['big_growth']:.0f}x",
            )
            ok = all(r["status"] == "done" and r["on_ticket"] for r in res)
            row(
                "20 MiB mail processed onto a ticket",
                backend,
                "yes" if ok else "NO",
                f"{median(res, 'processed_s'):.1f} s",
                "",
            )

    widths = [
        max(len(r[i]) for r in [*rows, ("figure", "db", "median", "runs", "target")])
        for i in range(5)
    ]
    print()
    for r in [("figure", "db", "median", "runs", "target"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _url, _dir, _total = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(inprocess_child(_url, _dir, _total, int(sys.argv[5]))))
    else:
        main()
