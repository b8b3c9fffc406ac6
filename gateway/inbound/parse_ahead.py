"""Parsing the next batches of an import in other processes while this one stores.

Storing a batch is database work that must stay in one process, in order (a reply is
threaded against the mails before it). Parsing is pure CPU work on bytes, about a fifth of
the cost of a mail, and it parallelises: while the importing process stores batch *n*,
``processes`` others parse batches *n+1* onwards. The parsed mails come back pickled
(their MIME trees included), cheaper to load than to parse again.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from multiprocessing.pool import AsyncResult

from gateway.mail.parse import ParsedMail, parse_mail

Mail = tuple[bytes, str]  # (raw, source)


def default_processes() -> int:
    """One parsing process when there is a second core to run it on, else none."""
    return 1 if (os.cpu_count() or 1) > 1 else 0


def parse_ahead(
    batches: Iterable[list[Mail]], processes: int
) -> Iterator[tuple[list[Mail], Sequence[ParsedMail] | None]]:
    """Each batch with its parsed mails, in order; ``None`` (parse as you go) if ``processes`` is 0.

    At most ``processes + 1`` batches are parsed ahead, so memory stays bounded whatever
    the size of the import. The first batch is parsed here while the parsing processes start (a
    new interpreter takes most of a second), so a small import never waits for them.
    """
    batches = iter(batches)
    head = list(islice(batches, 2))
    if processes <= 0 or len(head) < 2:  # nothing to overlap with: no processes to start
        yield from ((batch, None) for batch in chain(head, batches))
        return
    # spawn: a fresh interpreter, not a fork of one holding database connections.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        ahead: deque[tuple[list[Mail], AsyncResult[list[ParsedMail]]]] = deque()
        for batch in chain(head[1:], islice(batches, processes - 1)):
            ahead.append((batch, pool.apply_async(_parse_all, ([raw for raw, _ in batch],))))
        yield head[0], None
        for batch in batches:
            ahead.append((batch, pool.apply_async(_parse_all, ([raw for raw, _ in batch],))))
            if len(ahead) > processes:
                done, parsed = ahead.popleft()
                yield done, parsed.get()
        while ahead:
            done, parsed = ahead.popleft()
            yield done, parsed.get()


def _parse_all(raws: list[bytes]) -> list[ParsedMail]:
    return [parse_mail(raw) for raw in raws]
