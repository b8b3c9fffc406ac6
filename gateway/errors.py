"""One exception hierarchy for the gateway; names say what went wrong, for whom."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose. ``str(err)`` is user-facing."""

    exit_code = 1


class ConfigError(GatewayError):
    """A setting is missing or invalid; the message names the variable."""

    exit_code = 2


class InvalidInput(GatewayError):
    """The caller asked for something malformed (bad duration, unknown priority...)."""

    exit_code = 2


class NotFound(GatewayError):
    """An agent, queue, policy, ticket or item named by the caller does not exist."""

    exit_code = 2


class Conflict(GatewayError):
    """The request clashes with what is stored (duplicate address, existing agent...)."""

    exit_code = 2


class IllegalTransition(GatewayError):
    """A ticket change that its current state does not allow (closed -> pending...)."""

    exit_code = 1


class Refused(GatewayError):
    """Inbound input refused at the door (unknown recipient, too large, bad signature)."""


class Quarantine(GatewayError):
    """Inbound input accepted but not processable; parked in the inbox with its reason."""


class NotAParticipant(GatewayError):
    """Someone tried to write into or act on a ticket that is not theirs."""


class CannotListen(GatewayError):
    """A listener cannot bind its address (in use, not ours); the message names the setting."""


def one_line(exc: BaseException, limit: int = 500) -> str:
    """``Type: first line of the message``, for reasons stored on rows and error lines.

    A database error's ``str()`` holds the whole SQL statement and every parameter (a
    mail's text among them) over several lines; only the driver's first line says what
    went wrong, so that is all that is kept.
    """
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    first = lines[0].strip() if lines else ""
    return f"{type(exc).__name__}: {first}"[:limit] if first else type(exc).__name__
