"""The runtime of one command, opened on first use and closed when the command ends.

Settings are read from ``os.environ`` at that moment, not at import, so ``--help`` and
``--version`` work without a database and tests can point each invocation elsewhere.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import click
from sqlalchemy.orm import Session

from gateway.config import load_settings
from gateway.runtime import Runtime, open_runtime

_KEY = "ticketgw.runtime"


def runtime(*, migrate: bool = False) -> Runtime:
    """The command's runtime; ``migrate`` brings the database to head first (and seeds it)."""
    ctx = click.get_current_context()
    rt: Runtime | None = ctx.meta.get(_KEY)
    if rt is None:
        rt = open_runtime(load_settings(), migrate=migrate)
        ctx.meta[_KEY] = rt
        ctx.find_root().call_on_close(rt.close)
    return rt


def transaction() -> AbstractContextManager[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    return runtime().transaction()
