"""Exponential backoff with jitter, for anything that retries a remote party."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base * 2**(attempt-1)``, capped, ± ``jitter``.

    The jitter keeps many clients that failed together (a relay outage, a mail server
    restart) from all coming back in the same second.
    """

    base: float = 10.0
    cap: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        raw = min(self.cap, self.base * 2.0 ** max(0, attempt - 1))
        return raw * random.uniform(1 - self.jitter, 1 + self.jitter)
