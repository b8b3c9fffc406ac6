"""A local Twilio: the part of the Messages API we use, over real HTTP, on loopback.

Point ``TICKETGW_TWILIO_API_BASE`` at :attr:`TwilioStandIn.base_url` and the real
``twilio.rest.Client`` talks to it. Tests use it to see what would have reached Twilio, and
``ticketgw demo`` to show the SMS a customer would get, with nothing leaving the machine.

What it speaks, as Twilio does (https://www.twilio.com/docs/messaging/api/message-resource):

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, form-encoded, HTTP basic auth
  with the account SID and auth token (``401``, error 20003 otherwise): ``To``, ``From`` or
  ``MessagingServiceSid``, ``Body``, ``MediaUrl`` (repeated), ``StatusCallback``. Answers
  ``201`` with the Message resource (``SM...`` SID, ``queued``, or ``accepted`` through a
  Messaging Service, ``num_segments`` as carriers count them) or Twilio's error JSON:
  21211 for a ``To`` that is not an E.164 number, 21602-21604 for missing fields, 21617 for
  a body over 1,600 characters. Media of an MMS is fetched from its URLs, as Twilio does.
- ``GET .../Messages/{Sid}.json``, ``GET .../Messages/{Sid}/Media/{MediaSid}``: a message
  and its media content; :meth:`TwilioStandIn.add_media` hosts content the same way, for
  inbound MMS whose ``MediaUrlN`` the gateway must fetch with the account's credentials.

Failures on demand: :meth:`~TwilioStandIn.fail_next` answers the next requests with a status
(429, 500) or an error code; :meth:`~TwilioStandIn.refuse` always refuses one number (21211,
21610). :meth:`~TwilioStandIn.report` posts a status callback signed with the auth token, the
way Twilio reports delivery; :meth:`~TwilioStandIn.report_early` does so for the next message
before its creation is answered, as Twilio may do before the sender has recorded the SID.
Everything received is kept in :attr:`TwilioStandIn.messages`.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

from gateway.sms.segments import measure
from schema.models.base import utcnow

API = "/2010-04-01"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ROUTE = re.compile(
    r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages"
    r"(?:/(?P<sid>(?:SM|MM)\w+)(?:/Media/(?P<media>ME\w+))?)?(?P<json>\.json)?$"
)
# Twilio's own wording for the errors the stand-in can give.
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "The 'From' number is required to send a Message."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
}
_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20500}


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(slots=True)
class Media:
    sid: str
    content_type: str
    content: bytes


@dataclass(slots=True)
class StandInMessage:
    """One message as the stand-in received and stored it."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    media_urls: list[str]
    num_segments: int
    status: str
    created: str  # RFC 2822, as Twilio writes dates
    media: list[Media] = field(default_factory=list)
    form: dict[str, list[str]] = field(default_factory=dict)

    def resource(self) -> dict[str, Any]:
        """The JSON Twilio returns for this message."""
        uri = f"{API}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": self.created,
            "date_sent": None,
            "date_updated": self.created,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": str(len(self.media_urls)),
            # Through a Messaging Service, Twilio reports 0 until it has picked a sender.
            "num_segments": "0" if self.messaging_service_sid else str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": f"{uri}/Media.json",
                "feedback": f"{uri}/Feedback.json",
            },
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass(frozen=True, slots=True)
class _Failure:
    status: int
    code: int


