"""``#commands`` on the first lines of an agent's reply: parsed here, applied by ingest.

Commands come before any text: ``#note`` (the rest is an internal note), ``#close``,
``#resolve``, ``#pending``, ``#open``, ``#assign EMAIL|me``, ``#priority P``. Parsing is pure;
an unknown or malformed command is an error, and a reply with any error runs no command
and relays nothing (the agent gets an error mail instead), because half-applying what an
agent typed is worse than applying none of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway import tickets
from gateway.audit import agent_actor
from schema.models import Agent, Ticket
from schema.models.queues import PRIORITIES

STATUS_COMMANDS = {"close": "closed", "resolve": "resolved", "pending": "pending", "open": "open"}
_KNOWN = ("note", *STATUS_COMMANDS, "assign", "priority")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    argument: str = ""


@dataclass(frozen=True, slots=True)
class ParsedReply:
    commands: tuple[Command, ...]
    text: str  # what is left to relay (or, after #note, the note)
    internal: bool  # #note: the text is an internal note, never relayed
    errors: tuple[str, ...]


def parse_commands(text: str) -> ParsedReply:
    lines = text.strip().splitlines()
    commands: list[Command] = []
    errors: list[str] = []
    internal = False
    index = 0
    while index < len(lines) and lines[index].strip().startswith("#"):
        line = lines[index].strip()
        index += 1
        name, _, argument = line[1:].partition(" ")
        name, argument = name.lower(), argument.strip()
        if name == "note":
            internal = True
            if argument:  # "#note text on the same line" is part of the note
                lines.insert(index, argument)
            break
        error = _check(name, argument)
        if error:
            errors.append(f"{line}: {error}")
        else:
            commands.append(Command(name, argument))
    rest = "\n".join(lines[index:]).strip()
    return ParsedReply(tuple(commands), rest, internal, tuple(errors))


def _check(name: str, argument: str) -> str | None:
    if name not in _KNOWN:
        return f"unknown command; use one of {', '.join('#' + k for k in _KNOWN)}"
    if name in STATUS_COMMANDS and argument:
        return f"#{name} takes no argument"
    if name == "assign" and (not argument or " " in argument):
        return "use #assign EMAIL or #assign me"
    if name == "priority" and argument.lower() not in PRIORITIES:
        return f"use #priority {'|'.join(PRIORITIES)}"
    return None


def apply(session: Session, ticket: Ticket, agent: Agent, commands: tuple[Command, ...]) -> None:
    """Run the commands as ``agent``; raises a GatewayError for one that is not allowed."""
    actor = agent_actor(agent.email)
    for command in commands:
        if command.name in STATUS_COMMANDS:
            tickets.change_status(session, ticket, STATUS_COMMANDS[command.name], actor=actor)
        elif command.name == "assign":
            target = agent.email if command.argument.lower() == "me" else command.argument
            tickets.assign(session, ticket, target, actor=actor)
        elif command.name == "priority":
            tickets.change_priority(session, ticket, command.argument.lower(), actor=actor)
