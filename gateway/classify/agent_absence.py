"""Rule 5: an agent's out-of-office text, sent without any automatic-mail header.

Home-made vacation scripts and mail-client rules often set no ``Auto-Submitted`` and keep
the subject ``Re: ...``; relayed, their text would reach the customer as the agent's answer
and stop the first-response clock. So, for agents only, a mail that *opens* with an absence
("I am out of the office", "ich bin bis ... nicht im Büro", "je suis absent"), after at most
a greeting and a thank-you, is automatic. Only the opening counts: an answer that mentions a
vacation further down ("I reset your password. I am away from tomorrow") is an answer.
Customers' mail is never judged by its body: a customer saying they are away is writing to us.
"""

from __future__ import annotations

import re

from gateway.classify.verdict import Context, Verdict
from gateway.classify.view import MailView

_GREETING = (
    r"(?:(?:hello|hi|hey|dear|good (?:morning|afternoon|day)|guten (?:tag|morgen)|hallo|"
    r"sehr geehrte|liebe|bonjour|madame|monsieur|hola|buenos días|buongiorno|ciao|goedendag|"
    r"beste)\b[^\n.!,]{0,40}[,!.:]?\s+)?"
)
_THANKS = (
    r"(?:(?:many thanks|thank you|thanks|vielen dank|danke|merci|gracias|grazie|bedankt)"
    r"\b[^.!\n]{0,60}[.!]\s+)?"
)
_ABSENT = (
    r"(?:this is an? )?auto(?:matic|mated)[- ]?(?:reply|response|message)\b"
    r"|out of (?:the )?office\b"
    r"|(?:i am|i'm|i will be|i'll be)\b[^\n.]{0,30}?\b(?:out of (?:the )?office|away from|"
    r"on (?:vacation|holiday|leave|annual leave|parental leave|sick leave|a business trip)|"
    r"absent|not (?:in|at) (?:the|my) (?:office|desk))"
    r"|ich bin\b[^\n]{0,40}?(?:nicht im büro|nicht im haus|abwesend|im urlaub|außer haus|"
    r"nicht erreichbar)"
    r"|je suis\b[^\n]{0,30}?(?:absente?|en congés?|en vacances|hors du bureau)"
    r"|(?:estoy|me encuentro)\b[^\n]{0,30}?(?:fuera de la oficina|de vacaciones|ausente)"
    r"|ik ben\b[^\n]{0,30}?(?:afwezig|met vakantie|niet op kantoor)"
    r"|sono\b[^\n]{0,30}?(?:fuori (?:ufficio|sede)|in ferie|assente)"
)
OPENING = re.compile(rf"^\s*{_GREETING}{_THANKS}(?P<absent>{_ABSENT})", re.I)
_HEAD = 1000  # the opening is all that is read


def check(mail: MailView, ctx: Context) -> Verdict | None:
    if not ctx.sender or ctx.sender not in ctx.agent_addresses:
        return None
    found = OPENING.match(mail.text[:_HEAD])
    if found is None:
        return None
    return Verdict("auto_reply", f"an agent's out-of-office text {found.group('absent')!r}")
