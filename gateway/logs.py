"""How the long-running processes (``serve`` and its processing child) log."""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
# aiosmtpd logs every SMTP command and reply of every session at INFO (about seven lines
# a mail): that drowns what an operator needs to see, so it says only warnings unless asked.
SMTP_SESSION_LOGGER = "mail.log"


def setup_logging(level: int = logging.INFO, *, verbose: bool = False) -> None:
    """Log at ``level``; ``verbose`` adds the SMTP listener's per-command lines."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    logging.getLogger(SMTP_SESSION_LOGGER).setLevel(logging.INFO if verbose else logging.WARNING)
