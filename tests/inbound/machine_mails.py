"""Machine mail that carries none of the usual headers (no multipart/report, no
Auto-Submitted, no List-Id, a sender other than ``<>``), written after the formats real
providers and list servers send.

Each entry is ``(id, raw mail, expected kind, a word the stored reason must contain)``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

OUR_ACK_ID = "ack-77@example.com"  # the notification that bounced, in the reports below


def _mail(sender: str, subject: str, body: str, *, envelope: str | None = None) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    msg["Message-ID"] = make_msgid(domain="robot.example.net")
    if envelope is not None:
        msg["Return-Path"] = f"<{envelope}>"
    msg.set_content(body)
    return msg.as_bytes()


# -- delivery failures in other languages, from robot addresses ---------------------------

FAILURES = [
    (
        "de-noreply",
        "Mail-System <noreply@mail.example.de>",
        "Nachricht konnte nicht zugestellt werden",
        "Ihre Nachricht an bob@example.org konnte nicht zugestellt werden.\n"
        "Der Empfänger ist unbekannt.\n",
    ),
    (
        "fr-no-reply",
        "Orange <no-reply@mail.example.fr>",
        "Échec de la remise du message",
        "Votre message n'a pas pu être remis au destinataire suivant :\n\n"
        "bob@example.org : adresse introuvable\n",
    ),
    (
        "es-mailer-daemon",
        "MAILER-DAEMON@correo.example.es",
        "No se ha podido entregar el mensaje",
        "No se ha podido entregar su mensaje a los siguientes destinatarios:\n\n"
        "    bob@example.org\n\nEl buzón no existe.\n",
    ),
    (
        "it-postmaster",
        "Postmaster <postmaster@posta.example.it>",
        "Mancato recapito del messaggio",
        "Il messaggio non è stato recapitato ai seguenti destinatari:\n\n"
        "bob@example.org - casella inesistente\n",
    ),
    (
        "pt-no_reply",
        "no_reply@email.example.com.br",
        "Mensagem não entregue",
        "Não foi possível entregar sua mensagem para bob@example.org.\n"
        "O endereço de e-mail não existe.\n",
    ),
    (
        "nl-donotreply",
        "DoNotReply@mail.example.nl",
        "Bericht kon niet worden bezorgd",
        "Uw bericht aan bob@example.org kon niet worden bezorgd.\nHet adres bestaat niet.\n",
    ),
    (
        "pl-mailerdaemon",
        "Administrator poczty <mailerdaemon@poczta.example.pl>",
        "Wiadomość niedostarczona",
        "Nie można dostarczyć wiadomości do adresata bob@example.org.\nSkrzynka nie istnieje.\n",
    ),
    (
        "sv-postmaster",
        "postmaster@mail.example.se",
        "Meddelandet kunde inte levereras",
        "Ditt meddelande till bob@example.org kunde inte levereras.\n",
    ),
    (
        "ru-mailer-daemon",
        "Mail Delivery <mailer-daemon@corp.example.ru>",
        "Сообщение не доставлено",
        "Ваше сообщение не было доставлено следующим адресатам:\n\n"
        "bob@example.org: пользователь не найден\n",
    ),
    (
        "ja-postmaster",
        "postmaster@mail.example.jp",
        "配信エラー: メールを配信できませんでした",
        "次の宛先へのメールは配信できませんでした。\n\nbob@example.org\n",
    ),
    (
        "zh-no-reply",
        "系统退信 <no-reply@mail.example.cn>",
        "系统退信",
        "您发送的邮件无法投递到以下收件人：\n\nbob@example.org\n\n原因：收件人不存在\n",
    ),
    (
        "tr-noreply",
        "noreply+bounces@posta.example.com.tr",
        "İleti teslim edilemedi",
        "bob@example.org adresine gönderdiğiniz ileti teslim edilemedi.\n",
    ),
]


def failures() -> list[tuple[str, bytes, str, str]]:
    return [
        (name, _mail(sender, subject, body), "bounce", "sender")
        for name, sender, subject, body in FAILURES
    ]


# -- mail service providers' notifications ------------------------------------------------


def _ses_bounce() -> bytes:
    inner = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "bob@example.org",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2026-03-02T10:00:01.000Z",
        },
        "mail": {
            "messageId": "0100018e-5e3c",
            "source": "support@example.com",
            "commonHeaders": {"messageId": f"<{OUR_ACK_ID}>", "subject": "[T-000001] Received"},
        },
    }
    outer = {
        "Type": "Notification",
        "MessageId": "5d6f3a52-0000",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-bounces",
        "Message": json.dumps(inner),
        "Timestamp": "2026-03-02T10:00:02.000Z",
    }
    return _mail(
        "AWS Notifications <no-reply@sns.amazonaws.com>",
        "AWS Notification Message",
        json.dumps(outer, indent=2),
    )


def _ses_complaint() -> bytes:
    inner = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "bob@example.org"}],
            "complaintFeedbackType": "abuse",
        },
        "mail": {"commonHeaders": {"messageId": f"<{OUR_ACK_ID}>"}},
    }
    outer = {"Type": "Notification", "Message": json.dumps(inner)}
    return _mail(
        "AWS Notifications <no-reply@sns.amazonaws.com>",
        "AWS Notification Message",
        json.dumps(outer),
    )


def _sendgrid() -> bytes:
    events = [
        {
            "email": "bob@example.org",
            "event": "bounce",
            "type": "bounce",
            "status": "5.1.1",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
            "smtp-id": f"<{OUR_ACK_ID}>",
            "timestamp": 1772445601,
        }
    ]
    return _mail("SendGrid <notifications@sendgrid.net>", "Event notification", json.dumps(events))


def _mailgun() -> bytes:
    payload = {
        "signature": {"timestamp": "1772445601", "token": "abc", "signature": "def"},
        "event-data": {
            "event": "failed",
            "severity": "permanent",
            "recipient": "bob@example.org",
            "delivery-status": {"code": 550, "message": "5.1.1 mailbox unavailable"},
            "message": {"headers": {"message-id": OUR_ACK_ID}},
        },
    }
    return _mail("Mailgun <postmaster@mg.example.com>", "Webhook: failed", json.dumps(payload))


def _postmark() -> bytes:
    payload = {
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "Email": "bob@example.org",
        "MessageID": "883953f4-6105-42a2",
        "Description": "The subscriber explicitly marked this message as spam.",
    }
    return _mail("Postmark <support@postmarkapp.com>", "Spam complaint", json.dumps(payload))


def _text_notice() -> bytes:
    return _mail(
        "Brevo <no-reply@brevo.com>",
        "Hard bounce notification",
        "A hard bounce was recorded for the following contact:\n\nbob@example.org\n\n"
        "The address has been blocked for future sends.\n",
    )


def providers() -> list[tuple[str, bytes, str, str]]:
    return [
        ("ses-bounce-json", _ses_bounce(), "bounce", "Amazon SES"),
        ("ses-complaint-json", _ses_complaint(), "bounce", "Amazon SES"),
        ("sendgrid-json", _sendgrid(), "bounce", "SendGrid"),
        ("mailgun-json", _mailgun(), "bounce", "Mailgun"),
        ("postmark-json", _postmark(), "bounce", "Postmark"),
        ("provider-text", _text_notice(), "bounce", "Brevo"),
    ]


# -- list moderation notices --------------------------------------------------------------

MODERATION = [
    (
        "mailman3-held",
        "users-owner@lists.example.org",
        "Your message to users@lists.example.org awaits moderator approval",
        "Your mail to 'users@lists.example.org' with the subject\n\n    Printer on fire\n\n"
        "Is being held until the list moderator can review it for approval.\n\n"
        "The message is being held because:\n\n    The message is not from a list member\n",
    ),
    (
        "mailman2-held-de",
        "users-bounces@lists.example.org",
        "Ihre Nachricht an users wartet auf die Freigabe durch den Moderator",
        "Ihre Nachricht an 'users' mit dem Betreff\n\n    Printer on fire\n\n"
        "wird zurückgehalten, bis der Moderator sie prüfen kann.\n",
    ),
    (
        "google-groups-pending",
        "users+noreply@googlegroups.com",
        "Your message is awaiting moderation",
        "Your message to the users group is pending approval by a group manager.\n",
    ),
    (
        "sympa-editor",
        "sympa@lists.example.org",
        "Message distribution: Forwarded to the moderators",
        "Your message for list users has been forwarded to editor(s).\n",
    ),
    (
        "mailman-rejected",
        "users-owner@lists.example.org",
        "Request to mailing list Users rejected",
        "Your request to the Users mailing list\n\n    Posting of your message titled "
        '"Printer on fire"\n\nhas been rejected by the list moderator.\n',
    ),
]


def moderation() -> list[tuple[str, bytes, str, str]]:
    return [
        (name, _mail(sender, subject, body), "auto_reply", "moderation")
        for name, sender, subject, body in MODERATION
    ]


def machine_mails() -> list[tuple[str, bytes, str, str]]:
    return [*failures(), *providers(), *moderation()]
