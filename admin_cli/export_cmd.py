"""``ticketgw tickets export``: every ticket as JSON Lines, in constant memory.

The record of each line is ``gateway.export.ticket_record``'s, the same as
``tickets show --json``.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import IO

import click
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from admin_cli.context import runtime
from admin_cli.output import err_console, json_line
from gateway.export import count_ticket_records, iter_ticket_records


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date, e.g. 2026-11-01 or 2026-11-01T08:00Z"
        ) from None
    # A bare date or time without an offset is read as UTC, like every time we print.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@click.command("export")
@click.option(
    "--since",
    callback=_since,
    metavar="DATE",
    help="Only tickets created or changed since DATE (ISO 8601, UTC unless an offset is given).",
)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    metavar="FILE",
    help="Write to FILE instead of stdout.",
)
def export(since: datetime | None, output: IO[str]) -> None:
    """Export tickets as JSON Lines.

    One ticket a line, with its messages, their Message-IDs and its audit trail.

    Streams in batches, so memory stays flat for any number of tickets. A count of what
    was written goes to stderr.
    """
    console = err_console()
    count = 0
    with runtime().sessions() as session:
        total = count_ticket_records(session, since)
        progress = Progress(
            SpinnerColumn(),
            TextColumn("exporting"),
            MofNCompleteColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        try:
            with progress:
                task = progress.add_task("export", total=total)
                for record in iter_ticket_records(session, since):
                    json_line(record, output)
                    count += 1
                    progress.advance(task)
            output.flush()
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as Unix tools do. Point stdout
            # at /dev/null so the interpreter's final flush does not fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
    where = "" if getattr(output, "name", "-") in {"-", "<stdout>"} else f" to {output.name}"
    click.echo(f"exported {count} tickets{where}", err=True)
