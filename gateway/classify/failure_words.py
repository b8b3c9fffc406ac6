"""How delivery-failure notices say "not delivered" in languages other than English.

Written from the notices of European, Russian, Japanese, Chinese and Korean providers
(their own wording, not an MTA's RFC 3464 report). Only ever searched in the subject and
the first lines of mail from a robot sender (``robots.py``), so a customer writing "my
parcel was not delivered" in German is never read against it.
"""

from __future__ import annotations

import re

NOT_DELIVERED = re.compile(
    # de
    r"nicht zugestellt|unzustellbar|nicht zustellbar|zustellung (?:fehlgeschlagen|gescheitert|"
    r"nicht möglich)|konnte nicht (?:zugestellt|übermittelt)|"
    # fr
    r"non remis|n'a pas pu être (?:remis|distribué|livré|délivré)|non distribuable|"
    r"échec (?:de (?:la )?)?(?:remise|livraison|distribution)|"
    r"impossible de (?:remettre|distribuer|livrer)|message non (?:délivré|remis)|"
    # es
    r"no (?:se ha podido|se pudo|pudo ser|ha podido ser) entreg(?:ar|ad[oa])|no entregado|"
    r"(?:error|fallo) (?:de|en la) entrega|imposible entregar|no se puede entregar|"
    # it
    r"non (?:è |e' )?stato recapitato|non recapitat[oa]|mancato recapito|"
    r"impossibile recapitare|errore (?:di|nella) consegna|non consegnat[oa]|"
    # pt
    r"não (?:foi possível |pôde ser )?entreg|falha (?:na|de) entrega|não entregue|"
    # nl
    r"onbestelbaar|kon niet (?:worden )?(?:bezorgd|afgeleverd)|niet (?:bezorgd|afgeleverd)|"
    r"bezorging mislukt|"
    # pl, cs, hu, ro, tr
    r"niedostarcz|nie (?:można|udało się) dostarczyć|nie został[ao]? dostarczon|"
    r"nedoručiteln|nelze doručit|nebyla doručena|kézbesíthetetlen|nem kézbesíthető|"
    r"nu a putut fi livrat|teslim edilemed|iletilemedi|"
    # sv, da, no, fi
    r"kunde inte levereras|olevererbar|ej levererat|kunne ikke leveres|ikke leveret|"
    r"kan ikke leveres|ikke levert|levering mislyktes|ei voitu toimittaa|"
    r"toimitus epäonnistui|"
    # ru, uk, el
    r"не (?:был[оа]? )?доставлен|недоставлен|невозможно доставить|не удалось доставить|"
    r"возвращ[её]нное (?:письмо|сообщение)|не вдалося доставити|"
    r"δεν (?:ήταν δυνατή η παράδοση|παραδόθηκε)|"
    # ja, zh, ko
    r"配信(?:できませんでした|エラー|不能|失敗)|送信エラー|届きませんでした|未配達|"
    r"退信|无法投递|無法投遞|投递失败|投遞失敗|未能送达|无法送达|無法送達|"
    r"전송 실패|배달 실패|전달되지 않았|전달할 수 없",
    re.I,
)
