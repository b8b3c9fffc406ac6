"""Connecting to a mailbox: TLS as configured, log in, open the folder.

Every way this can fail becomes one :class:`ImapFailure` whose message says what went
wrong in words an admin can act on (``login as support@example.com failed: ...``,
``certificate of imap.example.com not trusted: ...``); ``mailboxes list`` and the log show
exactly that line.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from gateway.errors import GatewayError
from gateway.imap.credentials import decrypt_password, run_token_command
from gateway.imap.mailboxes import MailboxConfig, is_loopback

# Long enough for a slow server to send a batch of large mails, short enough that a dead
# connection is noticed: every read and write on the socket is bounded by it.
SOCKET_TIMEOUT = 120.0


class ImapFailure(GatewayError):
    """Connecting, logging in or opening the folder failed; the message is for people."""


@dataclass(frozen=True, slots=True)
class Folder:
    name: str
    uidvalidity: int
    messages: int


def describe(exc: BaseException) -> str:
    """One readable line for an exception from imaplib, imapclient, ssl or a socket."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]
    return text.splitlines()[0] if text else type(exc).__name__


def tls_context(config: MailboxConfig) -> ssl.SSLContext:
    """Certificates verified against the system's CAs, or the mailbox's own CA file."""
    try:
        return ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ImapFailure(f"cannot read CA file {config.ca_file}: {describe(exc)}") from exc


def connect(config: MailboxConfig, secret_key: str) -> IMAPClient:
    """A logged-in client; the caller logs out (``close``)."""
    where = f"{config.host}:{config.port}"
    if config.tls == "none" and not is_loopback(config.host):
        raise ImapFailure(f"refusing to send credentials to {where} without TLS")
    context = tls_context(config) if config.tls != "none" else None
    try:
        client = IMAPClient(
            config.host,
            port=config.port,
            ssl=config.tls == "implicit",
            ssl_context=context,
            timeout=SOCKET_TIMEOUT,
        )
    except (OSError, IMAPClientError) as exc:
        raise ImapFailure(f"cannot connect to {where}: {describe(exc)}") from exc
    try:
        if config.tls == "starttls":
            try:
                client.starttls(context)
            except (OSError, IMAPClientError) as exc:
                raise ImapFailure(f"STARTTLS with {where} failed: {describe(exc)}") from exc
        _login(client, config, secret_key)
    except BaseException:
        close(client)
        raise
    return client


def _login(client: IMAPClient, config: MailboxConfig, secret_key: str) -> None:
    try:
        if config.token_command:
            token = run_token_command(config.token_command, config.name)
            client.oauth2_login(config.username, token)
        else:
            assert config.password_encrypted is not None
            password = decrypt_password(secret_key, config.password_encrypted, config.name)
            client.login(config.username, password)
    except LoginError as exc:
        how = "XOAUTH2 login" if config.token_command else "login"
        raise ImapFailure(f"{how} as {config.username} failed: {describe(exc)}") from exc
    except (OSError, IMAPClientError) as exc:
        raise ImapFailure(f"login at {config.host}:{config.port} failed: {describe(exc)}") from exc


def open_folder(client: IMAPClient, name: str, *, readonly: bool = False) -> Folder:
    try:
        status = client.select_folder(name, readonly=readonly)
    except (OSError, IMAPClientError) as exc:
        raise ImapFailure(f"cannot open folder {name}: {describe(exc)}") from exc
    return Folder(name, int(status[b"UIDVALIDITY"]), int(status.get(b"EXISTS", 0)))


def probe(config: MailboxConfig, secret_key: str) -> Folder:
    """Connect, log in and open the folder read-only, changing nothing: ``mailboxes test``."""
    client = connect(config, secret_key)
    try:
        return open_folder(client, config.folder, readonly=True)
    finally:
        close(client)


def close(client: IMAPClient) -> None:
    """Log out, or just drop the connection when the server is gone."""
    with contextlib.suppress(Exception):
        client.logout()
    with contextlib.suppress(Exception):
        client.shutdown()
