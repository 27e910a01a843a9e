"""A real PostgreSQL server for the tests: a throwaway cluster, or the one a URL names.

``MLRAILS_TEST_POSTGRES_URL`` (e.g. ``postgresql://user:pass@host:5432/postgres``, a role
allowed to ``CREATE DATABASE``) points the tests at an existing server. Without it, the
machine's own binaries start a cluster in a temporary directory: ``initdb`` and ``pg_ctl``
from ``/usr/lib/postgresql/<version>/bin`` (newest version first), else from ``PATH``.
PostgreSQL refuses to run as root, so under root the cluster is created and run as the
``postgres`` user (``runuser``), in a temporary directory that user owns. The server listens
on 127.0.0.1 on a free port with password (SCRAM) authentication and its Unix socket in the
temporary directory, so it never touches a system cluster.

Every test database is fresh (``CREATE DATABASE mlrails_test_<random>``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ENV_URL = "MLRAILS_TEST_POSTGRES_URL"
#: set (as .ci/run does) to turn "no PostgreSQL here" from a skip into a failure
ENV_REQUIRE = "MLRAILS_REQUIRE_POSTGRES"
USER = "mlrails"


class NoPostgres(Exception):
    """No PostgreSQL binaries and no URL: the tests that need a server are skipped."""


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``, newest installed version first."""

    def version(p: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/([\d.]+)/bin/", p)
        return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    for c in candidates:
        d = Path(c).parent
        if (d / "pg_ctl").is_file():
            return d
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server the tests may create databases on.

    ``own`` is True for a cluster started here: only then can a test :meth:`stop` and
    :meth:`start` it (to see what the service does while its database is down).
    """

    def __init__(self, admin_url: str, own: bool) -> None:
        self.admin_url = admin_url
        self.own = own
        self._databases: list[str] = []

    # -- databases -------------------------------------------------------------------------
    def url(self, dbname: str, *, password: str | None = None) -> str:
        """``admin_url`` pointing at ``dbname`` (optionally with another password)."""
        parts = urlsplit(self.admin_url)
        netloc = parts.netloc
        if password is not None:
            creds, _, hostport = netloc.rpartition("@")
            user = creds.split(":", 1)[0]
            netloc = f"{user}:{quote(password, safe='')}@{hostport}"
        return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, ""))

    @property
    def password(self) -> str:
        return urlsplit(self.admin_url).password or ""

    @property
    def host(self) -> str:
        return urlsplit(self.admin_url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.admin_url).port or 5432

    def create_database(self) -> str:
        """A fresh, empty database; returns its ``postgresql://`` URL."""
        name = "mlrails_test_" + secrets.token_hex(6)
        self._admin(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return self.url(name)

    def query(self, url: str, sql: str) -> list[tuple[object, ...]]:
        import psycopg

        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            return list(conn.execute(sql).fetchall())

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(_libpq(self.admin_url), autocommit=True) as conn:
            conn.execute(sql)

    def drop_databases(self) -> None:
        for name in self._databases:
            with contextlib.suppress(Exception):
                self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.clear()

    # -- lifecycle (own clusters only) -------------------------------------------------------
    def stop(self) -> None:
        raise NotImplementedError("an external server cannot be stopped by the tests")

    def start(self) -> None:
        raise NotImplementedError("an external server cannot be started by the tests")

    def close(self) -> None:
        self.drop_databases()


class LocalCluster(PostgresServer):
    """A cluster in a temporary directory, run by the current user (or ``postgres`` as root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.run_as = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="mlrails-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        pw = secrets.token_urlsafe(16)
        pwfile = self.root / "pwfile"
        pwfile.write_text(pw + "\n", encoding="utf-8")
        if self.run_as is not None:
            uid, gid = self.run_as[1], self.run_as[2]
            os.chown(self.root, uid, gid)
            os.chown(pwfile, uid, gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        super().__init__(f"postgresql://{USER}:{pw}@127.0.0.1:{free_port()}/postgres", own=True)
        self.start()

    def start(self) -> None:
        for attempt in range(3):
            opts = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c max_connections=300"
            )
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60",
                    "-o", opts, "start",
                )  # fmt: skip
                return
            except RuntimeError:
                if attempt == 2:
                    raise
                # the port was taken in the meantime: pick another one
                self.admin_url = self.admin_url.replace(f":{self.port}/", f":{free_port()}/")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bindir / tool), *args]
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as[0], "--", *cmd]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if r.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-2000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{tool} failed ({r.returncode}): {r.stderr[-2000:]}\n{log}")


def _run_as() -> tuple[str, int, int] | None:
    """Who runs the cluster: None (the current user) unless root, then ``postgres``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser") is None:
            raise NoPostgres("running as root and runuser is missing: cannot start PostgreSQL")
        return name, pw.pw_uid, pw.pw_gid
    raise NoPostgres("running as root and there is no 'postgres' user to run PostgreSQL")


def _libpq(url: str) -> str:
    """A libpq connection string from a (possibly SQLAlchemy-style) URL."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def start_server(*, local: bool = False) -> PostgresServer:
    """The server named by ``MLRAILS_TEST_POSTGRES_URL``, else (or with ``local``) a fresh
    local cluster."""
    url = None if local else os.environ.get(ENV_URL)
    if url:
        server = PostgresServer(_libpq(url), own=False)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.query(server.admin_url, "SELECT 1")
                return server
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{ENV_URL}: server not reachable ({exc})") from None
                time.sleep(0.5)
    bindir = find_bindir()
    if bindir is None:
        raise NoPostgres(
            f"no PostgreSQL server binaries (initdb, pg_ctl) found and {ENV_URL} is not set; "
            "install them (apt-get install postgresql) to run these tests"
        )
    return LocalCluster(bindir)
