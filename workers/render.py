"""Render notification templates: email (subject, text, HTML) and SMS (text).

Templates live in ``templates/email/<name>[.<locale>].<part>.j2`` (parts ``subject``,
``txt``, ``html``) and ``templates/sms/<name>[.<locale>].txt.j2``; the variables every
template receives are listed in docs/notifications.md (built by
:mod:`gateway.template_vars`).

Lookup, for each part on its own: the locale chain first (``de-AT`` tries ``de-at``, then
``de``, then no locale), and for each of those names the user's ``templates_dir``
(``TICKETGW_TEMPLATES_DIR``) before the packaged defaults. So a user file overrides exactly
the one part it replaces; everything else falls back.

Safety: a missing variable is an error (``StrictUndefined``), and so is printing a null
value, so a customer never gets "Dear ," or "Dear None,". Only ``.html.j2`` is autoescaped.

Speed: one environment per templates_dir, compiled templates and the locale resolution are
cached for the life of the process (``auto_reload`` is off: no ``stat`` per mail). Workers
see edited templates after a restart; the CLI is a fresh process each time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import TracebackType

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from markupsafe import Markup, escape

import templates as _templates_package
from gateway.errors import GatewayError

__all__ = [
    "PACKAGED_DIR",
    "PARTS",
    "RenderedEmail",
    "TemplateError",
    "TemplateInfo",
    "TemplateSource",
    "locale_chain",
    "render_email",
    "render_sms",
    "sources",
    "template_names",
]

PACKAGED_DIR = Path(_templates_package.__file__).resolve().parent
PARTS: Mapping[str, tuple[str, ...]] = {"email": ("subject", "txt", "html"), "sms": ("txt",)}

_NAME = re.compile(r"^[a-z0-9_]+$")
_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


class _NullValue(Exception):
    """A template printed ``None``: turned into a TemplateError naming the template."""


def _no_null(value: object) -> object:
    if value is None:
        raise _NullValue
    return value


def _nl2br(value: object) -> Markup:
    """Escaped text with its line breaks as ``<br>``: a plain-text message in HTML."""
    return Markup("<br>\n").join(escape(line) for line in str(_no_null(value)).splitlines())


def _when(value: object) -> str:
    """An ISO-8601 time as people read it: ``2026-11-23 14:00 UTC`` (unparsable: as is)."""
    text = str(_no_null(value))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class TemplateError(GatewayError):
    """A template is unknown, does not compile, or needs a variable it was not given."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One template as ``templates list`` shows it; ``locales`` are the non-default ones."""

    name: str
    channel: str
    parts: tuple[str, ...]
    locales: tuple[str, ...]
    overridden: bool


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """The file one part was rendered from."""

    part: str
    name: str  # loader name, e.g. "email/ack.de.txt.j2"
    locale: str | None
    path: Path
    overridden: bool  # found in the user's templates_dir


def locale_chain(locale: str | None) -> tuple[str, ...]:
    """``de-AT`` -> ``("de-at", "de")``; unusable values (``None``, ``../x``) -> ``()``.

    A contact's language is data from the outside: a bad one falls back to the default
    templates instead of failing the notification.
    """
    if not locale:
        return ()
    tag = locale.strip().split(".")[0].replace("_", "-").lower()
    if not _LOCALE.match(tag):
        return ()
    pieces = tag.split("-")
    return tuple("-".join(pieces[:n]) for n in range(len(pieces), 0, -1))


def render_email(
    name: str,
    vars: Mapping[str, object],
    *,
    locale: str | None = None,
    templates_dir: Path | None = None,
) -> RenderedEmail:
    """Render the subject (one line), text and HTML parts of the email template ``name``."""
    lib = _library(templates_dir)
    subject, text, html = (
        _render(lib.get("email", name, part, locale_chain(locale)), vars) for part in PARTS["email"]
    )
    # A template's line breaks must never reach a header; collapse all whitespace.
    return RenderedEmail(" ".join(subject.split()), text.strip() + "\n", html.strip() + "\n")


def render_sms(
    name: str,
    vars: Mapping[str, object],
    *,
    locale: str | None = None,
    templates_dir: Path | None = None,
) -> str:
    """Render the SMS template ``name``: its text, without leading or trailing blank space."""
    template = _library(templates_dir).get("sms", name, "txt", locale_chain(locale))
    return _render(template, vars).strip()


