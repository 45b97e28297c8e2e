"""A Mosquitto configuration for ``tynys ingest mqtt`` as a network should run it: no anonymous
clients, one login per node, and an ACL by which a node may publish only to its own records topic
and read only its own ack topic, while the host's login reads every node's records and writes
every node's replies (docs/host.md, "A broker of your own").

    write("broker/", ["osk-01", "osk-02"], keys, port=1883)   # mosquitto.conf, acl, passwd
    node_password(key)                                        # what the node's config.json says

A node's password is derived from its key (HMAC-SHA256 over a fixed label, 32 hex digits), so the
host makes the password file from its key file and nothing new has to be kept; knowing the
password tells nothing of the key. The replies a node obeys are signed with its key anyway
(docs/record.md, "Replies"): the ACL keeps strangers from filling its ack topic at all.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from .errors import TynysError

INGEST_USER = "tynys-ingest"


class BrokerConfigError(TynysError):
    """The broker's configuration could not be written."""


def node_password(key: bytes) -> str:
    return hmac.new(key, b"tynys mqtt password", hashlib.sha256).hexdigest()[:32]


def acl(prefix: str = "tynys") -> str:
    return (f"# tynys: written by `tynys broker config`; see docs/host.md\n"
            f"# the host ({INGEST_USER}): every node's records in, every node's replies out\n"
            f"user {INGEST_USER}\n"
            f"topic read {prefix}/+/records\n"
            f"topic write {prefix}/+/ack\n"
            f"\n"
            f"# each node, logged in with its id: its own records out, its own replies in\n"
            f"pattern write {prefix}/%u/records\n"
            f"pattern read {prefix}/%u/ack\n")


def _private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def passwd_tool() -> str | None:
    """Mosquitto's password hasher, or None when Mosquitto is not installed."""
    return shutil.which("mosquitto_passwd") or next(
        (p for p in ("/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd") if Path(p).exists()), None)


def write(directory: str | os.PathLike, nodes: list[str], key_of, *, port: int = 1883, bind: str = "0.0.0.0",
          prefix: str = "tynys", ingest_password: str | None = None) -> dict:
    """Write ``mosquitto.conf``, ``acl`` and ``passwd`` (hashed with mosquitto_passwd) into
    *directory*, and ``ingest.password`` (0600) with the host's password: when not given, the one
    written there before (so a run after ``tynys nodes add`` leaves the running ingest's login as
    it was), else a new one.
    *key_of(node)*: the node's key. Returns ``{"conf": path, "ingest_password": …, "nodes": {node: password}}``."""
    tool = passwd_tool()
    if tool is None:
        raise BrokerConfigError("mosquitto_passwd is not installed: apt-get install mosquitto (scripts/system-deps.sh)")
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    kept = d / "ingest.password"
    ingest_password = ingest_password or (kept.read_text().strip() if kept.exists() else "") or secrets.token_hex(16)
    passwords = {n: node_password(key_of(n)) for n in nodes}
    _private(d / "passwd", f"{INGEST_USER}:{ingest_password}\n" + "".join(f"{n}:{p}\n" for n, p in passwords.items()))
    out = subprocess.run([tool, "-U", str(d / "passwd")], capture_output=True, text=True)
    if out.returncode != 0:
        raise BrokerConfigError(f"mosquitto_passwd could not hash {d / 'passwd'}: {out.stderr.strip()}")
    _private(d / "ingest.password", ingest_password + "\n")
    (d / "acl").write_text(acl(prefix))
    (d / "mosquitto.conf").write_text(
        f"# tynys: written by `tynys broker config`; run: mosquitto -c {d / 'mosquitto.conf'}\n"
        f"listener {port} {bind}\n"
        f"# started as root, mosquitto becomes this user: the one who owns the 0600 password file\n"
        f"user {getpass.getuser()}\n"
        f"allow_anonymous false\n"
        f"password_file {d / 'passwd'}\n"
        f"acl_file {d / 'acl'}\n"
        f"# the host's session and the QoS 1 messages queued for it survive a broker restart\n"
        f"persistence true\n"
        f"persistence_location {d}/\n"
        f"max_queued_messages 100000\n")
    return {"conf": str(d / "mosquitto.conf"), "ingest_password": ingest_password, "nodes": passwords}
