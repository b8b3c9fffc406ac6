"""Multilingual recognisers for the lines a mail client writes above quoted history.

Three shapes, each a pure predicate over lines (no whole-text regexes, so every check costs
at most a few hundred characters however large the mail is):

* attributions: "On <date>, <name> wrote:" and its translations, possibly wrapped over up
  to five lines (:func:`attribution_start`);
* header blocks: Outlook's "From: / Sent: / To: / Subject:" in many languages
  (:func:`header_field`; the block logic lives with the line classifier);
* forward and original-message separators (:func:`is_forward_separator`,
  :func:`is_original_separator`), and Zoho's dashed attribution
  (:func:`is_fenced_attribution`).
"""

from __future__ import annotations

import re

# Longest line, and longest joined window, that can be an attribution; real ones are far
# shorter, and the bound keeps the regexes below cheap on hostile input.
_MAX_LINE = 400
_MAX_WINDOW = 600
_WINDOW_LINES = 5

_VERB = (
    r"wrote|writes|schrieb|schreef|geschreven|geschrieben|a\s+écrit|escribió|escreveu|"
    r"ha\s+scritto|napisał\(a\)|napisała|napisał|napisana|pisze|skrev|kirjoitti|"
    r"написал\(а\)|написала|написал|пишет|пише|写道|寫道|yazdı|írta|napsal\(a\)|napsal|"
    r"scrisse|a\s+scris|έγραψε|menulis|đã\s+viết|작성"
)
_OPENER = r"On|Am|Le|El|Op|Em|Il|Den|Dnia|W\s+dniu|Wiadomość|På|Dne|Pe|Στις|Pada|Vào|在"

# "On <date> <verb> <...>:" -- the opener and a date (any digit) make it safe to join a
# few wrapped lines. Checked as separate parts: one regex with two lazy gaps backtracks
# quadratically on a line full of digits.
_OPENER_START = re.compile(rf"(?:{_OPENER})\s")
_VERB_WORD = re.compile(rf"(?<!\w)(?:{_VERB})(?!\w)")
# "<name> <verb> [am <date>]:" -- needs an address or a digit as evidence.
_VERB_FORM = re.compile(rf"[^\n]*?(?<!\w)(?:{_VERB})(?:\s+am\s[^\n]{{1,60}})?\s*[:：]$")
# Gmail without a verb: "2017-02-05 13:29 GMT+02:00 Name <a@b.c>:", "26.06.2014, 14:41,
# "Name" <a@b.c>:", "Thu, 26 Jun 2014 14:00:51 +0400 от Name <a@b.c>:", "2022年1月1日 ...".
_DATE_START = re.compile(
    r"(?:[^\W\d]{2,12}\.?,?\s+)?\d{1,4}\.?(?:[./\-]\d{1,2}[./\-]\d{2,4}|\s+[^\W\d]{3,12}\.?,?\s+\d{4}|"
    r"年|년)"
)
_ADDRESS_END = re.compile(r"@[^\s<>@]+>?\s*[:：]?$")
_BARE_VERB_LINE = re.compile(rf"^[>\s]*(?:{_VERB})\s*[:：]$")
_CONTINUATION = re.compile(r"[<>]|[^\s<>]+@[^\s<>]*>|(?:" + _VERB + r")(?!\w)")


def _text(line: str) -> str:
    return line.strip()


def could_end_attribution(line: str) -> bool:
    """Cheap filter: only lines ending like an attribution are worth a window search."""
    stripped = line.rstrip()
    return bool(stripped) and len(stripped) <= _MAX_LINE and stripped[-1] in ":：>"


def ends_with_bare_verb(line: str) -> bool:
    """``> wrote:`` alone: the last line of a wrapped attribution, even when ``>``-prefixed."""
    return (
        len(line) < 40 and line.rstrip().endswith((":", "：")) and bool(_BARE_VERB_LINE.match(line))
    )


