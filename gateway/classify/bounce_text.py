"""Bounces that are not RFC 3464 reports: the wording of old and odd MTAs.

qmail, Exim, old Sendmail, Yahoo, AOL, GroupWise, Exchange 5.5, Lotus Notes, SMTP32 and
friends write a human sentence instead of a ``message/delivery-status`` part. These
patterns are the vocabulary of that prose (after flufl.bounce's ``simplematch`` and
Sisimai's ``lhost`` modules); they are only ever run on mails that already carry a cheap
hint (null sender, a daemon From, a bounce-like subject), never on every customer mail.
"""

from __future__ import annotations

import re

from gateway.classify.failure_words import NOT_DELIVERED

# Senders that only ever write reports. Matched on the raw From header (name and address).
DAEMON_FROM = re.compile(
    r"mailer[-_ ]?daemon|postmaster@|\bpostmaster\b|mail ?delivery|delivery ?subsystem|"
    r"post_master@|mail ?administrator|\bmail ?system\b|smtp32|mailadmin@|mail-?router|"
    r"internet mail (?:service|delivery)|mdaemon@|\bMAILER\b|notes administrator",
    re.I,
)

# Subjects MTAs give their reports; anchored, so "Fwd: undeliverable?" from a customer
# asking for help is not one.
SUBJECT = re.compile(
    r"^\s*(?:\[?(?:SPAM|POSTMASTER)\]?\s*)?(?:"
    r"undeliver|undelivered|non[- ]?deliver|not delivered|unzustellbar|non remis|"
    r"onbestelbaar|no entregado|não entregue|delivery (?:status|failure|failed|notification|"
    r"report|problem|has failed|error|delayed|final failure|warning)|"
    r"(?:permanent |temporary )?delivery failure|failure notice|returned mail|"
    r"return(?:ed)? to sender|"
    r"mail delivery|message delivery|mail (?:system )?error|mail could not be delivered|"
    r"delivery notification|warning: (?:could not|message)|delayed mail|"
    r"message (?:status|not delivered|could not be delivered|undeliverable|delayed)|"
    r"could not (?:send|deliver)|error sending|nondeliverable|ndn|returned mail|"
    r"rejected|mail failure|mail failed|failed mail|bounced? |error delivering|"
    r"unable to deliver|note: undeliverable|delivery to the following|"
    r"benachrichtung|benachrichtigung|notification d'état de remise|"
    r"errore nella consegna|mail-zustellung)",
    re.I,
)

# Sentences only a report writes (first lines of the report text).
MARKER = re.compile(
    r"qmail-send program|created automatically by mail delivery software|"
    r"automated message created by mail delivery software|"
    r"(?:could|can)(?:not|n't| not) be delivered|was not delivered|wasn't able to deliver|"
    r"undeliverable (?:to|due)|were not delivered|delivery (?:to the following|has failed)|"
    r"permanent(?:ly)? (?:fatal )?error|fatal errors?|did not reach the following|"
    r"unable to deliver|failed to deliver|delivery failed|message delivery failed|"
    r"is (?:not a known user|unknown)|user unknown|unknown user|"
    r"no such (?:user|mailbox|address|domain)|"
    r"mailbox (?:unavailable|not found|full|is full)|address(?:es)? failed|failed addresses|"
    r"this is the mail system at|the mail system\n|transcript of session follows|"
    r"not yet been delivered|delivery (?:is )?delayed|"
    r"will (?:continue|keep) (?:to )?(?:try|attempt)|"
    r"returned to (?:you|sender)|recipients? (?:did not|could not|failed)|"
    r"message from yahoo\.com|delivery status notification|non-?delivery",
    re.I,
)

TEMPORARY = re.compile(
    r"will (?:continue|keep|be) (?:to )?(?:try|trying|attempt|retr)|still being retried|"
    r"not yet been delivered|this is (?:just )?a warning|attempts will continue|"
    r"delivery (?:is |has been )?delayed|"
    r"^\s*delayed mail|warning: could not send|\(delay\)|will retry|retry timeout not",
    re.I | re.M,
)
PERMANENT = re.compile(r"permanent(?:ly)?|fatal error|given up|giving up|gave up", re.I)

STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")

