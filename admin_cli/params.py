"""Argument types shared by the commands."""

from __future__ import annotations

import click

# Row ids are 32-bit integers in both databases: a larger number is bad input (exit 2),
# not a driver's overflow error.
ROW_ID = click.IntRange(1, 2**31 - 1)
