"""Mailbox credentials: passwords encrypted at rest, access tokens from a command.

A password is stored as a Fernet token (AES-128-CBC with HMAC-SHA256, from the
``cryptography`` package) under a key derived from ``TICKETGW_SECRET_KEY`` with HKDF, so
the database alone does not give the password away, and no other use of the secret key
shares this key. XOAUTH2 providers (Gmail, Microsoft 365) hand out access tokens that
expire within the hour: the gateway runs the configured command for a fresh one at every
login, as isync's ``PassCmd`` does, and never stores the token.
"""

from __future__ import annotations

import base64
import subprocess

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import ConfigError, GatewayError

_INFO = b"ticketgw mailbox passwords v1"
TOKEN_COMMAND_TIMEOUT = 60.0


class CredentialError(GatewayError):
    """A stored password cannot be read back, or the token command failed."""


def _fernet(secret_key: str) -> Fernet:
    if not secret_key:
        raise ConfigError("TICKETGW_SECRET_KEY: needed to encrypt mailbox passwords")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_password(secret_key: str, password: str) -> str:
    return _fernet(secret_key).encrypt(password.encode()).decode("ascii")


def decrypt_password(secret_key: str, token: str, mailbox: str) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken:
        raise CredentialError(
            f"mailbox {mailbox}: the stored password cannot be decrypted (was "
            "TICKETGW_SECRET_KEY changed?); set it again with `ticketgw mailboxes update "
            f"{mailbox} --password-file FILE`"
        ) from None


def run_token_command(command: str, mailbox: str) -> str:
    """The access token the command prints on its first line; its exit code must be 0.

    The command runs through the shell, as isync and msmtp run theirs, so a pipe such as
    ``gpg -d token.gpg | jq -r .access_token`` works.
    """
    try:
        done = subprocess.run(
            command,
            shell=True,
            capture_output=True,
            timeout=TOKEN_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CredentialError(
            f"mailbox {mailbox}: token command ran longer than {TOKEN_COMMAND_TIMEOUT:.0f}s"
        ) from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = f": {detail[-1]}" if detail else ""
        raise CredentialError(
            f"mailbox {mailbox}: token command exited with {done.returncode}{why}"
        )
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if not lines or not lines[0].strip():
        raise CredentialError(f"mailbox {mailbox}: token command printed no token")
    return lines[0].strip()
