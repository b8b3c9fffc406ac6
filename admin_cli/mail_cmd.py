"""``ticketgw mail``: explain and import mail, and look after the durable inbox."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import select

from admin_cli.context import runtime, transaction
from admin_cli.output import done, echo, err_console, iso, json_line, print_json, print_table
from admin_cli.params import ROW_ID
from gateway.errors import InvalidInput
from gateway.inbound import inbox as inbox_ops
from gateway.inbound.mailfiles import count_mails, iter_mails
from gateway.inbound.parse_ahead import default_processes, parse_ahead
from gateway.pipeline.batch import ITEMS_PER_BATCH, ItemOutcome, ingest_batch, process_pending
from gateway.pipeline.explain import explain as explain_mail
from schema.models import InboxItem
from schema.models.inbox import INBOX_STATUSES


@click.group()
def mail() -> None:
    """Explain and import mail; list, retry and discard inbox items."""


@mail.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (JSON Lines).")
def explain(files: tuple[str, ...], as_json: bool) -> None:
    """Show what would happen to each mail FILE, changing nothing."""
    rt = runtime()
    for path in files:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            result: dict[str, Any] = {"file": path, "error": exc.strerror or str(exc)}
        else:
            with rt.sessions() as session:
                result = {"file": path, **explain_mail(session, rt.settings, raw)}
                session.rollback()
        if as_json:
            json_line(result, sys.stdout)
        else:
            _print_explanation(result)


def _print_explanation(r: dict[str, Any]) -> None:
    if "error" in r:
        echo(f"{r['file']}: cannot read: {r['error']}")
        return
    thread = r["thread"]
    target = thread["ticket"] or (
        f"follow-up of {thread['follows_up']}" if thread["follows_up"] else ""
    )
    lines = [
        f"{r['file']}",
        f"  from:      {r['from']}",
        f"  subject:   {r['subject']}",
        f"  kind:      {r['classification']['kind']} ({r['classification']['reason']})",
        f"  decision:  {thread['decision']} {target}".rstrip(),
        f"  because:   {thread['reason']}",
    ]
    if r["author"]["kind"]:
        lines.append(f"  author:    {r['author']['kind']} ({r['author']['reason']})")
    if r["attachments"]:
        names = ", ".join(f"{a['filename']} ({a['size']} B)" for a in r["attachments"])
        lines.append(f"  files:     {names}")
    if r["defects"]:
        lines.append(f"  defects:   {'; '.join(r['defects'])}")
    text = r["text"] if len(r["text"]) <= 300 else r["text"][:300] + "..."
    lines.append("  text:      " + text.replace("\n", "\n             "))
    echo("\n".join(lines))


@mail.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def ingest(paths: tuple[str, ...], as_json: bool) -> None:
    """Import .eml files, Maildir folders and mbox files, in order."""
    rt = runtime(migrate=True)
    total = count_mails(paths)
    counts: Counter[str] = Counter()
    mails = iter_mails(paths)
    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err_console(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task("mail", total=total)
        for batch, parsed in parse_ahead(_batches(mails, ITEMS_PER_BATCH), default_processes()):
            with rt.transaction() as session:
                outcomes = ingest_batch(session, rt.settings, batch, parsed)
            counts.update(_category(o) for o in outcomes)
            progress.advance(task, len(outcomes))
    summary = {key: counts.get(key, 0) for key in CATEGORIES}
    summary["mails"] = sum(counts.values())
    if as_json:
        print_json(summary)
    else:
        print_table(
            ("", "count"), [("mails", summary["mails"]), *((k, summary[k]) for k in CATEGORIES)]
        )
    if counts["failed"]:
        raise click.exceptions.Exit(1)


CATEGORIES = ("new_tickets", "replies", "automatic", "duplicates", "ignored", "failed")


def _category(outcome: ItemOutcome) -> str:
    if outcome.status == "failed":
        return "failed"
    if outcome.status == "duplicate":
        return "duplicates"
    if outcome.kind in {"auto_reply", "bounce"}:
        return "automatic"
    if outcome.new_ticket:
        return "new_tickets"
    if outcome.decision == "reply":
        return "replies"
    return "ignored"


def _batches(items: Iterator[tuple[bytes, str]], size: int) -> Iterator[list[tuple[bytes, str]]]:
    while batch := list(islice(items, size)):
        yield batch


@mail.command()
@click.argument("mailbox")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day to read again (YYYY-MM-DD), by the server's arrival date.",
)
@click.option("--folder", help="Folder to read (default: the mailbox's own, e.g. Processed).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def backfill(mailbox: str, since: datetime, folder: str | None, as_json: bool) -> None:
    """Read MAILBOX's mail since a date again; what is stored already is skipped.

    The folder is opened read-only: nothing is moved, flagged or deleted, and the
    mailbox's checkpoint stays. New mails are processed before the command ends.
    """
    from gateway.imap.backfill import backfill as read_again
    from gateway.imap.mailboxes import get_mailbox, mailbox_config

    rt = runtime(migrate=True)
    with rt.sessions() as session:
        config = mailbox_config(session, get_mailbox(session, mailbox))
    result = read_again(config, rt, since.date(), folder=folder)
    outcomes = process_pending(rt.sessions, rt.settings) if result.stored else []
    failed = sum(1 for o in outcomes if o.status == "failed")
    summary = {
        "mailbox": mailbox,
        "folder": result.folder,
        "mails": result.mails,
        "new": result.stored,
        "duplicates": result.duplicates,
        "unreadable": len(result.skipped),
        "failed": failed,
    }
    if as_json:
        print_json(summary)
    else:
        print_table(("", "count"), [(k, summary[k]) for k in list(summary)[2:]])
    for line in result.skipped:
        click.echo(f"  not read: {line}", err=True)
    if failed or result.skipped:
        raise click.exceptions.Exit(1)


@mail.group()
def inbox() -> None:
    """The durable inbox: every mail and SMS as received, with what became of it."""


def _row(item: InboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "received_at": iso(item.received_at),
        "channel": item.channel,
        "source": item.source,
        "status": item.status,
        "held": item.held,
        "sender": item.sender,
        "size": item.size,
        "classification": item.classification,
        "classification_reason": item.classification_reason,
        "thread_decision": item.thread_decision,
        "thread_reason": item.thread_reason,
        "ticket_id": item.ticket_id,
        "failed_step": item.failed_step,
        "reason": item.reason,
        "defects": item.defects or [],
        "attempts": item.attempts,
    }


@inbox.command("list")
@click.option("--status", type=click.Choice([*INBOX_STATUSES, "held"]), help="Only these items.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def inbox_list(status: str | None, limit: int, as_json: bool) -> None:
    """List inbox items, newest first."""
    query = select(InboxItem).order_by(InboxItem.id.desc()).limit(limit)
    if status == "held":
        query = query.where(InboxItem.held.is_(True))
    elif status:
        query = query.where(InboxItem.status == status)
    with runtime().sessions() as session:
        rows = [_row(i) for i in session.scalars(query)]
    if as_json:
        print_json(rows)
        return
    print_table(
        ("id", "received", "status", "from", "kind", "decision", "ticket", "reason"),
        (
            (
                r["id"],
                r["received_at"],
                r["status"] + (" (held)" if r["held"] else ""),
                r["sender"],
                r["classification"],
                r["thread_decision"],
                f"T-{r['ticket_id']:06d}" if r["ticket_id"] else None,
                r["reason"] or r["thread_reason"],
            )
            for r in rows
        ),
    )


@inbox.command("show")
@click.argument("item_id", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True)
@click.option("--raw", is_flag=True, help="Print the raw mail or SMS form as received.")
def inbox_show(item_id: int, as_json: bool, raw: bool) -> None:
    """Show one inbox item and every decision made about it."""
    with runtime().sessions() as session:
        item = inbox_ops.get_item(session, item_id)
        if raw:
            sys.stdout.buffer.write(item.raw)
            return
        row = _row(item)
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        if isinstance(value, list):
            value = "; ".join(value)
        echo(f"{key + ':':22} {'-' if value is None or value == '' else value}")


@inbox.command("retry")
@click.argument("item_id", type=ROW_ID, required=False)
@click.option("--all-failed", is_flag=True, help="Retry every failed item.")
def inbox_retry(item_id: int | None, all_failed: bool) -> None:
    """Run a failed item (or every failed item) through the pipeline again."""
    if (item_id is None) == (not all_failed):
        raise InvalidInput("give an item ID or --all-failed, not both")
    rt = runtime()
    with transaction() as session:
        if all_failed:
            ids = list(session.scalars(select(InboxItem.id).where(InboxItem.status == "failed")))
        else:
            ids = [item_id] if item_id is not None else []
        for one in ids:
            inbox_ops.retry_item(session, one)
    outcomes = process_pending(rt.sessions, rt.settings)
    still = [o for o in outcomes if o.status == "failed"]
    done(
        f"retried {len(ids)} item(s): {len(ids) - len(still)} processed, {len(still)} failed again"
    )
    for outcome in still:
        echo(f"  {outcome.item_id}: {outcome.reason}", err=True)
    if still:
        raise click.exceptions.Exit(1)


@inbox.command("discard")
@click.argument("item_id", type=ROW_ID)
def inbox_discard(item_id: int) -> None:
    """Give up on a failed or pending item; the raw mail stays stored."""
    with transaction() as session:
        inbox_ops.discard(session, item_id)
    done(f"inbox item {item_id} discarded")
