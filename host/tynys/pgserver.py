"""A private PostgreSQL server in a temporary directory on a free loopback port, for tests,
benchmarks and trying the server backend on one machine (Debian's ``postgresql`` package).

    with PostgresServer() as pg:
        store = Store.open(pg.url())                 # postgresql://tynys:…@127.0.0.1:PORT/tynys
        other = Store.open(pg.url(schema="t1"))      # an empty schema: a fresh database, cheaply

``initdb`` and the server refuse to run as root: as root they run as the ``postgres`` user the
Debian package creates. Logins over TCP need the password (SCRAM), as on a real deployment.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from .broker import free_port
from .errors import TynysError


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (the newest installed), or of ``postgres`` on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("postgres")
    return Path(exe).resolve().parent if exe else None


class PostgresServer:
    """``initdb`` + ``postgres`` in a temporary directory, user ``tynys`` with a random password,
    database ``tynys``. *durable*: False turns off fsync (tests: a killed collector, not a power
    cut, is what they check); benchmarks keep it on, as SQLite's ``synchronous=FULL``."""

    def __init__(self, *, durable: bool = True, host: str = "127.0.0.1", port: int | None = None,
                 shared_buffers: str = "32MB"):
        self.bin = postgres_bin()
        if self.bin is None:
            raise TynysError("PostgreSQL is not installed: apt-get install postgresql (or run scripts/system-deps.sh)")
        self.host, self.port, self.durable, self.shared_buffers = host, port or free_port(host), durable, shared_buffers
        self.user, self.password, self.database = "tynys", secrets.token_hex(12), "tynys"
        self._tmp = tempfile.mkdtemp(prefix="tynys-postgres-")
        self.proc: subprocess.Popen | None = None
        self._as = None if os.geteuid() != 0 else pwd.getpwnam("postgres")

    def url(self, *, schema: str | None = None, password: str | None = None, database: str | None = None) -> str:
        """A connection URL; *schema*: sessions see only that schema (created by :meth:`new_schema`)."""
        pw = self.password if password is None else password
        url = f"postgresql://{self.user}:{quote(pw, safe='')}@{self.host}:{self.port}/{database or self.database}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def new_schema(self, name: str) -> str:
        """An empty schema *name* (dropped first if it exists); returns the URL that uses it."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.url(schema=name)

    def new_database(self, name: str, *, template: str | None = None) -> str:
        """A new database *name*, empty or a copy of *template* (a database name or URL nobody is
        connected to); returns its URL."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        if template is not None and "://" in template:
            template = conninfo_to_dict(template)["dbname"]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(database=name)

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, capture_output=True, text=True, preexec_fn=self._drop, **kw)

    def _drop(self) -> None:
        if self._as is not None:
            os.setgid(self._as.pw_gid)
            os.setuid(self._as.pw_uid)

    def start(self, timeout: float = 60.0) -> "PostgresServer":
        tmp = Path(self._tmp)
        data, sock = tmp / "data", tmp / "sock"
        sock.mkdir()
        pwfile = tmp / "pw"
        pwfile.write_text(self.password + "\n")
        if self._as is not None:
            for p in (tmp, sock, pwfile):
                os.chown(p, self._as.pw_uid, self._as.pw_gid)
        r = self._run([str(self.bin / "initdb"), "-D", str(data), "-U", self.user, f"--pwfile={pwfile}", "-E", "UTF8",
                       "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], timeout=timeout)
        pwfile.unlink()
        if r.returncode != 0:
            self.stop()
            raise TynysError(f"initdb failed: {(r.stderr or r.stdout).strip()[-500:]}")
        settings = {"listen_addresses": self.host, "port": self.port, "unix_socket_directories": str(sock),
                    "shared_buffers": self.shared_buffers, "max_connections": 60, "log_min_messages": "warning"}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        args = [str(self.bin / "postgres"), "-D", str(data)]
        for k, v in settings.items():
            args += ["-c", f"{k}={v}"]
        self.log = tmp / "postgres.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=self._drop)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                msg = self.log.read_text(errors="replace")[-500:]
                self.stop()
                raise TynysError(f"postgres exited at start: {msg}")
            ready = self._run([str(self.bin / "pg_isready"), "-q", "-h", str(sock), "-p", str(self.port)])
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                self.stop()
                raise TynysError(f"postgres did not accept connections within {timeout} s")
            time.sleep(0.1)
        r = self._run([str(self.bin / "createdb"), "-h", str(sock), "-p", str(self.port), "-U", self.user,
                       self.database])
        if r.returncode != 0:
            self.stop()
            raise TynysError(f"createdb failed: {r.stderr.strip()}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: roll back open sessions, stop
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
