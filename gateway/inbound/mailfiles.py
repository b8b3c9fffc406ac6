"""Reading mail from files: single ``.eml`` files, Maildir folders and mbox files.

This is how ``mail ingest`` imports a team's old mailbox and how ``mail explain`` reads
its arguments. Mails come out in a stable order (Maildir by file name, which starts with
the delivery time; mbox in file order) so that replies follow their originals.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from gateway.errors import InvalidInput

# A mail starts with a header field ("Name: value") or an mbox "From " line, perhaps after
# blank lines; anything else in a folder (YAML, JSON, notes) is not a mail.
_MAIL_START = re.compile(rb"^\s*(?:From |[\x21-\x39\x3b-\x7e]+[ \t]*:)")


def looks_like_mail(path: Path) -> bool:
    with path.open("rb") as f:
        return bool(_MAIL_START.match(f.read(1024)))


def _folder_mails(path: Path) -> list[Path]:
    return [
        f
        for f in sorted(path.rglob("*"))
        if f.is_file() and not f.name.startswith(".") and looks_like_mail(f)
    ]


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def iter_mails(paths: Sequence[str | Path]) -> Iterator[tuple[bytes, str]]:
    """``(raw bytes, source)`` for every mail under ``paths``, in order.

    Raises :class:`InvalidInput` for a path that does not exist, before reading anything.
    """
    for path in existing_paths(paths):
        yield from _iter_one(path)


def existing_paths(paths: Sequence[str | Path]) -> list[Path]:
    """The paths, or :class:`InvalidInput` naming the first that does not exist."""
    resolved = [Path(p) for p in paths]
    missing = [str(p) for p in resolved if not p.exists()]
    if missing:
        raise InvalidInput(f"no such file or folder: {missing[0]}")
    return resolved


def count_mails(paths: Sequence[str | Path]) -> int:
    """How many mails :func:`iter_mails` will yield (for a progress bar)."""
    total = 0
    for path in existing_paths(paths):
        if is_maildir(path):
            total += sum(1 for folder in ("new", "cur") for f in (path / folder).iterdir())
        elif path.is_dir():
            total += len(_folder_mails(path))
        elif is_mbox(path):
            total += len(mailbox.mbox(path, create=False))
        else:
            total += 1
    return total


def _iter_one(path: Path) -> Iterator[tuple[bytes, str]]:
    if is_maildir(path):
        maildir = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(maildir.keys()):
            yield maildir.get_bytes(key), f"maildir:{path}/{key}"
    elif path.is_dir():
        for file in _folder_mails(path):
            yield from _iter_one(file)
    elif is_mbox(path):
        mbox = mailbox.mbox(path, create=False)
        for index, key in enumerate(mbox.keys()):
            yield mbox.get_bytes(key), f"mbox:{path}#{index}"
    else:
        yield path.read_bytes(), f"file:{path}"
