"""How the common mail clients introduce a quote, in their locales, as they write it into
the text/plain part of a reply.

Each entry is ``(client, locale, header, style)``: ``header`` is the line (or lines) the
client writes above the quoted mail, ``style`` says how the quoted mail follows: ``">"``
(every line prefixed), ``"plain"`` (as it was, Outlook and Yahoo do this), ``"indent"``
(indented by spaces). Written by hand from the clients' output (dates are 3 June 2024,
09:12; the quoted sender Dana Example <dana@example.com>).
"""

from __future__ import annotations

NAME = "Dana Example <dana@example.com>"
Q, PLAIN, INDENT = ">", "plain", "indent"

GMAIL = [
    ("en-US", f"On Mon, Jun 3, 2024 at 9:12 AM {NAME} wrote:", Q),
    ("en-GB", f"On Mon, 3 Jun 2024 at 09:12, {NAME} wrote:", Q),
    ("en-mobile", "On Mon, 3 Jun 2024, 09:12 Dana Example, <dana@example.com> wrote:", Q),
    ("en-iso", f"On 2024-06-03 09:12, {NAME} wrote:", Q),
    ("de", f"Am Mo., 3. Juni 2024 um 09:12 Uhr schrieb {NAME}:", Q),
    ("fr", f"Le lun. 3 juin 2024 à 09:12, {NAME} a écrit :", Q),
    ("es", "El lun, 3 jun 2024 a las 9:12, Dana Example (<dana@example.com>) escribió:", Q),
    ("it", f"Il giorno lun 3 giu 2024 alle ore 09:12 {NAME} ha scritto:", Q),
    ("pt-BR", f"Em seg., 3 de jun. de 2024 às 09:12, {NAME} escreveu:", Q),
    ("nl", f"Op ma 3 jun 2024 om 09:12 schreef {NAME}:", Q),
    ("pl", f"pon., 3 cze 2024 o 09:12 {NAME} napisał(a):", Q),
    ("sv", f"Den mån 3 juni 2024 kl 09:12 skrev {NAME}:", Q),
    ("da", f"Den man. 3. jun. 2024 kl. 09.12 skrev {NAME}:", Q),
    ("nb", f"man. 3. jun. 2024 kl. 09:12 skrev {NAME}:", Q),
    ("fi", "ma 3. kesäk. 2024 klo 9.12 Dana Example (dana@example.com) kirjoitti:", Q),
    ("ru", f"пн, 3 июн. 2024 г. в 09:12, {NAME}:", Q),
    ("uk", f"пн, 3 черв. 2024 р. о 09:12 {NAME} пише:", Q),
    ("cs", f"po 3. 6. 2024 v 9:12 odesílatel {NAME} napsal:", Q),
    ("tr", f"{NAME}, 3 Haz 2024 Pzt, 09:12 tarihinde şunu yazdı:", Q),
    ("hu", f"{NAME} ezt írta (időpont: 2024. jún. 3., H, 9:12):", Q),
    ("ro", f"Pe lun., 3 iun. 2024 la 09:12, {NAME} a scris:", Q),
    ("el", f"Στις Δευ 3 Ιουν 2024 στις 9:12 π.μ., ο/η {NAME} έγραψε:", Q),
    ("ja", f"2024年6月3日(月) 9:12 {NAME}:", Q),
    ("zh-CN", f"{NAME} 于2024年6月3日周一 09:12写道：", Q),
    ("zh-TW", f"{NAME} 於 2024年6月3日 週一 上午9:12寫道：", Q),
    ("ko", f"2024년 6월 3일 (월) 오전 9:12, {NAME}님이 작성:", Q),
    ("id", f"Pada tanggal Sen, 3 Jun 2024 pukul 09.12 {NAME} menulis:", Q),
    ("vi", f"Vào Th 2, 3 thg 6, 2024 vào lúc 09:12 {NAME} đã viết:", Q),
    (
        "en-wrapped",
        "On Mon, Jun 3, 2024 at 9:12 AM Dana Example via Example Support Desk <\n"
        "support@example.com> wrote:",
        Q,
    ),
    (
        "de-wrapped-3",
        "Am Mo., 3. Juni 2024 um 09:12 Uhr schrieb Dana Example vom\n"
        "Kundendienst der Example GmbH <\ndana.example@kundendienst.example.com>:",
        Q,
    ),
]

