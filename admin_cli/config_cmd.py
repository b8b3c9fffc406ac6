"""``ticketgw config``: the effective settings."""

from __future__ import annotations

import click

from admin_cli.output import print_json, print_table
from gateway.config import PREFIX, load_settings


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (keys: setting names).")
def show(as_json: bool) -> None:
    """Print the effective settings, secrets masked.

    Values come from TICKETGW_* variables, then the TOML file named by TICKETGW_CONFIG,
    then the defaults. An empty secret_key is generated into the data dir on first run.
    """
    settings = load_settings().masked()
    if as_json:
        print_json(settings)
        return
    if not settings["secret_key"]:
        settings["secret_key"] = "(generated into the data dir on first run)"
    rows = [(f"{PREFIX}{name.upper()}", value) for name, value in sorted(settings.items())]
    print_table(("variable", "value"), rows)
