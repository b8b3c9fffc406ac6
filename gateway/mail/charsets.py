"""Turn the bytes of a body or header into text, whatever charset the sender claimed.

Mail clients mislabel charsets all the time: Korean Outlook says ``ks_c_5601-1987`` and
means cp949, "GB2312" mail uses GBK characters, "iso-8859-1" mail contains cp1252 quotes,
and a "utf-8" part can carry a pasted latin-1 line. :func:`decode_bytes` tries the declared
charset (through a superset where one is known), and only when that fails does it pay for
detection with ``charset-normalizer``. It never raises and never returns U+FFFD when some
other decoding is clean.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from charset_normalizer import from_bytes

# Declared name (lower-cased) -> the codecs to try, in order. Supersets first: decoding
# with a superset is harmless when the sender used the subset, and right when they lied.
_ALIASES: dict[str, tuple[str, ...]] = {
    "ks_c_5601-1987": ("cp949",),
    "ks_c_5601": ("cp949",),
    "ksc5601": ("cp949",),
    "euc-kr": ("cp949",),
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cn-gb": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "shift-jis": ("cp932", "shift_jis_2004"),
    "x-sjis": ("cp932",),
    "euc-jp": ("euc_jis_2004", "cp932"),
    "iso-2022-jp": ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_2004"),
    "unicode-1-1-utf-7": ("utf-7",),
    "utf7": ("utf-7",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "iso-8859-8-i": ("iso-8859-8",),
    "iso-8859-11": ("cp874",),
    "tis-620": ("cp874",),
    "iso-8859-9": ("cp1254",),
    "x-mac-roman": ("mac-roman",),
    "ansi_x3.4-1968": ("ascii",),
}
# Declared name (lower-cased) -> codecs of the same script that mailers confuse it with:
# tried strictly after the declared charset fails and before detection, which cannot
# tell Shift_JIS from GBK on a name or subject of a few characters.
_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "iso-2022-jp": ("cp932", "euc_jis_2004"),
    "shift_jis": ("euc_jis_2004", "iso2022_jp_2"),
    "shift-jis": ("euc_jis_2004", "iso2022_jp_2"),
    "euc-jp": ("cp932", "iso2022_jp_2"),
    "gb2312": ("big5hkscs",),
    "gbk": ("big5hkscs",),
    "big5": ("gb18030",),
    "euc-kr": ("iso2022_kr",),
    "ks_c_5601-1987": ("iso2022_kr",),
    "koi8-r": ("cp1251", "koi8_u"),
    "windows-1251": ("koi8_r",),
    "iso-8859-2": ("cp1250",),
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Names that say "I do not know": decode as if nothing were declared.
_UNKNOWN = frozenset({"", "x-unknown", "unknown", "unknown-8bit", "x-user-defined", "default"})
# Most common first: the order breaks ties between equally clean detections.
_MAIL_CHARSETS = (
    "cp1252",
    "cp1250",
    "cp1251",
    "koi8_r",
    "gb18030",
    "cp932",
    "euc_jp",
    "cp949",
    "big5",
    "iso8859_15",
    "iso8859_2",
    "cp1253",
    "cp1254",
    "cp1257",
    "koi8_u",
    "cp1255",
    "cp1256",
    "cp874",
    "cp1258",
)
_SURROGATES = re.compile("[\udc80-\udcff]+")


@lru_cache(maxsize=256)
def codecs_for(declared: str | None) -> tuple[str, ...]:
    """The Python text codecs to try for a declared MIME charset; empty when unusable."""
    name = (declared or "").strip().strip("\"'").lower()
    if name in _UNKNOWN:
        return ()
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return ()
    # bytes.decode() refuses bytes-to-bytes codecs (base64, rot13) anyway; skip them early.
    if not getattr(info, "_is_text_encoding", True):
        return ()
    return _ALIASES.get(info.name, (info.name,))


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """Decode ``data``; return the text and a short defect when the declaration was wrong."""
    candidates = codecs_for(declared)
    label = (declared or "").strip() or None
    utf16 = _utf16_codec(data)
    if utf16 is not None and not any(c.replace("-", "_").startswith("utf_16") for c in candidates):
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            pass
        else:
            return text, f"charset {label or 'undeclared'!r}: UTF-16 found"
    if data.isascii() and b"\x1b" not in data and "utf-7" not in candidates:
        return data.decode("ascii"), None
    for codec in candidates:
        try:
            return data.decode(codec), None
        except (UnicodeDecodeError, LookupError):
            continue
    for codec in _NEIGHBOURS.get((label or "").lower(), ()):
        try:
            return data.decode(codec), f"charset {label!r} undecodable: decoded as {codec}"
        except UnicodeDecodeError:
            continue
    text, used = _fallback(data)
    if label is None:
        return text, (
            None if used in ("utf-8", "ascii") else f"undeclared charset: decoded as {used}"
        )
    if label.lower() in _UNKNOWN or not candidates:
        return text, f"charset {label!r} unknown: decoded as {used}"
    return text, f"charset {label!r} undecodable: detected {used}"


def _utf16_codec(data: bytes) -> str | None:
    """UTF-16 by its byte-order mark, or by NUL in every other byte of mostly-Latin text.

    Mailers that convert from Windows text sometimes label UTF-16 as the system charset;
    read as 8-bit it is a NUL after every letter.
    """
    if data.startswith(_UTF16_BOMS):
        return "utf-16"
    sample = data[:4096]
    if len(sample) < 8 or len(sample) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.9 * half and even < 0.1 * half:
        return "utf-16-le"
    if even > 0.9 * half and odd < 0.1 * half:
        return "utf-16-be"
    return None


def decodes_strictly(declared: str | None, data: bytes) -> bool:
    """Whether ``declared`` is a multi-byte charset that decodes ``data`` without error.

    Single-byte charsets decode any bytes, so their success says nothing: only a
    multi-byte one (Shift_JIS, GBK, EUC-KR...) is evidence about bytes it was not
    declared for, such as raw 8-bit headers above a body that declared it.
    """
    for codec in codecs_for(declared)[:1]:
        if _single_byte(codec):
            return False
        try:
            data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            return False
        return True
    return False


@lru_cache(maxsize=64)
def _single_byte(codec: str) -> bool:
    try:
        bytes(range(128, 256)).decode(codec)
    except (UnicodeDecodeError, LookupError):
        return codec.replace("-", "_").startswith(("iso8859", "cp12", "koi8", "mac"))
    return True


def decode_header_bytes(data: bytes, hint: str | None) -> str:
    """Raw 8-bit header bytes: UTF-8 (RFC 6532), else ``hint``, else detection, else cp1252.

    The caller's hint should come from :func:`header_charset` (all raw headers together),
    not from the body: mailers that put raw bytes in headers often label the body
    differently (a GBK subject above an "iso-8859-1" body is real).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for codec in codecs_for(hint) + ((guess,) if (guess := detect(data)) else ()):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return _cp1252(data)