_OUTLOOK_FIELDS = {
    "en": ("From", "Sent", "To", "Cc", "Subject", "Monday, June 3, 2024 9:12 AM"),
    "de": ("Von", "Gesendet", "An", "Cc", "Betreff", "Montag, 3. Juni 2024 09:12"),
    "fr": ("De", "Envoyé", "À", "Cc", "Objet", "lundi 3 juin 2024 09:12"),
    "es": ("De", "Enviado el", "Para", "CC", "Asunto", "lunes, 3 de junio de 2024 9:12"),
    "it": ("Da", "Inviato", "A", "Cc", "Oggetto", "lunedì 3 giugno 2024 09:12"),
    "nl": ("Van", "Verzonden", "Aan", "CC", "Onderwerp", "maandag 3 juni 2024 09:12"),
    "pt-BR": ("De", "Enviada em", "Para", "Cc", "Assunto", "segunda-feira, 3 de junho de 2024"),
    "pl": ("Od", "Wysłane", "Do", "DW", "Temat", "poniedziałek, 3 czerwca 2024 09:12"),
    "sv": ("Från", "Skickat", "Till", "Kopia", "Ämne", "den 3 juni 2024 09:12"),
    "da": ("Fra", "Sendt", "Til", "Cc", "Emne", "3. juni 2024 09:12"),
    "fi": ("Lähettäjä", "Lähetetty", "Vastaanottaja", "Kopio", "Aihe", "3. kesäkuuta 2024 9.12"),
    "ru": ("От", "Отправлено", "Кому", "Копия", "Тема", "3 июня 2024 г. 9:12"),
    "cs": ("Od", "Odesláno", "Komu", "Kopie", "Předmět", "pondělí 3. června 2024 9:12"),
    "tr": ("Kimden", "Gönderildi", "Kime", "Bilgi", "Konu", "3 Haziran 2024 Pazartesi 09:12"),
    "hu": ("Feladó", "Elküldve", "Címzett", "Másolatot kap", "Tárgy", "2024. június 3. 9:12"),
    "ja": ("差出人", "送信日時", "宛先", "CC", "件名", "2024年6月3日 9:12"),
    "zh-CN": ("发件人", "发送时间", "收件人", "抄送", "主题", "2024年6月3日 9:12"),
    "zh-TW": ("寄件者", "寄件日期", "收件者", "副本", "主旨", "2024年6月3日 上午 09:12"),
    "ko": (
        "보낸 사람",
        "보낸 날짜",
        "받는 사람",
        "참조",
        "제목",
        "2024년 6월 3일 월요일 오전 9:12",
    ),
    "el": ("Από", "Στάλθηκε", "Προς", "Κοιν.", "Θέμα", "Δευτέρα, 3 Ιουνίου 2024 9:12 πμ"),
    "ro": ("De la", "Trimis", "Către", "Cc", "Subiect", "luni, 3 iunie 2024 09:12"),
    "uk": ("Від", "Надіслано", "Кому", "Копія", "Тема", "3 червня 2024 р. 9:12"),
}


def _outlook(locale: str, *, rule: bool, colon: str = ":") -> str:
    sender, sent, to, cc, subject, date = _OUTLOOK_FIELDS[locale]
    colon = " :" if locale == "fr" else colon
    block = (
        f"{sender}{colon} {NAME}\n{sent}{colon} {date}\n{to}{colon} Kim <kim@example.org>\n"
        f"{cc}{colon} Lee <lee@example.org>\n{subject}{colon} RE: Router"
    )
    return ("________________________________\n" if rule else "") + block


