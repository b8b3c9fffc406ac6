"""Credentials out of every URL we show: ``config show``, error lines, logs.

A URL can carry a password in two places: the userinfo (``user:secret@host``) and the
query (``?password=secret``, as libpq and redis-py accept it). Both are masked, also in a
string that is not a valid URL at all, since the error line for an invalid URL is exactly
where a whole value would otherwise be echoed.
"""

from __future__ import annotations

import re

MASK = "****"
# Query parameters that carry a credential in the URLs our settings take (libpq, redis-py,
# Twilio-style tokens).
_SECRET_PARAM = re.compile(
    r"(?i)(^|[?&;])((?:password|passwd|pass|pwd|secret|token|auth_token|api_key|apikey)=)"
    r"[^&;#\s]*"
)


def mask_url(url: str) -> str:
    """``url`` with the userinfo password and any password-like query value masked."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    # The userinfo ends at the last "@"; one after a "?" belongs to the query when a "="
    # comes between them, else the "?" was part of the password.
    at, query = rest.rfind("@"), rest.find("?")
    if -1 < query < at and "=" in rest[query:at]:
        at = rest.rfind("@", 0, query)
    if at != -1 and ":" in rest[:at]:
        rest = f"{rest[:at].partition(':')[0]}:{MASK}{rest[at:]}"
    return scheme + sep + _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", rest)