def _window(lines: list[str], start: int, end: int) -> str | None:
    parts = [_text(line) for line in lines[start : end + 1]]
    joined = " ".join(part for part in parts if part)
    return joined if len(joined) <= _MAX_WINDOW else None


def _starts_cleanly(lines: list[str], j: int) -> bool:
    """Whether line j can be the first line of a header that has no opener word.

    Rejects the tail of a wrapped header ("info@x.org> escreveu:", "a écrit :") and lines
    glued to a previous line that is still open ("... <", "...,").
    """
    first = _text(lines[j])
    if _CONTINUATION.match(first):
        return False
    if j == 0 or not lines[j - 1].strip():
        return True
    return not lines[j - 1].rstrip().endswith(("<", ",", '"', "("))


def attribution_start(lines: list[str], i: int) -> int | None:
    """If line i ends a quote attribution, the index of its first line, else None.

    The smallest window wins, so a sentence above a one-line attribution is never eaten.
    Blank lines may sit inside a window only when an opener word starts it (Gmail wraps
    ``<mailto:...>`` that way).
    """
    last = _text(lines[i])
    if len(last) > _MAX_LINE:
        return None
    ends_colon = last.endswith((":", "："))
    contiguous = True
    for j in range(i, max(-1, i - _WINDOW_LINES), -1):
        first = _text(lines[j])
        if (j < i and first.startswith(">")) or len(first) > _MAX_LINE:
            return None
        if not first:
            contiguous = False
            continue
        joined = _window(lines, j, i)
        if joined is None:
            return None
        if ends_colon and _opener_form(joined):
            return j
        if not contiguous or j < i - 2 or not _starts_cleanly(lines, j):
            continue
        if ends_colon and _VERB_FORM.match(joined) and _has_evidence(joined):
            return j
        if _DATE_START.match(joined) and _ADDRESS_END.search(joined):
            return j
    return None


def _opener_form(joined: str) -> bool:
    return (
        _OPENER_START.match(joined) is not None
        and any(ch.isdigit() for ch in joined)
        and _VERB_WORD.search(joined) is not None
    )


def _has_evidence(joined: str) -> bool:
    return "@" in joined or any(ch.isdigit() for ch in joined)


_FIELD_NAMES = {
    "from": "from, von, de, van, da, od, från, fra, от, 发件人, 寄件者, 差出人, lähettäjä, "
    "kimden, feladó, 보낸 사람, από, de la, від",
    "date": "sent, date, gesendet, datum, envoyé, enviado, enviado el, enviada, enviada em, "
    "fecha, verzonden, data, inviato, wysłano, wysłane, skickat, sendt, dato, отправлено, "
    "дата, 发送时间, 日期, 寄件日期, 送信日時, 日付, lähetetty, odesláno, gönderildi, "
    "gönderilme tarihi, elküldve, 보낸 날짜, στάλθηκε, trimis, надіслано",
    "to": "to, an, à, a, para, aan, do, till, til, кому, 收件人, 收件者, 宛先, vastaanottaja, "
    "komu, kime, címzett, 받는 사람, προς, către",
    "cc": "cc, kopia, kopi, копия, копія, 抄送, 副本, dw, kopie, kopio, bilgi, "
    "másolatot kap, 참조, κοιν.",
    "subject": "subject, betreff, objet, asunto, onderwerp, assunto, oggetto, temat, ämne, "
    "emne, тема, 主题, 主旨, 件名, aihe, předmět, konu, tárgy, 제목, θέμα, subiect",
    "reply-to": "reply-to, risposta, antwort an",
}
# Outlook-style header field names, lower-cased, mapped to what they mean.
_FIELDS = {name: meaning for meaning, names in _FIELD_NAMES.items() for name in names.split(", ")}
_FIELD_LINE = re.compile(r"\s*\*{0,2}([^\W\d][\w\-. ]{0,16}?)\*{0,2}\s*[:：]")


