"""Everything the CLI prints: rich tables for people, JSON for scripts.

JSON is indented, keys sorted, times ISO-8601 UTC; JSON Lines are compact, one object a
line. Table cells are plain text: user data never goes through rich's markup parser. Every
string printed goes through ``schema.text.safe_text``: valid UTF-8, no NUL, whatever a
mail carried.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import IO, Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gateway.export import iso
from schema.text import safe_data, safe_text

__all__ = [
    "done",
    "echo",
    "err_console",
    "iso",
    "json_line",
    "print_json",
    "print_table",
    "stdout",
]


# Piped or redirected output is read by grep and diff, not by eyes on an 80-column
# screen: let rows be as wide as their content instead of wrapping them.
_PIPE_WIDTH = 400


def stdout() -> Console:
    # Built per call so it writes to whatever sys.stdout is now (CliRunner swaps it).
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _PIPE_WIDTH
    return console


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def cell(value: object) -> Text:
    if value is None or value == "":
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, list | tuple):
        return Text(safe_text(", ".join(str(v) for v in value)) or "-")
    return Text(safe_text(str(value)))


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None
) -> None:
    """A table with one row per item; ``(none)`` when there are no rows."""
    table = Table(*columns, title=title, title_justify="left", header_style="bold")
    for column in table.columns:
        column.overflow = "fold"  # wrap long addresses instead of cutting them off
    table.columns[0].no_wrap = True  # the key column: a reference or name stays whole
    count = 0
    for row in rows:
        table.add_row(*(cell(v) for v in row))
        count += 1
    if count == 0:
        click.echo("(none)")
        return
    stdout().print(table)


def print_json(data: Any) -> None:
    click.echo(json.dumps(safe_data(data), indent=2, sort_keys=True, ensure_ascii=False))


def json_line(data: Any, file: IO[str]) -> None:
    line = json.dumps(safe_data(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    file.write(line)
    file.write("\n")


def echo(text: str, *, err: bool = False) -> None:
    """Plain lines for people, on stdout (or stderr)."""
    click.echo(safe_text(text), err=err)


def done(message: str) -> None:
    """The one-line confirmation of a change."""
    echo(message)
