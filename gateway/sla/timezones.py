"""Time-zone names as admins type them, checked against the IANA database."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["parse_timezone"]


def parse_timezone(name: str) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name such as ``Europe/Berlin`` or ``UTC``.

    Raises ``ValueError("unknown time zone 'Mars/Base'")`` for anything the
    database does not know, including malformed keys and folder names such as
    ``Europe`` that the standard library reports with other exception types.
    """
    key = name.strip()
    if not key:
        raise ValueError("unknown time zone '': give an IANA name such as Europe/Berlin")
    try:
        return ZoneInfo(key)
    # ZoneInfo raises ValueError for keys like "../x", IsADirectoryError (an
    # OSError) for "Europe", ZoneInfoNotFoundError (a KeyError) for the rest.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone '{name}'") from None
