"""``ticketgw templates``: list the notification templates and preview them.

Templates come from ``TICKETGW_TEMPLATES_DIR`` first, then the packaged defaults
(:mod:`workers.render`); previews use :mod:`gateway.template_vars`, so they show exactly
what a notification would carry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from admin_cli.context import runtime
from admin_cli.output import print_json, print_table
from gateway import tickets as domain
from gateway.config import load_settings
from gateway.sms.segments import measure
from gateway.template_vars import AUDIENCE, preview_vars, sample_vars
from workers.render import (
    TemplateError,
    TemplateInfo,
    TemplateSource,
    render_email,
    render_sms,
    sources,
    template_names,
)


@click.group()
def templates() -> None:
    """List and preview notification templates.

    A file in TICKETGW_TEMPLATES_DIR (email/NAME.PART.j2, sms/NAME.txt.j2, optionally
    NAME.LOCALE.PART.j2) replaces the packaged one of the same name.
    """


@templates.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_(as_json: bool) -> None:
    """List every template with its parts, locales and whether the user dir overrides it."""
    found = template_names(load_settings().templates_dir)
    if as_json:
        print_json([_info(t) for t in found])
        return
    print_table(
        ("name", "channel", "parts", "locales", "overridden"),
        ((t.name, t.channel, t.parts, ("default", *t.locales), t.overridden) for t in found),
    )


@templates.command("render")
@click.argument("name")
@click.option("--ticket", "ref", metavar="REF", help="Fill in the variables from this ticket.")
@click.option("--locale", metavar="L", help="Render for this language, e.g. de or de-AT.")
def render(name: str, ref: str | None, locale: str | None) -> None:
    """Render template NAME as a recipient would get it: headers, text, then HTML.

    Without --ticket the variables are realistic samples; with it they come from the
    ticket REF and its latest message.
    """
    settings = load_settings()
    info = _find(name, settings.templates_dir)
    if ref is None:
        values = sample_vars(name)
    else:
        with runtime().transaction() as session:
            ticket = domain.get_ticket(session, ref)
            values = preview_vars(
                session, ticket, name, default_address=settings.support_address[0]
            )
            # What the notification would do: the customer's own language.
            if locale is None and AUDIENCE.get(name) == "customer":
                locale = ticket.contact.language
    used = sources(name, channel=info.channel, locale=locale, templates_dir=settings.templates_dir)
    recipient = values["recipient"]
    to = recipient["address"]
    click.echo(f"To: {recipient['name']} <{to}>" if recipient["name"] else f"To: {to}")
    if info.channel == "sms":
        text = render_sms(name, values, locale=locale, templates_dir=settings.templates_dir)
        _echo_sources(locale, used)
        length = measure(text)
        click.echo(
            f"Length: {length.units} {length.encoding} characters, {length.segments} segment(s)\n"
        )
        click.echo(text)
        return
    mail = render_email(name, values, locale=locale, templates_dir=settings.templates_dir)
    click.echo(f"Subject: {mail.subject}")
    _echo_sources(locale, used)
    click.echo("\n----- text/plain -----")
    click.echo(mail.text, nl=False)
    click.echo("----- text/html -----")
    click.echo(mail.html, nl=False)


def _find(name: str, templates_dir: Path | None) -> TemplateInfo:
    for info in template_names(templates_dir):
        if info.name == name:
            return info
    raise TemplateError(f"unknown template {name!r} (see `ticketgw templates list`)")


def _info(t: TemplateInfo) -> dict[str, Any]:
    return {
        "name": t.name,
        "channel": t.channel,
        "parts": list(t.parts),
        "locales": list(t.locales),
        "overridden": t.overridden,
    }


def _echo_sources(locale: str | None, used: list[TemplateSource]) -> None:
    """Which file each part came from: the question an admin editing templates has."""
    click.echo(f"Locale: {locale or '(default)'}")
    for s in used:
        origin = "user dir" if s.overridden else "packaged"
        click.echo(f"Template-{s.part}: {s.name} ({s.locale or 'default'}, {origin}: {s.path})")
