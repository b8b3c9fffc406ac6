"""A real Dovecot for the IMAP tests: unprivileged, on free loopback ports, throwaway store.

``Dovecot`` writes a configuration into a temporary folder (mail store, passwd file,
a self-signed certificate for 127.0.0.1, runtime sockets), starts ``dovecot -F`` as a
child process and waits until it answers. It serves plain IMAP with STARTTLS on one port
and implicit TLS on another; passwords come from a passwd-file, and XOAUTH2 tokens are
checked against a local token-introspection stand-in (Dovecot's ``oauth2`` passdb
pointed at :class:`Introspection`). Users are added while it runs, each with a fresh
mail folder, so one server serves a whole test run.

Run as root (as CI machines do), Dovecot refuses to run its login processes or to access
mail as root: those then run as the ``dovenull`` and ``dovecot`` users the Debian package
creates, and the files they read are made readable to them.
"""

from __future__ import annotations

import contextlib
import datetime
import grp
import ipaddress
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

from tests.waiting import free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def dovecot_binary() -> str | None:
    return shutil.which("dovecot", path=_SBIN)


class Introspection:
    """RFC 7662 token introspection, as an OAuth2 provider answers it, for known tokens."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # token -> username
        tokens = self.tokens

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                token = (form.get("token") or [""])[0]
                auth = self.headers.get("Authorization", "")
                token = token or auth.removeprefix("Bearer ").strip()
                user = tokens.get(token)
                body = {"active": "true", "username": user} if user else {"active": "false"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/introspect"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _self_signed(cert: Path, key: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ticketgw test dovecot")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Dovecot:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        # Not under pytest's tmp_path: that is private to the test user, and Dovecot's
        # unprivileged processes must reach their sockets and files.
        self.root = Path(tempfile.mkdtemp(prefix="ticketgw-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port()
        # A server that does not offer IDLE, for the polling path: the same Dovecot,
        # reached on another loopback address (all of 127/8 is loopback on Linux).
        self.no_idle_host = "127.0.0.2"
        self.no_idle_port = free_port()
        self.cert = self.root / "cert.pem"
        # One passwd file per user: Dovecot reads a file it has not seen at once, where a
        # shared file changed within the same second may be served from its stale copy.
        self.passwd = self.root / "passwd.d"
        self.mail = self.root / "mail"
        self.log = self.root / "dovecot.log"
        self.introspection = Introspection()
        self._users: dict[str, str] = {}
        self._process: subprocess.Popen[bytes] | None = None
        root_run = os.getuid() == 0
        # Who owns the mail (never root: Dovecot refuses), and who runs the helpers.
        mail_user = pwd.getpwnam("dovecot") if root_run else pwd.getpwuid(os.getuid())
        self._mail_ids = (mail_user.pw_uid, mail_user.pw_gid)
        login_user = "dovenull" if root_run else mail_user.pw_name
        internal_user = "dovecot" if root_run else mail_user.pw_name
        internal_group = grp.getgrgid(mail_user.pw_gid).gr_name
        self.mail.mkdir()
        os.chown(self.mail, *self._mail_ids)
        (self.root / "state").mkdir()
        _self_signed(self.cert, self.root / "key.pem")
        (self.root / "key.pem").chmod(0o644)
        self.passwd.mkdir()
        self.passwd.chmod(0o755)
        (self.root / "oauth2.conf").write_text(
            f"introspection_mode = post\n"
            f"introspection_url = {self.introspection.url}\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        (self.root / "dovecot.conf").write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = ticketgw-test-{self.port}
log_path = {self.log}
protocols = imap
listen = 127.0.0.1, {self.no_idle_host}
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mail_location = maildir:{self.mail}/%u
mail_fsync = never
first_valid_uid = 1
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}/%u
  mechanisms = plain login
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {self.root}/oauth2.conf
}}
userdb {{
  driver = static
  args = uid={self._mail_ids[0]} gid={self._mail_ids[1]} home={self.mail}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
  inet_listener imap_no_idle {{
    address = {self.no_idle_host}
    port = {self.no_idle_port}
  }}
}}
local {self.no_idle_host} {{
  protocol imap {{
    imap_capability = IMAP4rev1 SASL-IR LITERAL+ ENABLE UIDPLUS MOVE
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {"root" if root_run else internal_user}
}}
service auth-worker {{
  user = {"root" if root_run else internal_user}
}}
""")

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                errors = self._process.stderr.read().decode() if self._process.stderr else ""
                self.stop()
                raise RuntimeError(f"dovecot did not start: {errors}{self.log_text()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", self.port)) != 0:
                return False
            with contextlib.suppress(OSError):
                return s.recv(100).startswith(b"* OK")
        return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self.introspection.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def add_user(self, name: str, password: str = "secret") -> str:
        """A new user with an empty INBOX; ``name`` gets a unique suffix."""
        user = f"{name}-{len(self._users)}-{os.getpid()}@example.com"
        self._users[user] = password
        path = self.passwd / user
        path.write_text(f"{user}:{{PLAIN}}{password}\n")
        path.chmod(0o644)
        return user

    def client(self, user: str) -> IMAPClient:
        """A plain-IMAP client logged in as ``user``, for the test to drive the folder."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=60)
        client.login(user, self._users[user])
        return client

    def token(self, user: str) -> str:
        """A fresh access token the introspection stand-in vouches for."""
        token = f"token-{len(self.introspection.tokens)}-{os.urandom(8).hex()}"
        self.introspection.tokens[token] = user
        return token

    def folder_path(self, user: str, folder: str) -> Path:
        """The Maildir folder on disk (Dovecot's default layout: INBOX at the top)."""
        base = self.mail / user
        return base if folder == "INBOX" else base / f".{folder}"


@contextlib.contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        message = (
            "dovecot is not installed (Debian: apt-get install dovecot-imapd; "
            "tests/setup_services.py installs it): IMAP tests need a real server"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = Dovecot(binary)
    try:
        server.start()
        yield server
    finally:
        server.stop()