OUTLOOK = [(f"desktop-{loc}", _outlook(loc, rule=True), PLAIN) for loc in _OUTLOOK_FIELDS]
OUTLOOK += [(f"web-{loc}", _outlook(loc, rule=False), PLAIN) for loc in ("en", "de", "fr", "ja")]
OUTLOOK += [
    (
        "mobile-en",
        f"From: {NAME}\nSent: Monday, June 3, 2024 9:12:00 AM\nTo: Kim <kim@example.org>\n"
        "Subject: RE: Router",
        PLAIN,
    ),
    (
        "mac-en",
        f"From: {NAME}\nDate: Monday, 3 June 2024 at 09:12\nTo: Kim <kim@example.org>\n"
        "Subject: RE: Router",
        PLAIN,
    ),
    (
        "mac-de",
        f"Von: {NAME}\nDatum: Montag, 3. Juni 2024 um 09:12\nAn: Kim <kim@example.org>\n"
        "Betreff: AW: Router",
        PLAIN,
    ),
    (
        "html-bold",
        f"**From:** {NAME}\n**Sent:** Monday, June 3, 2024 9:12 AM\n**To:** Kim "
        "<kim@example.org>\n**Subject:** RE: Router",
        PLAIN,
    ),
    (
        "wrapped-recipients",
        f"From: {NAME}\nSent: Monday, June 3, 2024 9:12 AM\n"
        "To: Kim Example <kim@example.org>; Lee Example <lee@example.org>; Maria\n"
        "Example <maria@example.org>; Noor Example <noor@example.org>; Olga\n"
        "Example <olga@example.org>\nSubject: RE: Router keeps rebooting every\nnight",
        PLAIN,
    ),
]

APPLE = [
    ("en-US", f"On Jun 3, 2024, at 9:12 AM, {NAME} wrote:", Q),
    ("en-GB", f"On 3 Jun 2024, at 09:12, {NAME} wrote:", Q),
    ("de", f"Am 03.06.2024 um 09:12 schrieb {NAME}:", Q),
    ("fr", f"Le 3 juin 2024 à 09:12, {NAME} a écrit :", Q),
    ("es", f"El 3 jun 2024, a las 9:12, {NAME} escribió:", Q),
    ("it", f"Il giorno 3 giu 2024, alle ore 09:12, {NAME} ha scritto:", Q),
    ("nl", f"Op 3 jun. 2024 om 09:12 heeft {NAME} het volgende geschreven:", Q),
    ("pt", f"Em 3 de jun. de 2024, à(s) 09:12, {NAME} escreveu:", Q),
    ("sv", f"3 juni 2024 kl. 09:12 skrev {NAME}:", Q),
    ("da", f"Den 3. jun. 2024 kl. 09.12 skrev {NAME}:", Q),
    ("pl", f"Wiadomość napisana przez {NAME} w dniu 03.06.2024, o godz. 09:12:", Q),
    ("ru", f"3 июня 2024 г., в 09:12, {NAME} написал(а):", Q),
    ("fi", f"{NAME} kirjoitti 3.6.2024 kello 9.12:", Q),
    ("ja", f"2024/06/03 9:12、{NAME}のメール:", Q),
    ("zh", f"2024年6月3日 09:12，{NAME} 写道：", Q),
    ("ios-quoted", f"> On 3 Jun 2024, at 09:12, {NAME} wrote:\n>", Q),
]

THUNDERBIRD = [
    ("en", "On 03.06.24 09:12, Dana Example wrote:", Q),
    ("en-US", "On 6/3/24 9:12 AM, Dana Example wrote:", Q),
    ("de", "Am 03.06.24 um 09:12 schrieb Dana Example:", Q),
    ("fr", "Le 03/06/2024 à 09:12, Dana Example a écrit :", Q),
    ("es", "El 3/6/24 a las 9:12, Dana Example escribió:", Q),
    ("it", "Il 03/06/24 09:12, Dana Example ha scritto:", Q),
    ("nl", "Op 03-06-2024 om 09:12 schreef Dana Example:", Q),
    ("pl", "W dniu 3.06.2024 o 09:12, Dana Example pisze:", Q),
    ("ru", "03.06.2024 9:12, Dana Example пишет:", Q),
    ("cs", "Dne 03. 06. 24 v 9:12 Dana Example napsal(a):", Q),
    ("sv", "2024-06-03 kl. 09:12, skrev Dana Example:", Q),
    ("original-message", f"-------- Original Message --------\nSubject: Router\n"
     f"Date: Mon, 3 Jun 2024 09:12:00 +0200\nFrom: {NAME}\nTo: Kim <kim@example.org>", PLAIN),
]  # fmt: skip

