"""The one rule for text that leaves the process: valid UTF-8, no NUL.

PostgreSQL refuses NUL in text ("cannot contain NUL (0x00) characters") and any encoder
refuses lone surrogates, which Python's ``surrogateescape`` leaves in text decoded from
undecodable bytes. Either one in a single header used to park a whole mail as failed.
Every text column (``schema.models.base``) and the CLI's output (``admin_cli.output``) go
through :func:`safe_text`, so no caller has to remember it; decoding stays as good as it
can be upstream, this is the guarantee behind it.
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
# How json.dumps (ASCII output) writes NUL and surrogates, paired ones included.
_UNSAFE_ESCAPE = re.compile(r"\\u(?:0000|d[89a-f])")


def _replace(match: re.Match[str]) -> str:
    # NUL carries nothing (it is padding or UTF-16 read as 8-bit): dropped. A surrogate
    # stands for a byte nothing could decode: shown as the replacement character.
    return "" if match.group() == "\x00" else "\ufffd"


def safe_text(text: str) -> str:
    """``text`` without NUL and with every lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    return _UNSAFE.sub(_replace, text) if _UNSAFE.search(text) else text


def safe_data(value: Any) -> Any:
    """:func:`safe_text` applied to every string (keys too) inside JSON-like data."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_data(k): safe_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [safe_data(v) for v in value]
    return value


def safe_json(value: Any) -> str:
    """``json.dumps(safe_data(value))``, without copying data that has nothing to clean.

    ``json.dumps`` writes NUL and every surrogate as a ``\\u`` escape, so text without
    one came from clean data and is the answer as it is; with one (a character beyond
    the BMP is a surrogate pair, or a sender's own backslash), the data is cleaned first.
    Walking every outbox row's context to rebuild it unchanged cost more than its dump.
    """
    text = json.dumps(value)
    return json.dumps(safe_data(value)) if _UNSAFE_ESCAPE.search(text) else text
