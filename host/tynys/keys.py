"""Per-node signing keys, kept in one JSON file beside the database (``city.db`` → ``city.keys``).

Keys stay out of the database so a database can be copied, shared or published as open data
without handing out the power to forge records. The file is created with mode 0600 and refused
when group or others can read it (like ssh refuses a private key), written atomically (temp
file, fsync, rename) under an exclusive lock so two ``tynys nodes add`` never lose a key::

    {"format": "tynys-keys-1", "keys": {"osk-01": "<64 lowercase hex>"}}
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

from .errors import TynysError

KEY_BYTES = 32
FORMAT = "tynys-keys-1"


class KeyFileError(TynysError):
    """The key file is missing, unreadable, too open or lacks a node's key."""


def default_path(db: str | os.PathLike) -> Path:
    """The key file beside a database file; a server database (a URL) has no "beside"."""
    from .store import is_url

    if is_url(db):
        raise KeyFileError("with a PostgreSQL database, name the key file: --keys FILE (or TYNYS_KEYS); every collector "
                           "of the network needs a copy of it, mode 0600")
    return Path(db).with_suffix(".keys")


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class KeyFile:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def load(self) -> dict[str, bytes]:
        """All keys, ``{node: 32 bytes}``; an absent file is an empty registry."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise KeyFileError(f"cannot read key file {self.path}: {e.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileError(f"key file {self.path} is readable by others (mode {stat.S_IMODE(mode):04o}): "
                                   f"run chmod 600 {self.path}")
            text = f.read()
        try:
            doc = json.loads(text)
            if doc.get("format") != FORMAT:
                raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
            keys = {node: bytes.fromhex(h) for node, h in doc["keys"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise KeyFileError(f"key file {self.path} is damaged ({e}); restore it from a backup") from None
        bad = [n for n, k in keys.items() if len(k) != KEY_BYTES]
        if bad:
            raise KeyFileError(f"key file {self.path}: key of {bad[0]!r} is not {KEY_BYTES} bytes; restore it from a backup")
        return keys

    def get(self, node: str) -> bytes:
        key = self.load().get(node)
        if key is None:
            raise KeyFileError(f"no key for node {node!r} in {self.path}: was it added with another --db/--keys?")
        return key

    def add(self, node: str, key: bytes | None = None) -> bytes:
        """Store a (new, random by default) key for *node*; refuse to replace an existing one."""
        key = new_key() if key is None else key
        if len(key) != KEY_BYTES:
            raise KeyFileError(f"a node key is {KEY_BYTES} bytes, got {len(key)}")
        with self._locked():
            keys = self.load()
            if node in keys:
                raise KeyFileError(f"{self.path} already holds a key for {node!r}; remove it by hand only if the node is gone for good")
            keys[node] = key
            self._write(keys)
        return key

    def remove(self, node: str) -> None:
        with self._locked():
            keys = self.load()
            if keys.pop(node, None) is not None:
                self._write(keys)

    @contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def _write(self, keys: dict[str, bytes]) -> None:
        doc = {"format": FORMAT, "keys": {n: k.hex() for n, k in sorted(keys.items())}}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # in case tmp existed with other bits
            os.write(fd, (json.dumps(doc, indent=1) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dfd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the rename itself survives a power cut
        finally:
            os.close(dfd)
