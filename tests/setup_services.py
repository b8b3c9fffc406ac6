"""Make sure the servers the suite talks to are running (or installed) before pytest starts.

PostgreSQL and Redis are installed and started on the machines this project runs on; this
starts whichever has stopped, with the same commands the machine uses at boot, and says
loudly when one cannot be had. Dovecot is different: the IMAP tests start their own,
unprivileged, from its binary, so only the Debian package ``dovecot-imapd`` is needed;
it is installed when missing (as root, or with password-less sudo). The system service
the package may start is left alone: the tests never use it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def start(name: str, port: int, command: list[str]) -> bool:
    if port_open(port):
        return True
    if not shutil.which(command[0]):
        print(f"!! {name} is not running on port {port} and {command[0]} is not installed")
        return False
    print(f"starting {name}: {' '.join(command)}")
    subprocess.run(command, check=False)
    for _ in range(50):
        if port_open(port):
            return True
        time.sleep(0.2)
    print(f"!! {name} did not come up on port {port}")
    return False


def ensure_dovecot() -> bool:
    sbin = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    if shutil.which("dovecot", path=sbin):
        return True
    prefix = [] if os.getuid() == 0 else ["sudo", "-n"]
    if prefix and not shutil.which("sudo"):
        print(
            "!! dovecot is not installed and installing it needs root: "
            "apt-get install dovecot-imapd"
        )
        return False
    print("installing dovecot-imapd for the IMAP tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "-q", "dovecot-imapd"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run([*prefix, "apt-get", "update", "-q"], env=env, check=False)
        subprocess.run(install, env=env, check=False)
    if shutil.which("dovecot", path=sbin):
        return True
    print("!! could not install dovecot-imapd: the IMAP tests will skip (fail in CI)")
    return False


def main() -> int:
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) or ["15"]
    ok = start(
        "PostgreSQL",
        5432,
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
    )
    ok &= start(
        "Redis",
        6379,
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )
    ok &= ensure_dovecot()
    if ok:
        return 0
    # Outside CI the database tests then skip with a message; in CI a missing server fails.
    return 1 if os.environ.get("CI", "").lower() == "true" else 0


if __name__ == "__main__":
    sys.exit(main())
