"""The delivery boundary: one method, ``send(message) -> provider_id``, and its failures.

Every outside service we deliver through (an SMTP relay, Twilio) is a :class:`Transport`.
It either returns the provider's id for the accepted message or raises one of the two
failures below, which take different roads: a :class:`TemporaryFailure` puts the outbox row
back to ``pending`` with a backoff, a :class:`PermanentFailure` parks it as ``failed`` at once.
The failures are :class:`~gateway.errors.GatewayError` subclasses, so there is still one
exception hierarchy; they live here because only delivery raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from gateway.errors import GatewayError

M_contra = TypeVar("M_contra", contravariant=True)


class DeliveryError(GatewayError):
    """A message could not be handed to the provider; ``str(err)`` becomes ``last_error``."""


class TemporaryFailure(DeliveryError):
    """Worth trying again later: 4xx replies, timeouts, refused connections, HTTP 429/5xx."""


class Unreachable(TemporaryFailure):
    """The provider could not be reached at all (refused, timed out, dropped the link).

    Unlike a deferral of one message, this says nothing good about the next one: a worker
    delivering a batch stops there instead of waiting out a timeout for every row.
    """


class PermanentFailure(DeliveryError):
    """Trying again cannot help: 5xx replies, invalid numbers, broken templates."""


class AddressRefused(PermanentFailure):
    """The provider refused the recipient's address for good: a bounce, like a DSN's.

    The address is marked bouncing (``gateway.bounces``), so that no further automatic mail
    is written to it.
    """

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(reason)
        self.address = address


class NotConfigured(PermanentFailure):
    """The channel has no provider configured; the message names the setting to set."""

    exit_code = 2


class InvalidRecipient(PermanentFailure):
    """The provider says the recipient's address or number cannot exist (Twilio 21211)."""

    exit_code = 2


class RecipientOptedOut(PermanentFailure):
    """The provider refuses the recipient because they opted out (Twilio error 21610)."""


class Transport(Protocol[M_contra]):
    """Hands one message to a provider and returns the provider's id for it."""

    def send(self, message: M_contra) -> str: ...

    def close(self) -> None:
        """Release connections held for reuse (called when a worker thread ends)."""


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One text message, ready for the provider.

    ``sender`` is our number, or a Twilio Messaging Service SID (``MG...``) that picks the
    number itself. ``status_callback`` is where the provider reports delivery; ``media_urls``
    make it an MMS.
    """

    to: str
    sender: str
    body: str
    status_callback: str | None = None
    media_urls: tuple[str, ...] = ()
