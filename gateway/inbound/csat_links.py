"""``GET /csat/<token>/<rating>``: a customer's click on a rating link of the resolved mail.

A genuine token (``gateway.csat.links``) and a rating 1-5 record the answer and show a
small page of thanks; the same click again shows the same page (idempotent). A forged or
malformed token is ``403`` and records nothing; a rating outside 1-5 is ``404``. Only GET:
HEAD (which some mail scanners send) records nothing.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor
from html import escape

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from gateway.csat import links
from gateway.csat.by_link import LinkResult, rate_by_link
from gateway.runtime import Runtime
from schema.models.base import utcnow

log = logging.getLogger(__name__)

FORBIDDEN = "403 forbidden: this rating link is not valid\n"
NOT_FOUND = "404 not found\n"
TRY_LATER = "503 cannot record your rating right now, please try again later\n"

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;max-width:32em;margin:3em auto;padding:0 1em;">
<h1 style="font-size:1.4em;">{title}</h1>
<p>{body}</p>
</body></html>
"""


def page(result: LinkResult) -> str:
    """The confirmation page for what became of the click."""
    ref = escape(result.reference)
    if result.outcome == "not_asked":
        title, body = "No survey for this ticket", f"Ticket {ref} has no open survey."
    else:
        title = "Thank you for your rating"
        body = f"Your rating of ticket {ref}: <strong>{result.rating} of 5</strong>."
        if result.outcome == "already_rated":
            body += " It was already recorded; a ticket is rated once."
    return _PAGE.format(title=title, body=body)


class CsatLinks:
    """The ``/csat/{token}/{rating}`` handler; the database work runs in ``executor``."""

    def __init__(self, runtime: Runtime, executor: Executor) -> None:
        self.runtime = runtime
        self.executor = executor

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/csat/{token}/{rating}", self.rate, allow_head=False)]

    async def rate(self, request: web.Request) -> web.Response:
        ticket_id = links.read_token(self.runtime.settings.secret_key, request.match_info["token"])
        if ticket_id is None:
            return web.Response(status=403, text=FORBIDDEN)
        raw = request.match_info["rating"]
        if raw not in {str(n) for n in links.RATINGS}:
            return web.Response(status=404, text=NOT_FOUND)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self.executor, self._record, ticket_id, int(raw))
        except SQLAlchemyError as exc:
            log.error("could not record a rating of ticket %s: %s", ticket_id, exc)
            return web.Response(status=503, text=TRY_LATER)
        if result is None:
            return web.Response(status=404, text=NOT_FOUND)
        return web.Response(text=page(result), content_type="text/html")

    def _record(self, ticket_id: int, rating: int) -> LinkResult | None:
        with self.runtime.transaction() as session:
            return rate_by_link(session, ticket_id, rating, utcnow())
