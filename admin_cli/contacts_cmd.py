"""``ticketgw contacts``: customers, their addresses and numbers, SMS opt-outs, links."""

from __future__ import annotations

from typing import Any

import click

from admin_cli.context import transaction
from admin_cli.output import done, iso, print_json, print_table
from gateway import contact_links as domain
from gateway.identities import normalize_phone
from gateway.sms import optout
from schema.models import Contact

CONTACT_HELP = "An email address, a phone number (+14155552671) or #ID."


def contact_record(contact: Contact, tickets: int) -> dict[str, Any]:
    """JSON keys of `contacts list --json`."""
    emails = sorted(i.value for i in contact.identities if i.kind == "email")
    phones = [i for i in contact.identities if i.kind == "phone"]
    return {
        "id": contact.id,
        "name": contact.name,
        "emails": emails,
        "phones": [
            {"number": p.value, "sms_opted_out_at": iso(p.sms_opted_out_at)}
            for p in sorted(phones, key=lambda p: p.value)
        ],
        "tickets": tickets,
        "created_at": iso(contact.created_at),
    }


def _opt_out_cell(record: dict[str, Any]) -> str:
    return ", ".join(
        f"{p['number']} since {p['sms_opted_out_at']}"
        for p in record["phones"]
        if p["sms_opted_out_at"]
    )


@click.group()
def contacts() -> None:
    """List and show customers, link an email and a phone as one person, SMS opt-outs."""


@contacts.command("list")
@click.option("--opted-out", is_flag=True, help="Only contacts with a number that opted out.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print JSON, newest first.")
def list_(opted_out: bool, limit: int, as_json: bool) -> None:
    """Contacts, newest first."""
    with transaction() as session:
        found = domain.list_contacts(session, opted_out=opted_out, limit=limit)
        counts = domain.ticket_counts(session, [c.id for c in found])
        records = [contact_record(c, counts.get(c.id, 0)) for c in found]
    if as_json:
        print_json(records)
        return
    print_table(
        ("id", "name", "email", "phone", "tickets", "SMS opted out"),
        (
            (
                f"#{r['id']}",
                r["name"],
                r["emails"],
                [p["number"] for p in r["phones"]],
                r["tickets"],
                _opt_out_cell(r),
            )
            for r in records
        ),
    )


@contacts.command("show")
@click.argument("contact")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(contact: str, as_json: bool) -> None:
    """One contact: addresses, numbers, opt-out state and tickets. CONTACT: email, phone, #ID."""
    with transaction() as session:
        found = domain.get_contact(session, contact)
        tickets = domain.tickets_of(session, found)
        record = contact_record(found, len(tickets))
        record["ticket_list"] = [
            {
                "reference": t.reference,
                "status": t.status,
                "channel": t.channel,
                "subject": t.subject,
            }
            for t in tickets
        ]
    if as_json:
        print_json(record)
        return
    click.echo(f"contact #{record['id']} {record['name'] or ''}".rstrip())
    for email in record["emails"]:
        click.echo(f"  email  {email}")
    for phone in record["phones"]:
        since = phone["sms_opted_out_at"]
        state = f"opted out of SMS since {since}" if since else "SMS allowed"
        click.echo(f"  phone  {phone['number']} ({state})")
    print_table(
        ("ticket", "status", "channel", "subject"),
        ((t["reference"], t["status"], t["channel"], t["subject"]) for t in record["ticket_list"]),
    )


@contacts.command("link")
@click.argument("first")
@click.argument("second")
def link(first: str, second: str) -> None:
    """Make FIRST and SECOND (email, phone or #ID) one person who shares tickets."""
    with transaction() as session:
        contact, changed = domain.link(session, first, second)
        names = sorted(i.value for i in contact.identities)
    if not changed:
        done(f"already one contact: #{contact.id} ({', '.join(names)})")
        return
    done(f"linked: contact #{contact.id} is {', '.join(names)}")


@contacts.command("optout")
@click.argument("number")
@click.option("--lift", is_flag=True, help="Allow SMS to NUMBER again (as if they texted START).")
def optout_(number: str, lift: bool) -> None:
    """Record that NUMBER opted out of SMS (as if they texted STOP), or --lift it."""
    number = normalize_phone(number)
    with transaction() as session:
        if lift:
            optout.opt_in(session, number)
        else:
            identity = optout.opt_out(session, number)
            since = iso(identity.sms_opted_out_at)
    if lift:
        done(f"{number} may receive SMS again")
    else:
        done(f"{number} opted out of SMS since {since}: no SMS will be sent to it")
