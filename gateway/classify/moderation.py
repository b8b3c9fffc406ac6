"""Rule 6: a list server telling us our mail waits for (or was refused by) a moderator.

When a notification goes to a list address, Mailman, Sympa, LISTSERV, Google Groups and
groups.io answer "your message awaits moderator approval", often without ``List-Id`` or
``Auto-Submitted``. It is written by a program about our own mail: never a ticket, never
an acknowledgement (which would be held too, and answered again). The subject wording is
anchored at its start, so a customer forwarding such a notice ("Fwd: Your message ...")
still reaches us; the sender must be a list server's address or the body must name the
moderator.
"""

from __future__ import annotations

import re

from gateway.classify.robots import robot_localpart
from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView

_SUBJECT = re.compile(
    r"^\s*(?:your (?:message|mail|post(?:ing)?)\b.{0,120}?\b(?:awaits?|is awaiting|"
    r"is pending|pending|requires|needs|is held|has been held|held)\b.{0,40}?"
    r"(?:moderat|approval)|"
    r"message (?:held|pending|awaiting) (?:for )?(?:moderat|approval)|"
    r"(?:posting|message) held for|"
    r"message distribution: forwarded to the moderators|"
    r"your message (?:for|to) .{1,120}? has been (?:forwarded|submitted) to (?:the )?"
    r"(?:editor|moderator)|"
    r"(?:request to mailing list|your message to) .{1,120}? (?:was |has been )?rejected|"
    r"message rejected by (?:the )?moderator|"
    # de, fr, es, it, nl
    r"ihre nachricht an .{1,120}? wartet auf (?:die )?freigabe|"
    r"votre message (?:à|pour) .{1,120}? (?:attend|est en attente de) (?:l'approbation|"
    r"modération)|su mensaje a .{1,120}? (?:espera|está pendiente de) (?:la )?"
    r"(?:aprobación|moderación)|il tuo messaggio .{1,120}? (?:attende|è in attesa di) "
    r"(?:l'approvazione|moderazione)|uw bericht aan .{1,120}? wacht op goedkeuring)",
    re.I,
)
_LIST_ROBOT = re.compile(
    r"^(?:[\w.+-]+-(?:owner|bounces|request|admin|moderators?|editor)(?:\+\S*)?|"
    r"[\w.-]+\+(?:owner|noreply|bounces)|mailman|sympa|listserv|majordomo|ecartis|lyris)@",
    re.I,
)
_BODY = re.compile(r"moderat|list (?:owner|administrator)|editor\(s\)", re.I)


def check(mail: MailView, ctx: Context) -> Verdict | None:
    found = _SUBJECT.search(mail.subject)
    if found is None:
        return None
    sender = ctx.sender
    by_list = bool(_LIST_ROBOT.match(sender)) or robot_localpart(sender) is not None
    if not by_list and _BODY.search(mail.text[:4000]) is None:
        return None
    return Verdict("auto_reply", f"list moderation notice, subject {found.group(0)[:60]!r}")