YAHOO = [
    ("en", f"On Monday, June 3, 2024 at 09:12:00 AM GMT+2, {NAME} wrote:", PLAIN),
    ("en-indented", f"    On Monday, June 3, 2024, 09:12:00 AM GMT+2, {NAME} wrote:", INDENT),
    ("de", f"Am Montag, 3. Juni 2024 um 09:12:00 MESZ hat {NAME} Folgendes geschrieben:", PLAIN),
    ("fr", f"Le lundi 3 juin 2024 à 09:12:00 UTC+2, {NAME} a écrit :", PLAIN),
    ("es", f"El lunes, 3 de junio de 2024, 09:12:00 GMT+2, {NAME} escribió:", PLAIN),
    ("it", f"Il lunedì 3 giugno 2024, 09:12:00 CEST, {NAME} ha scritto:", PLAIN),
    ("pt-BR", f"Em segunda-feira, 3 de junho de 2024 09:12:00 BRT, {NAME} escreveu:", PLAIN),
]

ZOHO = [
    ("en", f"---- On Mon, 03 Jun 2024 09:12:00 +0200 {NAME} wrote ----", PLAIN),
    ("en-tight", "---- On Mon, 03 Jun 2024 09:12:00 +0530 Dana Example<dana@example.com> wrote ---",
     PLAIN),
    ("de", f"---- Am Mo, 03 Jun 2024 09:12:00 +0200 schrieb {NAME} ---", PLAIN),
    ("fr", f"---- Le lun., 03 juin 2024 09:12:00 +0200 {NAME} a écrit ---", PLAIN),
]  # fmt: skip

PROTON = [
    ("en", f"------- Original Message -------\nOn Monday, June 3rd, 2024 at 09:12, {NAME} "
     "wrote:", Q),
    ("en-old", f"‐‐‐‐‐‐‐ Original Message ‐‐‐‐‐‐‐\nOn Monday, June 3, 2024 9:12 AM, {NAME} "
     "wrote:", Q),
    ("de", f"------- Original-Nachricht -------\nAm Montag, 3. Juni 2024 um 09:12 schrieb {NAME}:",
     Q),
    ("fr", f"-------- Message d'origine --------\nLe lundi 3 juin 2024 à 09:12, {NAME} a écrit :",
     Q),
]  # fmt: skip

CLIENTS = {
    "gmail": GMAIL,
    "outlook": OUTLOOK,
    "apple": APPLE,
    "thunderbird": THUNDERBIRD,
    "yahoo": YAHOO,
    "zoho": ZOHO,
    "proton": PROTON,
}

FOOTERS = [
    "Sent from my iPhone",
    "Sent from my iPad",
    "Sent from my Galaxy",
    "Sent from my Samsung Galaxy smartphone.",
    "Sent from my Huawei phone",
    "Sent from my BlackBerry 10 smartphone.",
    "Sent from my T-Mobile 4G LTE Device",
    "Sent via the Samsung Galaxy S21 5G, an AT&T 5G smartphone",
    "Sent from Yahoo Mail for iPhone",
    "Sent from Yahoo Mail on Android",
    "Sent from Mail for Windows",
    "Sent from Outlook",
    "Sent from Outlook for iOS",
    "Get Outlook for Android",
    "Sent from Gmail Mobile",
    "Sent from Proton Mail mobile",
    "Sent with Proton Mail secure email.",
    "Sent from Zoho Mail",
    "Sent from my Android device with K-9 Mail. Please excuse my brevity.",
    "Sent from Mail.ru app for Android",
    "Envoyé de mon iPhone",
    "Envoyé depuis mon smartphone Samsung Galaxy.",
    "Von meinem iPhone gesendet",
    "Von meinem Samsung Galaxy Smartphone gesendet.",
    "Gesendet von meinem iPad",
    "Gesendet mit der WEB.DE Mail App",
    "Enviado desde mi iPhone",
    "Enviado desde mi smartphone Samsung Galaxy.",
    "Enviado do meu iPhone",
    "Inviato da iPhone",
    "Inviato dal mio smartphone Samsung Galaxy.",
    "Verzonden vanaf mijn iPhone",
    "Verstuurd vanaf mijn iPhone",
    "Skickat från min iPhone",
    "Sendt fra min iPhone",
    "Lähetetty iPhonesta",
    "Wysłane z iPhone'a",
    "Odesláno z iPhonu",
    "iPhone'umdan gönderildi",
    "Отправлено с iPhone",
    "Отправлено из мобильной Почты Mail.ru",
    "iPhoneから送信",
    "发自我的iPhone",
    "從我的 iPhone 傳送",
    "Samsung Galaxy 스마트폰에서 보냈습니다.",
]
