"""Content-addressed files under the data dir: each distinct attachment is stored once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def blob_path(data_dir: Path, sha256: str) -> Path:
    return data_dir / "attachments" / sha256[:2] / sha256[2:4] / sha256


def save_blob(data_dir: Path, data: bytes) -> str:
    """Store ``data`` under its sha256 and return the digest; a no-op when already stored.

    Written to a temporary file, fsynced and renamed into place, so a crash never leaves a
    truncated file under a digest that claims to be complete.
    """
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(data_dir, digest)
    if path.exists():
        return digest
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest
