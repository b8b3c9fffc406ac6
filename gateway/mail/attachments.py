"""Attachment names and the attachments hidden in text: uuencoded blocks, forwarded mail.

No ``mimetypes`` here: its first call reads the system's ``mime.types`` files, and a pure
parser does no I/O. The table below covers what mail actually carries.
"""

from __future__ import annotations

import binascii
import re

from gateway.message import Attachment

_EXTENSIONS = {
    "text/plain": "txt",
    "text/html": "html",
    "text/calendar": "ics",
    "text/csv": "csv",
    "text/rfc822-headers": "txt",
    "text/x-vcard": "vcf",
    "text/vcard": "vcf",
    "message/rfc822": "eml",
    "message/global": "eml",
    "message/delivery-status": "txt",
    "message/disposition-notification": "txt",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/svg+xml": "svg",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/msword": "doc",
    "application/ms-tnef": "dat",
    "application/vnd.ms-tnef": "dat",
    "application/pgp-signature": "asc",
    "application/pgp-encrypted": "asc",
    "application/pkcs7-signature": "p7s",
    "application/x-pkcs7-signature": "p7s",
    "application/pkcs7-mime": "p7m",
    "application/x-pkcs7-mime": "p7m",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "video/quicktime": "mov",
    "audio/mpeg": "mp3",
}
_SIMPLE_SUBTYPE = re.compile(r"[a-z0-9]{1,8}")
# Only what can break a path or a header; ":" and "?" are legal names users expect to see.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
_UU_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)\r?\n(.*?)^end[ \t]*$\r?\n?", re.M | re.S)


def extension(content_type: str) -> str:
    """A file extension for a MIME type: from the table, else the subtype, else ``bin``."""
    if content_type in _EXTENSIONS:
        return _EXTENSIONS[content_type]
    maintype, _, subtype = content_type.partition("/")
    if maintype in ("image", "audio", "video") and _SIMPLE_SUBTYPE.fullmatch(subtype):
        return subtype
    return "txt" if maintype == "text" else "bin"


def generated_name(index: int, content_type: str) -> str:
    """The name of a part that has none: ``attachment-<part number>.<ext>``."""
    return f"attachment-{index}.{extension(content_type)}"


def safe_filename(name: str, limit: int = 255) -> str:
    """A name without path separators or control characters, stored as the user sees it."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip(". \t")
    return cleaned[:limit]


def message_filename(subject: str) -> str:
    """``<subject>.eml`` for a forwarded message (RT and Zammad both name them so)."""
    return f"{safe_filename(subject, 200) or 'message'}.eml"


def extract_uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """Cut ``begin 644 name`` ... ``end`` blocks out of a body (Lotus Notes, old mailers)."""
    if "begin " not in text:
        return text, []
    found: list[Attachment] = []

    def cut(match: re.Match[str]) -> str:
        data = uudecode_lines(match.group(2))
        if data is None:
            return match.group()
        name = safe_filename(match.group(1)) or f"uuencoded-{len(found) + 1}.bin"
        found.append(Attachment(name, "application/octet-stream", data))
        return ""

    return _UU_BLOCK.sub(cut, text), found


def uudecode_lines(block: str) -> bytes | None:
    """Decode uuencoded lines (``begin``/``end`` lines skipped); None if it is not uuencode."""
    out = bytearray()
    for line in block.splitlines():
        if not line.strip() or line.strip() == "`" or line.startswith(("begin ", "end")):
            continue
        try:
            raw = line.encode("ascii")
        except UnicodeEncodeError:
            return None
        try:
            out += binascii.a2b_uu(raw)
        except binascii.Error:
            # Some encoders pad lines with garbage; the length byte says how much is real.
            nbytes = (((raw[0] - 32) & 63) * 4 + 5) // 3
            try:
                out += binascii.a2b_uu(raw[:nbytes])
            except binascii.Error:
                return None
    return bytes(out)
