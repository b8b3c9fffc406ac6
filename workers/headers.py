"""The email policy outgoing mail is built with: ``policy.default``, parsing each header once.

Why: with ``policy.default`` every ``msg[name] = value`` builds a new header class with
``type()`` and runs the RFC 5322 parser on the value, and ``set_content`` sets and re-parses
its ``Content-*`` headers the same way. That was most of the cost of building a mail
(about 2 ms of the worker's ~3 ms of CPU per mail). Most values repeat from mail to mail
(From, Content-Type, Content-Transfer-Encoding, MIME-Version, Auto-Submitted, X-Loop, Date
within a second, a regular's To), so the policy keeps the header classes and the parsed
headers of recent values: the same bounded registry inbound parsing uses
(``gateway.mail.policy``).

Sharing parsed headers between messages and threads is safe: they are immutable ``str``
subclasses, and folding them reads their parse tree without changing it.
"""

from __future__ import annotations

from email import policy

from gateway.mail.policy import CachingHeaderRegistry

# One policy for the life of the process: never re-created per mail.
OUTGOING = policy.default.clone(header_factory=CachingHeaderRegistry())
