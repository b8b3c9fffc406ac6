"""The keywords carriers require an SMS number to honour (CTIA; Twilio's default lists).

A keyword is the whole message, in any case, with surrounding spaces: "Stop" opts out,
"please stop texting me" is a message for a human. ``YES`` only means "opt in again" to a
number that opted out; to anyone else it is an answer to an agent's question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["opt_out", "opt_in", "help"]

# REVOKE and OPTOUT: Twilio's stop filtering blocks them too since 2025-05-14 (the FCC's
# revocation rule); an opt-out Twilio honours and we did not would leave agents' replies
# failing with 21610 and no word in the ticket.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})  # Twilio answers both with the help text
# Words that opt back in only when there is an opt-out to lift.
ONLY_WHEN_OPTED_OUT = frozenset({"YES"})


@dataclass(frozen=True, slots=True)
class Keyword:
    word: str  # as matched, upper case
    action: Action


def keyword(text: str) -> Keyword | None:
    """The keyword ``text`` is, or ``None`` for an ordinary message."""
    word = text.strip().upper()
    if word in OPT_OUT:
        return Keyword(word, "opt_out")
    if word in OPT_IN:
        return Keyword(word, "opt_in")
    if word in HELP:
        return Keyword(word, "help")
    return None
