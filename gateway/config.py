"""Settings from ``TICKETGW_*`` environment variables and an optional TOML file.

Precedence: environment, then the TOML file named by ``TICKETGW_CONFIG`` (keys are the
variable names without the prefix, lower-case), then the defaults, which are safe enough for
the embedded default to run with nothing set.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gateway.errors import ConfigError
from gateway.redact import mask_url

PREFIX = "TICKETGW_"
SECRET_FIELDS = frozenset(
    {"secret_key", "smtp_relay_password", "twilio_auth_token", "database_url", "redis_url"}
)


def _host_port(name: str, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"{PREFIX}{name.upper()}: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{name.upper()}: expected true or false, got {value!r}")


def _positive_int(name: str, value: str) -> int:
    if not value.strip().isdigit() or int(value) <= 0:
        raise ConfigError(f"{PREFIX}{name.upper()}: expected a positive number, got {value!r}")
    return int(value)


def _addresses(name: str, value: str) -> tuple[str, ...]:
    items = tuple(a.strip().lower() for a in value.split(",") if a.strip())
    bad = [a for a in items if a.count("@") != 1 or a.startswith("@") or a.endswith("@")]
    if not items or bad:
        raise ConfigError(f"{PREFIX}{name.upper()}: not an email address: {(bad or [value])[0]!r}")
    return items


_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
_ALPHANUMERIC_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def _sms_sender(name: str, value: str) -> str:
    """A number in E.164, a Messaging Service SID (``MG...``) or an alphanumeric sender ID."""
    value = value.strip()
    if _E164.match(value) or _SERVICE_SID.match(value) or _ALPHANUMERIC_ID.match(value):
        return value
    raise ConfigError(
        f"{PREFIX}{name.upper()}: expected a number in E.164 (+14155550100), a Messaging "
        f"Service SID (MG...) or a sender ID of up to 11 letters and digits, got {value!r}"
    )


def _url(name: str, value: str) -> str:
    if "://" not in value:
        raise ConfigError(f"{PREFIX}{name.upper()}: expected a URL, got {mask_url(value)!r}")
    return value.rstrip("/")


def _database_url(value: str) -> str:
    """Parsed once here, so a bad URL is one line naming the setting, never a traceback."""
    name = f"{PREFIX}DATABASE_URL"
    if "://" not in value:
        raise ConfigError(f"{name}: expected a SQLAlchemy URL, got {mask_url(value)!r}")
    try:
        make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"{name}: not a valid URL ({exc}): {mask_url(value)!r}") from None
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    smtp_listen: tuple[str, int]
    http_listen: tuple[str, int]
    support_address: tuple[str, ...]
    secret_key: str
    smtp_relay: tuple[str, int] | None
    smtp_relay_user: str | None
    smtp_relay_password: str | None
    smtp_relay_starttls: bool
    smtp_tls_cert: Path | None
    smtp_tls_key: Path | None
    max_message_bytes: int
    inbound_rate: int
    max_attempts: int
    reopen_window_days: int
    database_timeout: int
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_from: str | None
    twilio_api_base: str
    sms_max_segments: int
    public_url: str | None
    templates_dir: Path | None
    trusted_authserv_ids: tuple[str, ...]

    @property
    def message_id_domain(self) -> str:
        return self.support_address[0].rpartition("@")[2]

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain values, secrets replaced by ``****``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int):
                value = f"{value[0]}:{value[1]}"
            elif isinstance(value, tuple):
                value = ",".join(value)
            if f.name in SECRET_FIELDS and value:
                value = mask_url(value) if "://" in str(value) else "****"
            elif isinstance(value, str) and "://" in value:
                value = mask_url(value)
            out[f.name] = value
        return out


Parser = Callable[[str, str], Any]
_PARSERS: dict[str, Parser] = {
    "smtp_listen": _host_port,
    "http_listen": _host_port,
    "smtp_relay": _host_port,
    "support_address": _addresses,
    "smtp_relay_starttls": _bool,
    "max_message_bytes": _positive_int,
    "inbound_rate": _positive_int,
    "max_attempts": _positive_int,
    "reopen_window_days": _positive_int,
    "database_timeout": _positive_int,
    "twilio_api_base": _url,
    "twilio_from": _sms_sender,
    "sms_max_segments": _positive_int,
    "public_url": _url,
    "trusted_authserv_ids": lambda _n, v: tuple(s.strip() for s in v.split(",") if s.strip()),
}
_DEFAULTS: dict[str, str] = {
    "smtp_listen": "127.0.0.1:2525",
    "http_listen": "127.0.0.1:8080",
    "support_address": "support@example.com",
    "smtp_relay_starttls": "false",
    "max_message_bytes": str(25 * 1024 * 1024),
    "inbound_rate": "20",
    "max_attempts": "8",
    "reopen_window_days": "14",
    "database_timeout": "10",
    "twilio_api_base": "https://api.twilio.com",
    "sms_max_segments": "4",
    "trusted_authserv_ids": "",
}


def _raw_values(env: Mapping[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    config_file = env.get(f"{PREFIX}CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as f:
                loaded = tomllib.load(f)
        except OSError as exc:
            raise ConfigError(f"{PREFIX}CONFIG: cannot read {config_file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{PREFIX}CONFIG: {config_file} is not valid TOML: {exc}") from exc
        known = {f.name for f in fields(Settings)}
        for key, value in loaded.items():
            if key.lower() not in known:
                raise ConfigError(f"{PREFIX}CONFIG: unknown setting {key!r} in {config_file}")
            values[key.lower()] = ",".join(value) if isinstance(value, list) else str(value)
    for key, value in env.items():
        if key.startswith(PREFIX) and key != f"{PREFIX}CONFIG":
            values[key[len(PREFIX) :].lower()] = value
    return values


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise :class:`ConfigError` naming the bad one."""
    raw = _raw_values(os.environ if env is None else env)
    get = {**_DEFAULTS, **{k: v for k, v in raw.items() if v != ""}}.get

    def parsed(name: str) -> Any:
        value = get(name)
        if value is None:
            return None
        parser = _PARSERS.get(name)
        return parser(name, value) if parser else value

    data_dir = Path(get("data_dir") or "./ticketgw-data").resolve()
    database_url = _database_url(
        get("database_url") or f"sqlite:///{data_dir / 'ticketgw.sqlite3'}"
    )
    cert, key = get("smtp_tls_cert"), get("smtp_tls_key")
    if bool(cert) != bool(key):
        raise ConfigError(f"{PREFIX}SMTP_TLS_CERT and {PREFIX}SMTP_TLS_KEY must be set together")
    templates_dir = get("templates_dir")
    if templates_dir and not Path(templates_dir).is_dir():
        raise ConfigError(f"{PREFIX}TEMPLATES_DIR: not a directory: {templates_dir}")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=get("redis_url"),
        smtp_listen=parsed("smtp_listen"),
        http_listen=parsed("http_listen"),
        support_address=parsed("support_address"),
        secret_key=get("secret_key") or "",
        smtp_relay=parsed("smtp_relay"),
        smtp_relay_user=get("smtp_relay_user"),
        smtp_relay_password=get("smtp_relay_password"),
        smtp_relay_starttls=parsed("smtp_relay_starttls"),
        smtp_tls_cert=Path(cert) if cert else None,
        smtp_tls_key=Path(key) if key else None,
        max_message_bytes=parsed("max_message_bytes"),
        inbound_rate=parsed("inbound_rate"),
        max_attempts=parsed("max_attempts"),
        reopen_window_days=parsed("reopen_window_days"),
        database_timeout=parsed("database_timeout"),
        twilio_account_sid=get("twilio_account_sid"),
        twilio_auth_token=get("twilio_auth_token"),
        twilio_from=parsed("twilio_from"),
        twilio_api_base=parsed("twilio_api_base"),
        sms_max_segments=parsed("sms_max_segments"),
        public_url=parsed("public_url"),
        templates_dir=Path(templates_dir) if templates_dir else None,
        trusted_authserv_ids=parsed("trusted_authserv_ids"),
    )


def ensure_secret_key(settings: Settings) -> Settings:
    """Return settings with a secret key, generating one into the data dir on first run.

    The key signs reply tokens, so it must survive restarts: it is written once, with
    owner-only permissions, and read back on every later start.
    """
    if settings.secret_key:
        return settings
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    key = path.read_text().strip()
    if not key:
        raise ConfigError(f"{PREFIX}SECRET_KEY: {path} is empty; delete it or set the variable")
    return replace(settings, secret_key=key)
