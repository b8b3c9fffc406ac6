"""Give the memory of a big mail back once it is processed (glibc's allocator only).

glibc serves a large block from ``mmap`` and unmaps it on ``free``, but raises that
threshold to the size of every large block freed, up to 32 MB: after one 10 MB mail, the
next mail's 10 MB strings come from the heap, which fragments and is kept. Measured with
``bench/big_mail_memory.py``: the processing child grew by 1.1 GB for one 25 MB mail and
stayed large. A fixed threshold keeps every block of 1 MB or more in its own mapping,
returned to the system when the mail's strings are freed; smaller blocks are unaffected.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h); setting it also fixes it
LARGE_BLOCK = 1024 * 1024


def return_large_blocks() -> bool:
    """Fix glibc's mmap threshold at :data:`LARGE_BLOCK`; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK))
    if not done:
        log.warning("mallopt(M_MMAP_THRESHOLD) refused: big mails may keep memory")
    return done
