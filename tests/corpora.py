"""Where the third-party mail corpora live, and what a test does when they are missing.

Looked up at ``$TICKETGW_CORPORA`` or ``../shared/corpora`` beside the repository. Outside CI a
missing corpus skips the test with a message; in CI (``CI=true``) it fails it, so a
misconfigured run can never pass by skipping the real-world mail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]


def corpora_root() -> Path | None:
    configured = os.environ.get("TICKETGW_CORPORA")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO.parent / "shared" / "corpora")
    for path in candidates:
        if path.is_dir():
            return path
    return None


def require_corpus(*parts: str) -> Path:
    """The path of a corpus folder or file, or skip (fail in CI) when it is absent."""
    root = corpora_root()
    path = root.joinpath(*parts) if root else None
    if path is None or not path.exists():
        message = (
            f"third-party mail corpus {'/'.join(parts) or '.'} not found: set TICKETGW_CORPORA "
            "or place it at ../shared/corpora"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_expected(source: str, name: str = "expected.json") -> dict[str, Any]:
    with require_corpus(source, name).open(encoding="utf-8") as f:
        return json.load(f)


def corpus_files(source: str, *, pattern: str = "**/*") -> list[Path]:
    root = require_corpus(source)
    return sorted(p for p in root.glob(pattern) if p.is_file() and not p.name.endswith(".json"))


def corpus_params(source: str, *, pattern: str = "**/*") -> list[Any]:
    """``pytest.mark.parametrize`` values for a corpus's files, safe at collection time.

    When the corpus is missing this yields one parameter whose test skips (or fails in CI)
    with the message from :func:`require_corpus`, instead of silently collecting nothing.
    """
    root = corpora_root()
    if root is None or not (root / source).exists():
        return [pytest.param(None, id=f"{source}-missing")]
    files = sorted(
        p for p in (root / source).glob(pattern) if p.is_file() and not p.name.endswith(".json")
    )
    return [pytest.param(p, id=str(p.relative_to(root / source))) for p in files]


def missing_corpus_params(source: str, count: int = 1) -> list[Any]:
    """One parameter set of ``count`` Nones for a missing corpus: its test skips (fails in CI).

    For case lists built from a corpus's own files at collection time, where calling
    :func:`require_corpus` would skip the whole module, or error at collection.
    """
    return [pytest.param(*[None] * count, id=f"{source}-missing")]


def corpus_exists(*parts: str) -> bool:
    root = corpora_root()
    return root is not None and root.joinpath(*parts).exists()


def corpus_file(path: Path | None, source: str) -> Path:
    """Inside a test: the parametrized corpus file, or skip/fail when the corpus is missing."""
    if path is None:
        require_corpus(source)
        raise AssertionError("unreachable: require_corpus skips or fails")
    return path
