"""Every error the CLI prints is one line, never an SQL statement or its parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from gateway.errors import one_line
from gateway.runtime import Runtime
from schema.models import InboxItem
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok
from tests.hostile.test_text_boundary import MAILS


def test_a_database_error_is_one_line_without_the_statement(runtime: Runtime) -> None:
    with runtime.sessions() as session, pytest.raises(SQLAlchemyError) as raised:
        session.execute(text("SELECT * FROM no_such_table WHERE x = :w"), {"w": "secret text"})
    line = one_line(raised.value)
    assert "\n" not in line
    assert "SELECT" not in line
    assert "secret text" not in line


def test_an_id_out_of_range_is_bad_input(ticketgw: Ticketgw, runtime: Runtime) -> None:
    run = ticketgw("mail", "inbox", "show", "99999999999999999999")
    assert run.exit_code == 2
    assert run.stderr.splitlines()[-1].startswith("Error: Invalid value for 'ITEM_ID'")
    assert "SELECT" not in run.stderr


def test_retry_of_an_item_parked_by_a_nul_processes_it(
    ticketgw: Ticketgw, runtime: Runtime
) -> None:
    reason = "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes\n[SQL: INSERT ...]"
    with runtime.transaction() as session:
        session.add(
            InboxItem(
                id=7, channel="email", source="smtp", dedupe_key="mid:nul-subject@example.org",
                raw=MAILS["nul-in-subject"], size=len(MAILS["nul-in-subject"]),
                status="failed", failed_step="store", reason=reason,
            )
        )  # fmt: skip
    run = assert_ok(ticketgw("mail", "inbox", "retry", "7"))
    assert run.stdout == "retried 1 item(s): 1 processed, 0 failed again\n"
    shown = assert_ok(ticketgw("mail", "inbox", "show", "7", "--json")).json()
    assert shown["status"] == "done"
    assert_fails(ticketgw("mail", "inbox", "retry", "7"), 1, "only failed or ignored items")


def test_a_ticket_number_out_of_range_is_not_found(ticketgw: Ticketgw, runtime: Runtime) -> None:
    assert_fails(ticketgw("tickets", "show", "T-999999999999"), 2, "no ticket T-999999999999")