def sources(
    name: str, *, channel: str, locale: str | None = None, templates_dir: Path | None = None
) -> list[TemplateSource]:
    """The files the parts of ``name`` come from for ``locale`` (for admins, and tests)."""
    lib = _library(templates_dir)
    found = []
    for part in PARTS[channel]:
        template = lib.get(channel, name, part, locale_chain(locale))
        path = Path(template.filename or "")
        loader_name = template.name or ""
        pieces = loader_name.rsplit("/", 1)[-1].split(".")
        found.append(
            TemplateSource(
                part=part,
                name=loader_name,
                locale=pieces[1] if len(pieces) == 4 else None,
                path=path,
                overridden=templates_dir is not None and path.is_relative_to(templates_dir),
            )
        )
    return found


def template_names(templates_dir: Path | None = None) -> list[TemplateInfo]:
    """Every template in the user dir and the packaged defaults, sorted by channel, name."""
    found: dict[tuple[str, str], tuple[set[str], set[str], bool]] = {}
    roots = [(templates_dir, True)] if templates_dir is not None else []
    for root, is_user in [*roots, (PACKAGED_DIR, False)]:
        for channel, parts in PARTS.items():
            folder = root / channel
            for path in sorted(folder.glob("*.j2")) if folder.is_dir() else ():
                pieces = path.name.removesuffix(".j2").split(".")
                # "_layout.html.j2" and friends are building blocks, not notifications.
                if pieces[0].startswith("_") or len(pieces) not in (2, 3):
                    continue
                if pieces[-1] not in parts or not _NAME.match(pieces[0]):
                    continue
                have_parts, locales, overridden = found.get(
                    (channel, pieces[0]), (set(), set(), False)
                )
                have_parts.add(pieces[-1])
                if len(pieces) == 3:
                    locales.add(pieces[1])
                found[(channel, pieces[0])] = (have_parts, locales, overridden or is_user)
    return [
        TemplateInfo(
            name=name,
            channel=channel,
            parts=tuple(p for p in PARTS[channel] if p in have_parts),
            locales=tuple(sorted(locales)),
            overridden=overridden,
        )
        for (channel, name), (have_parts, locales, overridden) in sorted(found.items())
    ]


class _Library:
    """One templates_dir's environment and the answers to "which file for this part"."""

    def __init__(self, templates_dir: Path | None) -> None:
        folders = [str(templates_dir)] if templates_dir is not None else []
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(f) for f in [*folders, str(PACKAGED_DIR)]]),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=-1,  # never evict: the set of templates is small and fixed
            finalize=_no_null,
        )
        self.env.filters.update(nl2br=_nl2br, when=_when)
        # Keys are (channel, name, part, locale chain): bounded by the templates on disk
        # times the language tags contacts actually have.
        self._resolved: dict[tuple[str, str, str, tuple[str, ...]], Template] = {}

    def get(self, channel: str, name: str, part: str, chain: tuple[str, ...]) -> Template:
        key = (channel, name, part, chain)
        template = self._resolved.get(key)
        if template is None:
            template = self._resolved[key] = self._find(channel, name, part, chain)
        return template

    def _find(self, channel: str, name: str, part: str, chain: tuple[str, ...]) -> Template:
        if not _NAME.match(name):
            raise TemplateError(f"unknown {channel} template {name!r}")
        for tag in (*chain, None):
            loader_name = (
                f"{channel}/{name}.{tag}.{part}.j2" if tag else f"{channel}/{name}.{part}.j2"
            )
            try:
                return self.env.get_template(loader_name)
            except TemplateNotFound:
                continue
            except TemplateSyntaxError as err:
                raise TemplateError(
                    f"template {loader_name}, line {err.lineno}: {err.message}"
                ) from None
        raise TemplateError(f"unknown {channel} template {name!r} (no {channel}/{name}.{part}.j2)")


@lru_cache(maxsize=32)
def _library(templates_dir: Path | None) -> _Library:
    return _Library(templates_dir)


def _render(template: Template, vars: Mapping[str, object]) -> str:
    where = template.name or "?"
    try:
        return template.render(vars)
    except UndefinedError as err:
        line = _template_line(err.__traceback__, template)
        raise TemplateError(f"template {where}{line}: {err.message} (missing variable)") from None
    except _NullValue:
        raise TemplateError(
            f"template {where}: prints a null value; guard it with {{% if %}} or `or`"
        ) from None
    except TemplateNotFound as err:
        raise TemplateError(f"template {where}: includes missing template {err.name}") from None
    except TemplateSyntaxError as err:
        raise TemplateError(f"template {err.name}, line {err.lineno}: {err.message}") from None


def _template_line(tb: TracebackType | None, template: Template) -> str:
    """The template line that failed: Jinja rewrites tracebacks to point into templates."""
    line = ""
    while tb is not None:
        if template.filename and tb.tb_frame.f_code.co_filename == template.filename:
            line = f", line {tb.tb_lineno}"
        tb = tb.tb_next
    return line
