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
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage

from gateway.mail.headers import collapse, decode_header_text
from gateway.message import Address

_CHUNK = re.compile(r'(?:"(?:\\.|[^"\\])*"|<[^<>]*>|\([^()]*\)|[^,;"<(])+')
_ANGLED = re.compile(r"<([^<>]*)>")
_ADDR_SPEC = re.compile(r"""[^\s<>(),;:"'\[\]]+@[^\s<>(),;:"'\[\]]+""")
_SURROGATE = re.compile("[\udc80-\udcff]")
_COMMENT_NAME = re.compile(r"[^\s()<>]+\s*\(([^()]+)\)")


def address_list(
    msg: EmailMessage, name: str, raw: str | None, hint: str | None, defects: list[str]
) -> tuple[Address, ...]:
    """Every mailbox in header ``name`` (groups flattened, empty entries dropped)."""
    if raw is None:
        return ()
    # A From without a domain ("MAILER-DAEMON") still says who sent it; a recipient
    # without one ("undisclosed-recipients") is no mailbox.
    usable = _any_address if name == "From" else _has_domain
    try:
        header = msg[name]
        found = tuple(_address(a) for a in header.addresses)
        if _SURROGATE.search(raw) or any(
            "\ufffd" in a.name or _SURROGATE.search(a.name) for a in found
        ):
            # 8-bit or mislabelled display names (the stdlib leaves surrogates for bytes
            # the declared charset cannot read): decode them ourselves, then parse again.
            header = policy.default.header_factory(name, decode_header_text(raw, hint))
            found = tuple(_address(a) for a in header.addresses)
        found = tuple(a for a in found if usable(a.address))
        if len(found) == 1 and not found[0].name:
            found = (_with_comment_name(found[0], raw),)
        if any(_has_domain(a.address) for a in found) or not _ADDR_SPEC.search(raw):
            return found
    except Exception:  # the header parser raises IndexError & co. on some malformed input
        pass
    defects.append(f"malformed {name} header: read leniently")
    return _lenient(decode_header_text(raw, hint))


def _address(parsed: HeaderAddress) -> Address:
    # username@domain, not addr_spec: the local part unquoted, so '"a b"@x' and 'a b@x'
    # (both seen in the wild) are one identity; a quoted-string-only From keeps its text.
    local, domain = parsed.username, parsed.domain
    spec = f"{local}@{domain}" if domain else local
    return Address(address=collapse(spec).lower(), name=collapse(parsed.display_name))


def _any_address(address: str) -> bool:
    return any(ch.isalnum() for ch in address)


def _has_domain(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain)


def _with_comment_name(address: Address, raw: str) -> Address:
    """``addr (Full Name)``, the pre-RFC 2822 way of giving a name."""
    comment = _COMMENT_NAME.fullmatch(collapse(raw))
    if comment is None:
        return address
    return Address(address.address, collapse(decode_header_text(comment.group(1))))


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
        if _any_address(addr):
            name = collapse(name.replace('\\"', '"'))
            found.append(Address(address=collapse(addr).lower(), name=name))
    return tuple(found)
