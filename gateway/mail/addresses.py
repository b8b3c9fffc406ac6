"""Address headers (From, To, Cc, Reply-To) as :class:`~gateway.message.Address` tuples.

The stdlib's ``policy.default`` header objects are the primary parser (``header.addresses``;
``email.utils.getaddresses`` splits ``a@x)<b@y>`` wrongly on 3.11). They fail in two ways
on real mail, and each has a fallback here: raw 8-bit display names come out as U+FFFD (we
decode the bytes with the body charset as a hint and parse again), and some malformed
headers raise from deep inside the parser (we read ``name <addr>`` chunks leniently).
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage

from gateway.mail.headers import collapse, decode_header_text
from gateway.message import Address

_CHUNK = re.compile(r'(?:"(?:\\.|[^"\\])*"|<[^<>]*>|\([^()]*\)|[^,;"<(])+')
_ANGLED = re.compile(r"<([^<>]*)>")
_ADDR_SPEC = re.compile(r"""[^\s<>(),;:"'\[\]]+@[^\s<>(),;:"'\[\]]+""")
_SURROGATE = re.compile("[\udc80-\udcff]")


def address_list(
    msg: EmailMessage, name: str, raw: str | None, hint: str | None, defects: list[str]
) -> tuple[Address, ...]:
    """Every mailbox in header ``name`` (groups flattened, empty entries dropped)."""
    if raw is None:
        return ()
    try:
        header = msg[name]
        found = tuple(_address(a.addr_spec, a.display_name) for a in header.addresses)
        if _SURROGATE.search(raw) or any("\ufffd" in a.name for a in found):
            # 8-bit or mislabelled display names: decode them ourselves, then parse again.
            header = policy.default.header_factory(name, decode_header_text(raw, hint))
            found = tuple(_address(a.addr_spec, a.display_name) for a in header.addresses)
        found = tuple(a for a in found if a.address)
        if found or not _ADDR_SPEC.search(raw):
            return found
    except Exception:  # the header parser raises IndexError & co. on some malformed input
        pass
    defects.append(f"malformed {name} header: read leniently")
    return _lenient(decode_header_text(raw, hint))


def _address(addr_spec: str, display_name: str) -> Address:
    return Address(address=collapse(addr_spec).lower(), name=collapse(display_name))


def _lenient(value: str) -> tuple[Address, ...]:
    """``name <addr>`` and bare ``addr`` chunks, for headers the real parser rejected."""
    found: list[Address] = []
    for match in _CHUNK.finditer(collapse(value)):
        chunk = match.group()
        angled = _ANGLED.search(chunk)
        if angled:
            spec = _ADDR_SPEC.search(angled.group(1))
            addr = spec.group() if spec else angled.group(1).strip()
            name = chunk[: angled.start()].strip().strip('"').strip()
        else:
            spec = _ADDR_SPEC.search(chunk)
            addr = spec.group() if spec else ""
            name = ""
        if addr:
            found.append(_address(addr, name.replace('\\"', '"')))
    return tuple(found)
