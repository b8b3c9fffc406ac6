"""Reply prefixes of subject lines: ``Re:``, ``AW:``, ``SV:``, ``回复:`` and the others.

Mail clients put a prefix in their own language before the subject they answer, and some
stack them (``RE: AW: Printer``) or count them (``Re[2]:``, ``Re^2:``). Forward prefixes
(``Fwd:``, ``WG:``, ``TR:``) are not reply prefixes: a forward is somebody passing a mail
on, not answering it.
"""

from __future__ import annotations

import re

# en/most, de (AW, Antwort), nl (Antw), da/no/sv (SV, Svar), fi (Vast), pl (Odp),
# tr (Ynt, Cvp), pt-BR (RES), it (R, RIF), hu (Vá), hr/sr (Odg), lv (Atb), id (BLS),
# el (ΑΠ, Απ), ru (Отв, Ответ), uk (Відп), zh (回复, 回覆, 答复), ja (返信), ko (회신, 답장),
# he (תשובה).
_PREFIX = re.compile(
    r"\s*(?:re|aw|antw|antwort|sv|svar|vast|odp|ynt|cvp|res|r|rif|vá|odg|atb|bls|απ|"
    r"отв|ответ|відп|回复|回覆|答复|返信|회신|답장|תשובה)"
    r"(?:\s*\[\d{1,3}\]|\s*\(\d{1,3}\)|\^\d{1,3})?\s*[:：]\s*",
    re.IGNORECASE,
)
# Finnish Outlook writes "VS:" for a reply, Danish and Norwegian for a forward: taken as a
# forward, the safe reading for both (not threaded by subject; a quote stays visible).
_FORWARD = re.compile(
    r"\s*(?:fwd?|wg|tr|rv|i|enc|doorst|vb|vs|vl|pd|ilt|İlt|пересл|fw|转发|轉寄|転送|전달)"
    r"\s*[:：]",
    re.IGNORECASE,
)
_MAX_PREFIXES = 10


def reply_variants(subject: str) -> list[str]:
    """``subject`` and each shorter form after one more leading reply prefix, in order.

    ``"RE: AW: Printer"`` gives ``["RE: AW: Printer", "AW: Printer", "Printer"]``; a subject
    without a reply prefix gives ``[]``: it is not a reply.
    """
    variants = [subject.strip()]
    rest = subject
    for _ in range(_MAX_PREFIXES):
        found = _PREFIX.match(rest)
        if found is None or found.end() == len(rest):
            break
        rest = rest[found.end() :]
        variants.append(rest.strip())
    return variants if len(variants) > 1 else []


def is_forward(subject: str) -> bool:
    """Whether the subject starts with a forward prefix (``Fwd:``, ``WG:``, ``TR:``, ...)."""
    return _FORWARD.match(subject) is not None
