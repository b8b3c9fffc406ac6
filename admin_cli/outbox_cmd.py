"""``ticketgw outbox``: see what was sent, what failed and why, and send it again.

JSON shapes come from ``gateway.outbox.admin.row_record``, with ``segments`` and
``encoding``: an SMS row's length as it was sent, stored on the row by the worker; for an
SMS not sent yet, as the worker would render it now; ``null`` for mail. ``show --json``
adds ``preview`` (the rendered mail or SMS, or ``null`` with ``preview_error``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from admin_cli.context import runtime, transaction
from admin_cli.output import done, print_json, print_table, stdout
from admin_cli.params import ROW_ID
from gateway.config import Settings
from gateway.outbox import admin as outbox_admin
from gateway.outbox.relay import relay_pending
from gateway.runtime import Runtime
from gateway.sla.durations import format_duration, parse_duration
from gateway.sms import overflow
from schema.models import OutboxItem
from schema.models.base import utcnow
from schema.models.outbox import OUTBOX_STATUSES
from workers.broker import setup_broker
from workers.deliver_now import deliver_now
from workers.enqueue import to_broker
from workers.send_email import build_email
from workers.send_sms import BuiltSms, build_sms
from workers.transports.base import PermanentFailure


@click.group()
def outbox() -> None:
    """Notifications waiting, sent, failed and dead; retry the ones that did not go out."""


@outbox.command("list")
@click.option("--status", help=f"Only this status: {', '.join(OUTBOX_STATUSES)}.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=100, show_default=True, help="At most N."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, newest first.")
def list_(status: str | None, limit: int, as_json: bool) -> None:
    """List outbox rows, newest first.

    SMS rows show Twilio's message SID, their length in segments and the delivery status
    Twilio last reported.
    """
    settings = runtime().settings
    with transaction() as session:
        records = []
        for row in outbox_admin.list_rows(session, status, limit):
            record = outbox_admin.row_record(row)
            if row.channel == "sms" and row.segments is None:
                sms = _sms(session, row, settings)
                if isinstance(sms, BuiltSms):
                    record["segments"] = sms.length.segments
                    record["encoding"] = sms.length.encoding
            records.append(record)
    if as_json:
        print_json(records)
        return
    print_table(
        (
            "id",
            "status",
            "channel",
            "recipient",
            "template",
            "attempts",
            "segments",
            "delivery",
            "provider id",
            "updated",
            "last error",
        ),
        (
            (
                r["id"],
                r["status"],
                r["channel"],
                r["recipient"],
                r["template"],
                r["attempts"],
                r["segments"] if r["segments"] is not None else "",
                r["delivery_status"] or "",
                (r["provider_id"] or "")[:40],
                r["updated_at"],
                (r["last_error"] or "")[:80],
            )
            for r in records
        ),
    )


def _sms(session: Session, row: OutboxItem, settings: Settings) -> BuiltSms | PermanentFailure:
    """The SMS the worker sends for ``row`` (a reply cut to fit ends as it does), or why not."""
    try:
        built = build_sms(row, settings)
        if built.cut:  # the note it ends with depends on where the rest goes
            built = build_sms(row, settings, email=overflow.rest_goes_to(session, row))
    except PermanentFailure as exc:
        return exc
    return built


def _preview(
    session: Session, row: OutboxItem, settings: Settings
) -> tuple[str | None, str | None]:
    """The rendered notification as text, or why it cannot be rendered."""
    if row.channel == "sms":
        sms = _sms(session, row, settings)
        if isinstance(sms, PermanentFailure):
            return None, str(sms)
        return sms.sms.body, None
    try:
        mail = build_email(row, settings)
    except PermanentFailure as exc:
        return None, str(exc)
    head = "".join(f"{k}: {v}\n" for k, v in mail.items() if not k.startswith("Content"))
    body = mail.get_body(("plain",))
    return head + "\n" + (body.get_content() if body else ""), None


@outbox.command("show")
@click.argument("row_id", metavar="ID", type=ROW_ID)
@click.option("--json", "as_json", is_flag=True, help="Print the row as JSON.")
def show(row_id: int, as_json: bool) -> None:
    """Show one row: status, attempts, last error, provider id and a rendered preview."""
    settings = runtime().settings
    with transaction() as session:
        row = outbox_admin.get_row(session, row_id)
        record: dict[str, Any] = outbox_admin.row_record(row)
        sms = _sms(session, row, settings) if row.channel == "sms" else None
        if isinstance(sms, BuiltSms):
            if row.segments is None:  # not sent yet: as the worker would send it now
                record["segments"], record["encoding"] = sms.length.segments, sms.length.encoding
            if sms.full is not None:
                record["cut_from_segments"] = sms.full.segments
        record["preview"], record["preview_error"] = _preview(session, row, settings)
    if as_json:
        print_json(record)
        return
    console = stdout()
    for key in ("id", "status", "channel", "recipient", "template", "locale", "attempts"):
        console.print(f"{key}: {record[key] if record[key] is not None else '-'}", markup=False)
    if record.get("segments") is not None:
        length = f"{record['segments']} ({record['encoding']})"
        if row.segments is None and isinstance(sms, BuiltSms):
            length = f"{sms.length.segments} ({sms.length.units} {sms.length.encoding} characters)"
            length += ", not sent yet"
        if isinstance(sms, BuiltSms) and sms.full is not None:
            length += f", cut from {sms.full.segments} to fit TICKETGW_SMS_MAX_SEGMENTS"
        console.print(f"segments: {length}", markup=False)
    for key in ("last_error", "provider_id", "delivery_status", "message_id", "next_attempt_at"):
        console.print(f"{key}: {record[key] or '-'}", markup=False)
    for key in ("created_at", "updated_at", "sent_at"):
        console.print(f"{key}: {record[key] or '-'}", markup=False)
    if record["preview"] is None:
        console.print(f"\n(no preview: {record['preview_error']})", markup=False)
    else:
        console.print("\n" + record["preview"], markup=False)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@outbox.command("retry")
@click.argument("row_id", metavar="ID", type=ROW_ID, required=False)
@click.option("--status", type=click.Choice(outbox_admin.RETRYABLE), help="Retry every row in it.")
@click.option(
    "--since",
    metavar="DURATION",
    callback=_duration,
    help="With --status: only rows that ended so within DURATION (30m, 2h, 1d).",
)
@click.option("--to", metavar="ADDRESS", help="With --status: only rows to ADDRESS.")
@click.option("--all-dead", is_flag=True, help="Retry every dead row: --status dead --yes.")
@click.option("--yes", is_flag=True, help="Do not ask before retrying many rows.")
def retry(
    row_id: int | None,
    status: str | None,
    since: timedelta | None,
    to: str | None,
    all_dead: bool,
    yes: bool,
) -> None:
    """Send failed or dead rows again, with a fresh attempt budget.

    Either one row by ID, or every row of a --status (optionally --since, --to): the
    matching rows are counted and, unless --yes, confirmed first. With Redis the rows are
    enqueued for the workers at once; without it this command sends them itself (rows of a
    channel not configured here wait for the gateway's next sweep).
    """
    if all_dead:
        status, yes = status or "dead", True
    if (row_id is None) == (status is None) or (all_dead and status != "dead"):
        raise click.UsageError("give either ID, or --status (or --all-dead)")
    if row_id is not None and (since or to):
        raise click.UsageError("--since and --to go with --status, not with ID")
    if row_id is not None:
        with transaction() as session:
            outbox_admin.retry_row(session, row_id)
        done(f"outbox row {row_id} back to pending")
        _send_now([row_id])
        return
    assert status is not None
    selection = outbox_admin.RetrySelection(status, utcnow() - since if since else None, to)
    with transaction() as session:
        count = outbox_admin.count_matching(session, selection)
    if count == 0:
        done(f"no {status} rows{_described(since, to)}: nothing to retry")
        return
    if not yes:
        click.confirm(f"Retry {count} {status} rows{_described(since, to)}?", abort=True)
    with transaction() as session:
        ids = outbox_admin.retry_matching(session, selection)
    done(f"{len(ids)} {status} rows back to pending")
    _send_now(ids)


def _described(since: timedelta | None, to: str | None) -> str:
    parts = [f"from the last {format_duration(since)}" if since else "", f"to {to}" if to else ""]
    return "".join(f" {part}" for part in parts if part)


def _send_now(row_ids: list[int]) -> None:
    """Enqueue for the workers when they listen on Redis; else deliver here and now."""
    rt = runtime()
    if rt.settings.redis_url:
        relay_now(rt)
        return
    outcomes = deliver_now(rt, row_ids)
    if outcomes:
        counted = ", ".join(
            f"{outcomes[s]} {word}" for s, word in _OUTCOME_WORDS.items() if outcomes[s]
        )
        done(f"sent from here: {counted}")


_OUTCOME_WORDS = {
    "sent": "sent",
    "failed": "failed",
    "dead": "dead",
    "pending": "to try again later",
}


def relay_now(rt: Runtime) -> None:
    """Hand pending rows to the workers on Redis now; if Redis is away, the sweep will."""
    broker = setup_broker(rt.settings, runtime=rt)
    try:
        relay_pending(rt.sessions, to_broker(broker))
    except RedisError as exc:
        click.echo(f"warning: Redis unreachable ({exc}); the next sweep sends it", err=True)
    finally:
        broker.close()