def header_charset(raw_values: list[bytes]) -> str | None:
    """One charset for all raw 8-bit header values of a mail, detected from all of them:
    a six-byte name alone is too short to detect, beside its subject it is not."""
    if not raw_values:
        return None
    joined = b"\n".join(raw_values)
    try:
        joined.decode("utf-8")
    except UnicodeDecodeError:
        return detect(joined)
    return "utf-8"


def _fallback(data: bytes) -> tuple[str, str]:
    """Undeclared or wrongly declared bytes: UTF-8, 7-bit JIS, detection, then mixed UTF-8."""
    if data.isascii():
        if b"\x1b$" in data or b"\x1b(" in data:
            try:
                return data.decode("iso2022_jp_2"), "iso-2022-jp"
            except UnicodeDecodeError:
                pass
        return data.decode("ascii"), "ascii"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    mixed = _mostly_utf8(data)
    if mixed is not None:
        return mixed, "utf-8 with cp1252 bytes"
    guess = detect(data)
    if guess is not None:
        try:
            return data.decode(guess), guess
        except (UnicodeDecodeError, LookupError):
            pass
    return _cp1252(data), "cp1252"


def detect(data: bytes) -> str | None:
    """charset-normalizer, limited to charsets mail is written in, ties broken by how common.

    Unrestricted, it calls a short German cp1252 text mac_iceland and Russian KOI8-R
    shift_jis: on a few hundred bytes several codecs decode "cleanly", and only the
    prior (which charsets real mail uses) separates them.
    """
    results = from_bytes(data[:65536], cp_isolation=list(_MAIL_CHARSETS))
    if not results:
        return None
    least = min(match.chaos for match in results)
    close = [m.encoding for m in results if m.chaos <= least + 0.1]
    return min(close, key=lambda e: _MAIL_CHARSETS.index(e) if e in _MAIL_CHARSETS else 99)


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few stray single-byte characters (a pasted latin-1 line)."""
    text = data.decode("utf-8", "surrogateescape")
    stray = sum(len(m) for m in _SURROGATES.findall(text))
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    if non_ascii - stray <= stray:
        return None
    return _SURROGATES.sub(lambda m: _cp1252(m.group().encode("utf-8", "surrogateescape")), text)


_UNDEFINED_IN_CP1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _cp1252(data: bytes) -> str:
    """cp1252, with its five undefined bytes taken as latin-1: decodes any bytes cleanly."""
    if _UNDEFINED_IN_CP1252.isdisjoint(data):
        return data.decode("cp1252")
    return "".join(
        chr(b) if b in _UNDEFINED_IN_CP1252 else chr(b).encode("latin-1").decode("cp1252")
        for b in data
    )