def header_field(line: str) -> str | None:
    """The meaning of an unquoted ``Field: value`` header line ("from", "date", ...)."""
    head = line[:26]
    if ":" not in head and "：" not in head:
        return None
    match = _FIELD_LINE.match(line)
    if match is None:
        return None
    return _FIELDS.get(match.group(1).strip().lower())


# What a client writes above a quoted mail it *answers* (Outlook, Thunderbird, Proton)...
_ORIGINAL_PHRASES = frozenset(
    {
        "original message", "ursprüngliche nachricht", "original-nachricht",
        "message d'origine", "message original", "mensaje original", "oorspronkelijk bericht",
        "origineel bericht", "mensagem original", "messaggio originale",
        "wiadomość oryginalna", "oryginalna wiadomość", "ursprungligt meddelande",
        "opprinnelig melding", "oprindelig meddelelse", "alkuperäinen viesti",
        "původní zpráva", "исходное сообщение", "原始邮件", "原始郵件", "元のメッセージ",
    }
)  # fmt: skip
# ...and above a mail it *passes on*: the forwarded mail is what the sender means to show.
_FORWARD_PHRASES = frozenset(
    {
        "forwarded message", "begin forwarded message", "weitergeleitete nachricht",
        "anfang der weitergeleiteten nachricht", "message transféré",
        "début du message réexpédié", "début du message transféré", "mensaje reenviado",
        "comienzo del mensaje reenviado", "doorgestuurd bericht", "begin doorgestuurd bericht",
        "mensagem encaminhada", "início da mensagem reencaminhada", "messaggio inoltrato",
        "inizio messaggio inoltrato", "przekazana wiadomość", "vidarebefordrat meddelande",
        "videresendt melding", "videresendt meddelelse", "пересылаемое сообщение",
        "转发的邮件", "轉寄的郵件", "転送メッセージ",
    }
)  # fmt: skip
# Dashes as clients draw them: ASCII, and the Unicode hyphens and dashes Proton Mail used.
DASHES = "-‐‑‒–—―─"


def _separator_core(line: str) -> str:
    return line.strip().strip(DASHES + "_*=~ >").rstrip(":： ").strip(DASHES + "_* ").lower()


def is_forward_separator(line: str) -> bool:
    """``---------- Forwarded message ---------``, ``Begin forwarded message:`` and their
    translations: a mail passed on, shown in full when nothing was written above it."""
    core = _separator_core(line)
    return 0 < len(core) <= 40 and core in _FORWARD_PHRASES


def is_original_separator(line: str) -> bool:
    """``-----Original Message-----`` and its translations: the mail being answered."""
    core = _separator_core(line)
    return 0 < len(core) <= 40 and core in _ORIGINAL_PHRASES


_FENCED = re.compile(r"[-=]{3,}\s*(.{10,300}?)\s*[-=]*")
# Yahoo writes the time with seconds and a zone: "..., 09:12:00 AM GMT+2, Dana <...> wrote:"
_SECONDS_AND_ZONE = re.compile(
    r"\d{1,2}:\d{2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?\s+(?:GMT|UTC)?[+-]?[A-Z0-9]{2,5}\b"
)


def is_fenced_attribution(line: str) -> bool:
    """Zoho's ``---- On <date> <name> <address> wrote ----`` (its dashes or its verb may
    wrap to the next line)."""
    found = _FENCED.fullmatch(line.strip())
    if found is None:
        return False
    inner = found.group(1)
    has_verb = _VERB_WORD.search(inner) is not None
    opener = _OPENER_START.match(inner) is not None and any(ch.isdigit() for ch in inner)
    return (opener and ("@" in inner or has_verb)) or ("@" in inner and has_verb)


def introduces_unquoted_mail(attribution: str) -> bool:
    """An attribution only a client writes above a mail it quotes without ``>``: Zoho's
    dashed one, or Yahoo's with seconds and a time zone."""
    return is_fenced_attribution(attribution) or (
        _SECONDS_AND_ZONE.search(attribution) is not None
        and _VERB_WORD.search(attribution) is not None
    )
