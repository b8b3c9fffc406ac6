"""Signature delimiters and the device footers mail apps append ("Sent from my iPhone").

Only mechanical signatures are recognised. A sign-off such as "Best regards,\\nJef" is kept
on purpose: it is part of what the person wrote, and guessing where a free-form signature
starts loses content far more often than it saves space.
"""

from __future__ import annotations

import re

# Characters a decorative rule is drawn with. "ᐧ" (U+1427) is the dot some Gmail add-ons
# leave on a line of its own below the reply.
_RULE_CHARS = "-_=*~+#—ᐧ"


def is_signature_delimiter(line: str) -> bool:
    """``-- `` (RFC 3676, often sent without its space): everything below is a signature."""
    return line.strip() == "--"


def is_underscore_rule(line: str) -> bool:
    """A rule of underscores: what Outlook draws above the quoted header and Mailman above
    its list footer, but also what newsletters draw between sections."""
    stripped = line.strip()
    return len(stripped) >= 2 and stripped.strip("_") == ""


def is_rule(line: str) -> bool:
    """A line drawn only with rule characters (``-----``, ``* * *``, ``====``, ``ᐧ``).

    Weaker than :func:`is_signature_delimiter`: markdown uses such lines inside a message,
    so the caller cuts at one only when nothing but history follows it.
    """
    stripped = line.replace(" ", "").strip()
    if stripped == "ᐧ":
        return True
    return len(stripped) >= 3 and stripped.strip(_RULE_CHARS) == "" and len(set(stripped)) <= 2


_URL = re.compile(r"<?\(?https?://\S*|\[([^\]]*)\]\([^)]*\)")
_SENT_VERB = (
    r"sent|envoyé|envoye|enviado|enviada|inviato|verzonden|verstuurd|sendt|skickat|"
    r"wysłane|wysłano|отправлено|gesendet|odesláno|lähetetty"
)
_DEVICE_FOOTER = re.compile(
    rf"(?:{_SENT_VERB})\s+(?:from|with|via|using|by|de|depuis|desde|do|da|dal|met|vanaf|van|"
    r"fra|från|med|z|с|из|von|mit)\b.{0,80}"
    r"|lähetetty\s+\S.{0,40}"  # fi: "Lähetetty iPhonesta" (the case ending is the "from")
    r"|\S.{0,40}\s+gönderildi"  # tr: "iPhone'umdan gönderildi"
    r"|\S.{0,40}에서\s*보냈습니다"  # ko: "... 스마트폰에서 보냈습니다"
    r"|(?:\w+\s+)?from\s+(?:my\s+|a\s+)?\w+(?:\s+\w+)?"
    r"|von\s+meinem\s.{1,40}\sgesendet"
    r"|diese\s+nachricht\s+wurde\s+von\s+meinem\s.{1,60}\sgesendet"
    r"|get\s+outlook\s+for\s.{0,30}"
    r"|(?:从|從|发自|發自|寄自|来自|來自)我的\s*\S.{0,20}"
    r"|\S{1,20}から送信"
)
_DEVICE_WORD = re.compile(
    r"iphon|ipad|ipod|android|mobile|phone|cell|device|galaxy|blackberry|samsung|htc|nokia|"
    r"windows|outlook|mail|mailbox|airmail|sparrow|yahoo|k-9|tablet|handy|mobilgerät|"
    r"smartphone|pc|my\s|mon\s|mi\s|meu\s|mijn\s|min\s|mój\s|моего\s|我的"
)
# Every footer pattern contains one of these; most lines fail this cheap test. (Substring
# tests, because an alternation regex tries every word at every position.)
_HINTS = (
    "sent", "from", "envoy", "envia", "inviat", "verzon", "verstuur", "sendt", "skick", "wysła",
    "отправ", "gesendet", "outlook", "我的", "から送信", "odeslán", "lähetetty", "gönderildi",
    "보냈습니다",
)  # fmt: skip
_EXCUSE = re.compile(r"excuse|typo|brevity|kurz|fautes|errores")
# "Sent via the Samsung Galaxy S21 5G, an AT&T 5G smartphone": a clause naming the device.
_DEVICE_CLAUSE = re.compile(r",\s+an?\s+.{0,40}(?:smartphone|phone|device|tablet)$")


def is_device_footer(line: str) -> bool:
    """A "Sent from my iPhone" style footer in one of the common languages.

    "Sent from my desk, is much easier then my mobile phone." is a sentence, not a footer:
    a footer is short, names a device or app, and has no clause after a comma unless that
    clause apologises for typos.
    """
    if len(line) > 160:
        return False
    lowered = line.lower()
    if not any(hint in lowered for hint in _HINTS):
        return False
    core = _URL.sub(r"\1", line).strip().strip("()<>*_[] ").lower()
    if not core or len(core) > 90:
        return False
    if _DEVICE_FOOTER.fullmatch(core.rstrip(". ")) is None:
        return False
    if "," in core and not (_EXCUSE.search(core) or _DEVICE_CLAUSE.search(core.rstrip(". "))):
        return False
    return _DEVICE_WORD.search(core) is not None
