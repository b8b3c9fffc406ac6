"""The entry point itself: installed script, --version, --help everywhere, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
import pytest

from admin_cli.main import cli
from tests.cli.conftest import Ticketgw, assert_fails, assert_ok

SCRIPT = Path(sys.executable).parent / "ticketgw"


def _all_command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += _all_command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def _script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_script_version_and_exit_codes(env: dict[str, str]) -> None:
    assert SCRIPT.exists(), "the console script is not installed: pip install -e ."
    shown = _script(env, "--version")
    assert shown.returncode == 0
    assert shown.stdout.strip() == f"ticketgw, version {version('ticket-gateway')}"

    assert _script(env, "db", "upgrade").returncode == 0
    added = _script(env, "agents", "add", "ann@example.com", "--name", "Ann")
    assert (added.returncode, added.stdout.strip()) == (0, "added agent ann@example.com (agent)")

    duplicate = _script(env, "agents", "add", "ann@example.com", "--name", "Ann")
    assert duplicate.returncode == 2
    assert duplicate.stderr == "error: agent ann@example.com already exists\n"

    missing = _script(env, "tickets", "show", "T-000042")
    assert (missing.returncode, missing.stderr) == (2, "error: no ticket T-000042\n")

    usage = _script(env, "no-such-command")
    assert usage.returncode == 2
    assert "Traceback" not in usage.stderr


def test_illegal_status_change_exits_1_through_the_script(env: dict[str, str]) -> None:
    _script(env, "demo")
    assert _script(env, "tickets", "status", "T-000002", "closed").returncode == 0
    reopened = _script(env, "tickets", "status", "T-000002", "open")
    assert reopened.returncode == 1
    assert reopened.stderr == "error: T-000002 cannot go from closed to open\n"


@pytest.mark.parametrize("path", _all_command_paths(cli), ids=lambda p: " ".join(p) or "ticketgw")
def test_help_on_every_level(ticketgw: Ticketgw, path: tuple[str, ...]) -> None:
    run = assert_ok(ticketgw(*path, "--help"))
    assert run.stdout.startswith("Usage: ")


def test_version(ticketgw: Ticketgw) -> None:
    assert ticketgw("--version").stdout == f"ticketgw, version {version('ticket-gateway')}\n"


def test_bad_setting_is_one_line_exit_2(ticketgw: Ticketgw, env: dict[str, str]) -> None:
    env["TICKETGW_SMTP_LISTEN"] = "nonsense"
    assert_fails(ticketgw("config", "show"), 2, "TICKETGW_SMTP_LISTEN: expected HOST:PORT")


def test_unmigrated_database_says_what_to_run(
    ticketgw: Ticketgw, env: dict[str, str], tmp_path: Path
) -> None:
    env["TICKETGW_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert_fails(ticketgw("agents", "list"), 1, "run `ticketgw db upgrade` first")


def test_usage_errors_exit_2(ticketgw: Ticketgw) -> None:
    for args in (("frobnicate",), ("agents", "add", "a@example.com"), ("tickets", "list", "--x")):
        run = ticketgw(*args)
        assert run.exit_code == 2, args
        assert "Traceback" not in run.stderr
        assert "Error:" in run.stderr


def test_unreachable_database_is_one_line_exit_1(ticketgw: Ticketgw, env: dict[str, str]) -> None:
    env["TICKETGW_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    assert_fails(ticketgw("tickets", "list"), 1, "cannot use the database")