class TwilioStandIn:
    """The stand-in server, in a thread of this process; a context manager."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        host: str = "127.0.0.1",
        fetch_timeout: float = 10.0,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self.fetch_timeout = fetch_timeout
        self.messages: list[StandInMessage] = []
        self.requests = 0  # every Messages.json POST, answered or refused
        self._media: dict[str, Media] = {}  # hosted with add_media
        self._failures: deque[_Failure] = deque()
        self._refused: dict[str, int] = {}
        self._early: tuple[tuple[str, ...], str | None] | None = None
        self.early_answers: list[int] = []  # what the callback URL answered report_early's posts
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings_env(self, sender: str = "+15005550006") -> dict[str, str]:
        """The ``TICKETGW_*`` variables that send through this stand-in from ``sender``."""
        return {
            "TICKETGW_TWILIO_ACCOUNT_SID": self.account_sid,
            "TICKETGW_TWILIO_AUTH_TOKEN": self.auth_token,
            "TICKETGW_TWILIO_FROM": sender,
            "TICKETGW_TWILIO_API_BASE": self.base_url,
        }

    def __enter__(self) -> TwilioStandIn:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="twilio-standin", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    # -- what tests and the demo tell it ------------------------------------------------

    def fail_next(
        self, *, status: int | None = None, code: int | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` message requests with HTTP ``status`` or error ``code``.

        ``fail_next(status=429)`` is Twilio's rate limit (error 20429), ``status=500`` its
        internal error, ``code=21610`` the refusal of an unsubscribed recipient.
        """
        if code is None:
            code = _CODE_FOR_STATUS.get(status or 500, 20500)
        if status is None:
            status = ERRORS.get(code, (500, ""))[0]
        with self._lock:
            self._failures.extend(_Failure(status, code) for _ in range(times))

    def refuse(self, number: str, code: int) -> None:
        """Always refuse messages to ``number`` with error ``code`` (21211, 21610...)."""
        with self._lock:
            self._refused[number] = code

    def report_early(self, *statuses: str, send_to: str | None = None) -> None:
        """Post ``statuses`` for the next message before answering its creation.

        ``send_to`` is where the callbacks really go when the ``StatusCallback`` URL is a
        public one in front of it (a proxy); they are signed for ``StatusCallback``.
        """
        with self._lock:
            self._early = (statuses, send_to)

    def add_media(self, content: bytes, content_type: str) -> str:
        """Host ``content`` as the media of a received MMS; returns its URL (``MediaUrl0``)."""
        message_sid, media = new_sid("MM"), Media(new_sid("ME"), content_type, content)
        with self._lock:
            self._media[media.sid] = media
        messages = f"{self.base_url}{API}/Accounts/{self.account_sid}/Messages"
        return f"{messages}/{message_sid}/Media/{media.sid}"

    def wait_for(
        self, count: int = 1, *, to: str | None = None, after: int = 0, timeout: float = 20.0
    ) -> list[StandInMessage]:
        """Once ``count`` messages (to ``to``, past the first ``after``) arrived: those.

        Raises ``TimeoutError`` after ``timeout`` seconds.
        """

        def matching() -> list[StandInMessage]:
            return [m for m in self.messages[after:] if to is None or m.to == to]

        with self._lock:
            if not self._lock.wait_for(lambda: len(matching()) >= count, timeout):
                raise TimeoutError(f"{len(matching())} of {count} SMS reached the stand-in")
            return matching()

    def report(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        *,
        send_to: str | None = None,
    ) -> int:
        """Post a delivery status callback for message ``sid``, signed as Twilio signs it.

        Returns the HTTP status the callback URL (or ``send_to``) answered.
        """
        with self._lock:
            message = next(m for m in self.messages if m.sid == sid)
        return self._report(message, status, error_code, send_to)

    def _report(
        self, message: StandInMessage, status: str, error_code: int | None, send_to: str | None
    ) -> int:
        sid = message.sid
        if not message.status_callback:
            raise ValueError(f"message {sid} has no StatusCallback")
        form = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_ or "",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.messaging_service_sid:
            form["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return self.post_signed(message.status_callback, form, send_to=send_to)

    def post_signed(self, url: str, form: dict[str, str], *, send_to: str | None = None) -> int:
        """POST ``form`` to ``url`` (or ``send_to``) with ``X-Twilio-Signature`` for ``url``,
        as Twilio calls webhooks."""
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        request = urllib.request.Request(
            send_to or url,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.fetch_timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as err:
            return int(err.code)

    # -- the API ------------------------------------------------------------------------

    def _authorized(self, header: str | None, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        given = (header or "").removeprefix("Basic ").strip()
        return account == self.account_sid and hmac.compare_digest(given, expected)

    def _create(self, account: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        first = {name: values[0] for name, values in form.items() if values}
        to, service = first.get("To", ""), first.get("MessagingServiceSid")
        body, media_urls = first.get("Body", ""), form.get("MediaUrl", [])
        with self._lock:
            self.requests += 1
            injected = self._failures.popleft() if self._failures else None
            refused = self._refused.get(to)
        code: int | None = None
        if injected is not None:
            return _error(injected.status, injected.code, to)
        if not to:
            code = 21604
        elif not _E164.match(to):
            code = 21211
        elif refused is not None:
            code = refused
        elif not (first.get("From") or service):
            code = 21603
        elif not (body or media_urls):
            code = 21602
        elif len(body) > 1600:
            code = 21617
        if code is not None:
            return _error(ERRORS[code][0], code, to)
        message = StandInMessage(
            sid=new_sid("MM" if media_urls else "SM"),
            account_sid=account,
            to=to,
            from_=first.get("From"),
            messaging_service_sid=service,
            body=body,
            status_callback=first.get("StatusCallback"),
            media_urls=media_urls,
            num_segments=max(1, measure(body).segments),
            status="accepted" if service else "queued",
            created=format_datetime(utcnow(), usegmt=True),
            media=[self._fetch(url) for url in media_urls],
            form=form,
        )
        with self._lock:
            early, self._early = self._early, None
        if early is not None:
            statuses, send_to = early
            answers = [self._report(message, status, None, send_to) for status in statuses]
            with self._lock:
                self.early_answers.extend(answers)
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()
        return 201, message.resource()

    def _fetch(self, url: str) -> Media:
        """Fetch an MMS's media as Twilio does before sending (ours with our credentials)."""
        request = urllib.request.Request(url)
        if url.startswith(self.base_url):
            token = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.fetch_timeout) as response:
                kind = response.headers.get_content_type()
                return Media(new_sid("ME"), kind, response.read())
        except (OSError, ValueError):
            return Media(new_sid("ME"), "application/octet-stream", b"")

    def _get(self, account: str, sid: str | None, media: str | None) -> tuple[int, Any]:
        with self._lock:
            if media is not None:
                found = self._media.get(media) or next(
                    (m for msg in self.messages for m in msg.media if m.sid == media), None
                )
                if found is not None:
                    return 200, found
            else:
                message = next((m for m in self.messages if m.sid == sid), None)
                if message is not None:
                    return 200, message.resource()
        return _error(404, 20404, "")


def _error(status: int, code: int, to: str) -> tuple[int, dict[str, Any]]:
    text = ERRORS.get(code, (status, "Error"))[1].format(to=to)
    return status, {
        "code": code,
        "message": text,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(standin: TwilioStandIn) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "twilio-standin"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests and the demo look at what was received, not at an access log."""

        def _route(self) -> re.Match[str] | None:
            path = urllib.parse.urlsplit(self.path).path
            route = _ROUTE.match(path)
            if route is None:
                self._reply(*_error(404, 20404, ""))
                return None
            if not standin._authorized(self.headers.get("Authorization"), route["account"]):
                self._reply(*_error(401, 20003, ""))
                return None
            return route

        def do_POST(self) -> None:
            route = self._route()
            if route is None:
                return
            if route["sid"] or not route["json"]:
                self._reply(*_error(404, 20404, ""))
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            self._reply(*standin._create(route["account"], form))

        def do_GET(self) -> None:
            route = self._route()
            if route is None:
                return
            if not route["sid"] or bool(route["media"]) == bool(route["json"]):
                self._reply(*_error(404, 20404, ""))
                return
            self._reply(*standin._get(route["account"], route["sid"], route["media"]))

        def _reply(self, status: int, content: Any) -> None:
            if isinstance(content, Media):
                data, kind = content.content, content.content_type
            else:
                data, kind = json.dumps(content).encode(), "application/json"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
