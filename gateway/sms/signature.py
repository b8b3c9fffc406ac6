"""Checking ``X-Twilio-Signature``: twilio's own ``RequestValidator``, the public URL.

Twilio signs the URL it called. Behind a proxy or tunnel that is the public URL
(``TICKETGW_PUBLIC_URL``), not the one this process sees, so the URL checked is always
the configured public base plus the path and query of the request: a request that was
signed for any other URL fails.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from multidict import MultiDict
from twilio.request_validator import RequestValidator


def signed_url(public_url: str, path_qs: str) -> str:
    """The URL Twilio signed: the public base (no trailing slash) plus path and query."""
    return public_url.rstrip("/") + path_qs


def is_signed(
    auth_token: str, url: str, fields: Sequence[tuple[str, str]], signature: str | None
) -> bool:
    """True when ``signature`` is Twilio's for this URL and form (repeated fields too)."""
    if not signature or not auth_token:
        return False
    validator, params = RequestValidator(auth_token), MultiDict(fields)
    # The URL exactly as configured is what Twilio signs almost always: one HMAC. Only
    # when that fails does ``validate`` try the URL with and without the default port.
    expected = str(validator.compute_signature(url, params))
    if hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return True
    return bool(validator.validate(url, params, signature))
