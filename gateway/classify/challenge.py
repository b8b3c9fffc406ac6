"""Challenge/response requests: "please confirm you are human before I accept your mail".

They are written by a program on the recipient's behalf and often dress up as a bounce
(Boxbe even sends a ``multipart/report`` with ``Action: failed``), but the address works:
the mail waits for a click. Marking the address as bounced would be wrong, answering it
would be a loop, so they are automatic replies. The bounce rule asks this module first
and steps aside; the auto-reply rule then claims the mail.
"""

from __future__ import annotations

import re

from gateway.classify.view import MailView

# Services whose only mail to us is the challenge itself; matched on the sender's domain
# so the common case needs no body decoding.
SERVICES = frozenset(
    {"boxbe.com", "bluebottle.com", "spamarrest.com", "mailblocks.com", "sendio.com", "qurb.com"}
)

_WORDING = re.compile(
    r"sender not pre-approved|verify (?:that )?you are (?:a )?human|"
    r"(?:click|follow)[^.]{0,80}(?:allowed|approved|guest|white) ?list|"
    r"(?:confirm|verify) (?:your|that you) (?:e-?mail|message|sent)|"
    r"awaiting (?:your )?(?:authentication|verification)|challenge[/ -]response",
    re.I,
)


def _domain(value: str) -> str:
    return value.strip().strip("<>").rpartition("@")[2].lower().rstrip(">")


def from_service(mail: MailView, sender: str) -> str | None:
    """The challenge service the mail comes from, judged by sender and Return-Path."""
    for address in (sender, mail.header("return-path")):
        domain = _domain(address)
        if domain in SERVICES or domain.endswith(tuple("." + s for s in SERVICES)):
            return domain
    return None


def is_challenge(mail: MailView, sender: str) -> bool:
    """Sender domain first; the body wording only for mails already suspected of being reports."""
    return from_service(mail, sender) is not None or bool(_WORDING.search(mail.text[:20000]))
