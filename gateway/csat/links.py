"""Signed rating links: ``PUBLIC_URL/csat/<token>/<digit>``.

The token names the ticket and is signed with HMAC-SHA256 under ``TICKETGW_SECRET_KEY``
(as reply tokens are, ``gateway.tokens``), in a domain of its own (``csat:``) so that no
reply token can be turned into a rating token or back. The digit is not signed: the
customer chooses it, one link per digit.
"""

from __future__ import annotations

import hmac
import re

from gateway.tokens import signature

RATINGS = range(1, 6)
_TOKEN = re.compile(r"^t(\d{1,12})\.([0-9a-f]{16})$")


def _mac(secret: str, ticket_id: int) -> str:
    return signature(secret, f"csat:t{ticket_id}")


def make_token(secret: str, ticket_id: int) -> str:
    return f"t{ticket_id}.{_mac(secret, ticket_id)}"


def read_token(secret: str, token: str) -> int | None:
    """The ticket id of a genuine token; ``None`` when malformed or forged."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    ticket_id, mac = int(match.group(1)), match.group(2)
    if not hmac.compare_digest(mac, _mac(secret, ticket_id)):
        return None
    return ticket_id


def rating_links(public_url: str, secret: str, ticket_id: int) -> list[dict[str, object]]:
    """One link per rating, for the resolved notification's ``csat.links``."""
    base = public_url.rstrip("/")
    token = make_token(secret, ticket_id)
    return [{"rating": n, "url": f"{base}/csat/{token}/{n}"} for n in RATINGS]
