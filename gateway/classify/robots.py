"""Senders that are programs by their address: no-reply, mailer-daemon, postmaster.

A person never writes from ``noreply@`` or ``mailer-daemon@``; mail from such an address
that also reads like a report is a report, whatever headers it lacks. Matched on the local
part only, with the separators and suffixes providers add (``no_reply``, ``DoNotReply``,
``noreply+bounces``, ``mailer-daemon2``).
"""

from __future__ import annotations

import re

_ROBOT_LOCALPART = re.compile(
    r"(?:do[-_.]?not[-_.]?reply|no[-_.]?reply|no[-_.]?response|mailer[-_.]?daemon|"
    r"mail[-_.]?daemon|postmaster|post[-_.]master|bounces?|mail[-_.]?delivery|"
    r"delivery[-_.]?(?:status|notification)s?)(?:[-_.+]\S*|\d*)$",
    re.I,
)
# Mail service providers: what they send to a customer's support address is about
# delivery (bounces, complaints), never a customer writing.
PROVIDER_DOMAINS = {
    "amazonses.com": "Amazon SES",
    "sns.amazonaws.com": "Amazon SES",
    "sendgrid.net": "SendGrid",
    "sendgrid.com": "SendGrid",
    "mailgun.org": "Mailgun",
    "mailgun.net": "Mailgun",
    "postmarkapp.com": "Postmark",
    "sparkpostmail.com": "SparkPost",
    "sparkpost.com": "SparkPost",
    "mandrillapp.com": "Mandrill",
    "mailjet.com": "Mailjet",
    "brevo.com": "Brevo",
    "sendinblue.com": "Brevo",
}


def robot_localpart(address: str) -> str | None:
    """The robot local part of ``address`` (``"noreply"``), or ``None`` for anyone else."""
    local = address.rpartition("@")[0]
    return local.lower() if local and _ROBOT_LOCALPART.match(local) else None


def provider(address: str) -> str | None:
    """The mail service provider an address belongs to (``"SendGrid"``), else ``None``."""
    domain = address.rpartition("@")[2].lower()
    for known, name in PROVIDER_DOMAINS.items():
        if domain == known or domain.endswith("." + known):
            return name
    return None