# Where the copy of the returned mail starts: addresses below it are not the failed ones.
_COPY_STARTS = re.compile(
    r"^(?:[- ]*(?:original message|this is a copy|below this line|the header of the original|"
    r"unsent message below|original message follows|returned message)|"
    r"(?:Received|Return-Path|Message-ID|DKIM-Signature|MIME-Version|X-[\w-]+):)",
    re.I | re.M,
)
_QUOTED_HEADER = re.compile(r"^\s*(?:To|Cc|From|Subject|Sent|Date|Reply-To)\s*:", re.I)
ADDRESS = re.compile(r"[\w.+'=%-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.I)
_FAILURE_WORDS = re.compile(
    r"unknown|not? exist|doesn't exist|no such|not found|fail|reject|undeliver|unavailable|"
    r"denied|disabled|discontinued|quota|full|invalid|not accept|not a known|unrout|refused|"
    r"error|not be delivered|not delivered|unreach|blocked|suspend|deactivated|inactive|"
    r"expired|delay|deliver|addressed to|\b[45]\d\d\b|SMTP=|RCPT",
    re.I,
)
_SENT_BY = re.compile(r"(?:sent by|from)\s*:?\s*$", re.I)
_SMTP_PREFIX = re.compile(r"^smtp=")
_LEADING = re.compile(r"^[\s<\"'(]*(?:SMTP=|RCPT TO:\s*<?)?[\w.+'=%-]+@", re.I)
_INTRO = re.compile(
    r"following (?:recipient|address|list of recipients|user|destination)|"
    r"(?:not (?:be )?delivered|not reach|failed|undeliverable|message) to:?\s*$|"
    r"addresses failed|failed addresses|your message to:?\s*$|(?:^|\s)to:\s*$|"
    # the same introductions in the languages of failure_words.py
    r"folgenden? (?:empfänger|adresse)|suivants?\s*:|siguientes? destinatari|"
    r"seguenti destinatari|następując|следующ|以下|次の宛先|收件人",
    re.I,
)
_SERVICE_LOCALPARTS = frozenset({"postmaster", "mailer-daemon", "abuse", "root", "nobody"})


def report_text(text: str) -> str:
    """The report's own prose: everything before the quoted copy of the returned mail."""
    cut = _COPY_STARTS.search(text)
    return text[: cut.start()] if cut else text


def failed_addresses(text: str, exclude: frozenset[str], weak: frozenset[str]) -> list[str]:
    """Addresses a prose report names as failed, in order, lower-cased.

    An address counts when its line starts with it (``<a@b>:``, ``  a@b ... unknown``), when
    its line says what went wrong, or when it follows an introduction such as "did not
    reach the following recipient(s):"; quoted ``To:``/``Cc:`` lines of the original and
    "contact postmaster@..." advice are skipped. ``weak`` addresses (the report's own
    recipients) count only when a line starts with them.
    """
    found: list[str] = []
    after_intro = 0
    previous = ""
    for line in report_text(text).splitlines():
        if line.strip():
            previous, before = line, previous
        else:
            continue
        if _SENT_BY.search(before):  # Exim names the *sender* first: "A message sent by <x>"
            continue
        if _INTRO.search(line):
            after_intro = 4
        if "@" not in line or _QUOTED_HEADER.match(line):
            if after_intro:
                after_intro -= 1
            continue
        addresses = ADDRESS.findall(line)
        if not addresses:
            continue
        leading = _LEADING.match(line) is not None
        failure = _FAILURE_WORDS.search(line) or NOT_DELIVERED.search(line)
        if not (leading or after_intro or failure):
            continue
        after_intro = max(after_intro - 1, 0)
        for address in addresses:
            address = _SMTP_PREFIX.sub("", address.lower().strip(".'"))
            service = address.partition("@")[0] in _SERVICE_LOCALPARTS
            doubtful = service or address in weak
            if address in exclude or address in found or (doubtful and not leading):
                continue
            found.append(address)
    return found


def is_temporary(subject: str, text: str) -> bool:
    """A warning ("will retry", "Delayed Mail"), not a failure, unless it says permanent."""
    head = report_text(text)[:4000]
    if not (TEMPORARY.search(subject) or TEMPORARY.search(head)):
        return False
    return not PERMANENT.search(head)
