"""The :class:`Store`: open a database, write decisions atomically, read them back, keep keys.

Every write is one transaction: a request's rows are committed together or not at all, and
the caller learns about a failure (:class:`StoreUnavailable`) instead of losing a record.
SQLite runs in WAL mode with ``synchronous=FULL`` so a committed decision survives a crash of
the process or the machine; concurrent writers wait up to ``timeout_s`` for the lock. Each
write checks, before and after its commit, that the file (and its write-ahead log) is still
the one at the path (:mod:`mlrails.store.files`): a deleted, moved or replaced database is a
failed write, never a silent commit into a file nobody can read.

PostgreSQL (``postgresql://user:pass@host/db``, driven by psycopg 3) lets several server
processes share one log: every session runs with ``synchronous_commit=on`` (a commit returns
once its WAL is flushed), schema creation is serialised by an advisory lock so processes that
start at once do not race, and messages show the URL with its password masked.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from mlrails._json import dumps
from mlrails.store.errors import StoreError, StoreUnavailable
from mlrails.store.files import DatabaseFiles
from mlrails.store.labels import (
    FeedbackCounts,
    Label,
    LabelledDecision,
    file_labels,
    labelled_decision,
    labelled_query,
)
from mlrails.store.records import ApiKeyRecord, DecisionRecord
from mlrails.store.tables import api_keys, bench_runs, decisions, metadata, scores
from mlrails.store.times import to_utc

_T = TypeVar("_T")

#: failures of the database rather than of the data written (a retry may succeed)
_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
#: rows fetched per round trip when iterating over the log
READ_CHUNK = 5000


#: advisory-lock key serialising schema creation on PostgreSQL (any constant bigint)
_SCHEMA_LOCK = 0x6D6C7261696C73  # "mlrails"
#: advisory-lock key serialising label writes on PostgreSQL (see ``Store.record_labels``)
_LABELS_LOCK = 0x6D6C7261696C7366  # "mlrailsf"
#: URL schemes that mean PostgreSQL through psycopg 3 (SQLAlchemy's plain ``postgresql://``
#: would pick psycopg2, which mlrails does not install)
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def store_url(target: str | Path) -> str:
    """A SQLAlchemy URL for a path (SQLite file) or a URL (``postgresql://`` and
    ``postgres://`` mean the psycopg 3 driver, ``postgresql+psycopg://``)."""
    s = str(target)
    for scheme in _POSTGRES_SCHEMES:
        if s.startswith(scheme):
            return "postgresql+psycopg://" + s[len(scheme) :]
    if "://" in s:
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


def display_url(target: str | Path) -> str:
    """``target`` as it can be shown in messages and logs: a URL's password is masked."""
    s = str(target)
    if "://" not in s:
        return s
    try:
        return _display(make_url(s))
    except ArgumentError:
        return s.split("://", 1)[0] + "://***"


@dataclass(frozen=True, slots=True)
class BenchRunRow:
    """A stored benchmark run without its record: what ``list_bench_runs`` shows."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    config_hash: str
    git_commit: str | None
    n_cells: int
    n_failed: int


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A stored readiness score without its report: what ``list_scores`` shows."""

    id: int
    time: datetime
    robustness: float
    mltest: float


def open_store(target: str | Path, *, timeout_s: float = 5.0, create: bool = True) -> Store:
    """Open the store at a path or URL; fails fast with :class:`StoreError`.

    ``create=False`` refuses a SQLite path that does not exist yet (reading commands must
    not silently create an empty log because of a typo).
    """
    url = store_url(target)
    if not create and "://" not in str(target) and not Path(target).expanduser().is_file():
        raise StoreError(f"{target}: no such store (a SQLite file written by mlrails serve)")
    return Store(url, timeout_s=timeout_s)


class Store:
    """The decision log and API-key table behind one SQLAlchemy engine (thread-safe)."""

    def __init__(self, url: str, *, timeout_s: float = 5.0) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(f"{url}: not a path or a database URL") from None
        self.url = url
        #: the URL with its password masked, for messages and logs
        self.display = _display(parsed)
        self.timeout_s = timeout_s
        self._closed = False
        self._lock = threading.Lock()
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgres = parsed.get_backend_name() == "postgresql"
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            parent = Path(parsed.database).parent
            if not parent.is_dir():
                raise StoreError(f"{parsed.database}: directory {parent} does not exist")
        #: the SQLite file and its WAL as opened (None: not a SQLite file)
        self._files: DatabaseFiles | None = None
        try:
            self.engine: Engine = _make_engine(parsed, timeout_s)
            self._create_schema()
            if self.is_sqlite:
                self._files = DatabaseFiles.of(parsed.database)
        except SQLAlchemyError as exc:
            if hasattr(self, "engine"):
                self.engine.dispose()
            reason = _reason(exc, parsed.password)
            raise StoreError(f"{self.display}: cannot open the store ({reason})") from None
        except ModuleNotFoundError as exc:
            hint = " (pip install 'mlrails[postgres]')" if self.is_postgres else ""
            raise StoreError(
                f"{self.display}: database driver {exc.name!r} is not installed{hint}"
            ) from None

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Release every connection; later calls raise :class:`StoreUnavailable`."""
        with self._lock:
            self._closed = True
            self.engine.dispose()

    def ping(self) -> bool:
        """Whether the database answers a trivial query and (SQLite) is still the file at
        its path (readiness)."""
        if self._closed:
            return False
        try:
            if self._files is not None:
                self._files.verify()
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except (SQLAlchemyError, StoreUnavailable):
            return False

    def probe_write(self) -> None:
        """Commit a write that changes nothing, now; :class:`StoreUnavailable` saying why if
        it cannot be (readiness: whether a decision could be committed).

        SQLite takes the write lock (``BEGIN IMMEDIATE``, waiting up to ``timeout_s``),
        rewrites the header's ``user_version`` with its own value and commits: a real WAL
        append and flush, which a locked database, an unwritable log or a replaced file
        fails like a decision would. PostgreSQL commits a transaction that was given an id
        (a flushed commit record; fails on a read-only server), within ``timeout_s``.
        """

        def sqlite(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
            conn.exec_driver_sql(f"PRAGMA user_version = {version}")
            conn.commit()

        def postgres(conn: Connection) -> None:
            with conn.begin():
                ms = max(1, int(self.timeout_s * 1000))
                conn.execute(text(f"SET LOCAL statement_timeout = {ms}"))
                conn.execute(text("SELECT txid_current()"))

        def other(conn: Connection) -> None:
            with conn.begin():
                conn.execute(text("SELECT 1"))

        probe = sqlite if self.is_sqlite else postgres if self.is_postgres else other

        def run() -> None:
            self._verify_files()
            with self.engine.connect() as conn:
                probe(conn)
            self._verify_files()

        self.guarded(run)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- decisions ------------------------------------------------------------------------
    def write_decisions(self, records: Sequence[DecisionRecord]) -> None:
        """Commit ``records`` in one transaction; raises StoreUnavailable if not committed."""
        if not records:
            return
        rows = [_decision_row(r) for r in records]
        self.guarded(lambda: self._execute_write(insert(decisions), rows))

    def count_decisions(self) -> int:
        def q() -> int:
            with self.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

        return self.guarded(q)

    def iter_decisions(
        self, *, since: datetime | None = None, chunk: int = READ_CHUNK
    ) -> Iterator[list[DecisionRecord]]:
        """The log in insertion order, ``chunk`` records at a time (keyset pagination)."""
        last = 0
        while True:
            stmt = select(decisions).where(decisions.c.id > last)
            if since is not None:
                stmt = stmt.where(decisions.c.time >= to_utc(since))
            stmt = stmt.order_by(decisions.c.id).limit(chunk)

            def q(stmt: Any = stmt) -> list[DecisionRecord]:
                with self.engine.connect() as conn:
                    return [decision_record(m) for m in conn.execute(stmt).mappings()]

            batch = self.guarded(q)
            if not batch:
                return
            yield batch
            last = int(batch[-1].id or 0)

    def decisions(self, *, since: datetime | None = None) -> list[DecisionRecord]:
        """Every logged decision (at or after ``since``), oldest first."""
        return [r for batch in self.iter_decisions(since=since) for r in batch]

    # -- label feedback -------------------------------------------------------------------
    def record_labels(
        self,
        batch: Sequence[Label],
        *,
        key_id: str | None = None,
        received_at: datetime | None = None,
    ) -> FeedbackCounts:
        """File ``batch`` against the logged decisions in one transaction and count what
        became of each label: matched, unknown, duplicate or changed (the rule is
        :func:`mlrails.store.labels.tally`'s). Idempotent: the same batch again is all
        duplicates. ``key_id`` is the API key that sent it, ``received_at`` its time (now).

        Label writers are serialised (SQLite: the write lock is taken before the lookups,
        ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock), so two writers
        of the same label cannot both count it matched, nor fail on each other's insert.
        :class:`StoreUnavailable` if the batch was not committed (then nothing of it was).
        """
        if not batch:
            return FeedbackCounts()
        now = to_utc(received_at or datetime.now(UTC))

        def work(conn: Connection) -> FeedbackCounts:
            self._lock_labels(conn)
            return file_labels(conn, batch, now=now, key_id=key_id)

        return self.guarded(lambda: self._transaction(work))

    def labelled_decisions(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        chunk: int = READ_CHUNK,
    ) -> list[LabelledDecision]:
        """Every labelled decision row logged at or after ``since`` and before ``until``
        (decision time), oldest first, with its latest label: the joined rows the realised
        performance of a window is computed from."""
        out: list[LabelledDecision] = []
        while True:
            stmt = labelled_query(since, until, after=out[-1].decision_id if out else 0)

            def q(stmt: Any = stmt.limit(chunk)) -> list[LabelledDecision]:
                with self.engine.connect() as conn:
                    return [labelled_decision(m) for m in conn.execute(stmt).mappings()]

            batch = self.guarded(q)
            out.extend(batch)
            if len(batch) < chunk:
                return out

    def _lock_labels(self, conn: Connection) -> None:
        """Take the lock that serialises label writers, first thing in the transaction."""
        if self.is_sqlite:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif self.is_postgres:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LABELS_LOCK})

    # -- API keys -------------------------------------------------------------------------
    def add_key(self, record: ApiKeyRecord) -> None:
        row = {
            "id": record.id,
            "name": record.name,
            "token_hash": record.token_hash,
            "created_at": to_utc(record.created_at),
            "revoked_at": None if record.revoked_at is None else to_utc(record.revoked_at),
        }
        self.guarded(lambda: self._execute_write(insert(api_keys), [row]))

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        def q() -> ApiKeyRecord | None:
            with self.engine.connect() as conn:
                m = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings()
                row = m.first()
            return None if row is None else _key_record(row)

        return self.guarded(q)

    def list_keys(self) -> list[ApiKeyRecord]:
        def q() -> list[ApiKeyRecord]:
            with self.engine.connect() as conn:
                stmt = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
                return [_key_record(m) for m in conn.execute(stmt).mappings()]

        return self.guarded(q)

    def revoke_key(self, key_id: str, when: datetime) -> bool:
        """Mark a key revoked; False when no active key has that id."""
        stmt = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=to_utc(when))
        )

        def w() -> int:
            return self._transaction(lambda conn: int(conn.execute(stmt).rowcount))

        return self.guarded(w) > 0

    # -- benchmark runs -------------------------------------------------------------------
    def add_bench_run(self, record_json: dict[str, Any]) -> None:
        """Store a benchmark run (a ``RunRecord`` in its JSON form) in one transaction;
        :class:`StoreError` if a run with its id is already stored or it lacks a field."""
        try:
            cells = record_json["cells"]
            row = {
                "run_id": str(record_json["run_id"]),
                "started_at": to_utc(_iso(record_json["started_at"])),
                "finished_at": to_utc(_iso(record_json["finished_at"])),
                "config_hash": str(record_json["config_hash"]),
                "git_commit": record_json.get("git_commit"),
                "n_cells": len(cells),
                "n_failed": sum(1 for c in cells if c.get("error") is not None),
                "record": record_json,
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"not a benchmark record ({type(exc).__name__}: {exc})") from None

        def w() -> None:
            try:
                self._execute_write(insert(bench_runs), [row])
            except IntegrityError:
                raise StoreError(f"run {row['run_id']!r} is already stored") from None

        self.guarded(w)

    def get_bench_run(self, run_id: str) -> dict[str, Any] | None:
        """The record (JSON form) of the run ``run_id``, or ``None``."""

        def q() -> dict[str, Any] | None:
            stmt = select(bench_runs.c.record).where(bench_runs.c.run_id == run_id)
            with self.engine.connect() as conn:
                value = conn.execute(stmt).scalar_one_or_none()
            return None if value is None else dict(value)

        return self.guarded(q)

    def list_bench_runs(self) -> list[BenchRunRow]:
        """Every stored benchmark run, oldest first (records left out)."""
        cols = [c for c in bench_runs.c if c.name != "record"]

        def q() -> list[BenchRunRow]:
            stmt = select(*cols).order_by(bench_runs.c.started_at, bench_runs.c.run_id)
            with self.engine.connect() as conn:
                return [_bench_run_row(m) for m in conn.execute(stmt).mappings()]

        return self.guarded(q)

    # -- readiness scores -----------------------------------------------------------------
    def add_score(self, report_json: dict[str, Any]) -> int:
        """Store a readiness score (a ``ScoreReport`` in its JSON form) in one transaction;
        its id. :class:`StoreError` if it lacks the time or a rubric's score."""
        try:
            row = {
                "time": to_utc(_iso(report_json["time"])),
                "robustness": float(report_json["robustness"]["score"]),
                "mltest": float(report_json["mltest"]["score"]),
                "report": report_json,
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StoreError(f"not a score report ({type(exc).__name__}: {exc})") from None

        def w() -> int:
            key = self._transaction(
                lambda conn: conn.execute(insert(scores).values(**row)).inserted_primary_key
            )
            return int(key[0]) if key is not None else 0

        return self.guarded(w)

    def list_scores(self, limit: int | None = None) -> list[ScoreRow]:
        """The latest ``limit`` stored scores (all with ``None``), oldest first (reports
        left out)."""

        def q() -> list[ScoreRow]:
            cols = [c for c in scores.c if c.name != "report"]
            stmt = select(*cols).order_by(scores.c.time.desc(), scores.c.id.desc())
            if limit is not None:
                stmt = stmt.limit(max(0, limit))
            with self.engine.connect() as conn:
                rows = [_score_row(m) for m in conn.execute(stmt).mappings()]
            return rows[::-1]

        return self.guarded(q)

    def get_score(self, score_id: int) -> dict[str, Any] | None:
        """The report (JSON form) of the stored score ``score_id``, or ``None``."""

        def q() -> dict[str, Any] | None:
            stmt = select(scores.c.report).where(scores.c.id == score_id)
            with self.engine.connect() as conn:
                value = conn.execute(stmt).scalar_one_or_none()
            return None if value is None else dict(value)

        return self.guarded(q)

    # -- internals ------------------------------------------------------------------------
    def _create_schema(self) -> None:
        """Create the tables that do not exist yet (idempotent).

        On PostgreSQL the check and the ``CREATE`` run in one transaction under an advisory
        lock, so two processes starting at once cannot both try to create a table (DDL is
        transactional there: the second one waits, then finds the tables). Elsewhere a lost
        race ("already exists") is retried once, and the retry finds the tables.
        """
        if self.is_postgres:
            with self.engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
                metadata.create_all(conn)
            return
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            if "already exists" not in str(exc):
                raise
            metadata.create_all(self.engine)

    def _execute_write(self, stmt: Any, rows: list[dict[str, Any]]) -> None:
        self._transaction(lambda conn: conn.execute(stmt, rows))

    def _transaction(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` in one committed transaction, to the file at the store's path: the
        files are checked before (nothing is written to a file already gone) and after the
        commit (a commit that went into a file deleted meanwhile is not reported as done)."""
        self._verify_files()
        with self.engine.begin() as conn:
            out = work(conn)
        self._verify_files()
        return out

    def _verify_files(self) -> None:
        if self._files is not None:
            self._files.verify()

    def guarded(self, fn: Callable[[], _T]) -> _T:
        """``fn()`` on this store; a database failure (or a value the driver refuses) becomes
        :class:`StoreUnavailable` with a one-line reason, never the driver's exception."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return fn()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"the store failed: {_reason(exc, self._password)}",
                transient=isinstance(exc, _TRANSIENT),
            ) from None
        except (OverflowError, ValueError, TypeError) as exc:  # a value the driver refuses
            raise StoreUnavailable(
                f"the store refused a value: {_first(exc)}", transient=False
            ) from None

    @property
    def _password(self) -> str | None:
        return self.engine.url.password if hasattr(self, "engine") else None


def _make_engine(url: URL, timeout_s: float) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql":
        return _postgres_engine(url, timeout_s)
    if backend != "sqlite":
        return create_engine(url, json_serializer=_json_text, pool_pre_ping=True)
    engine = create_engine(
        url,
        json_serializer=_json_text,
        connect_args={"timeout": timeout_s, "check_same_thread": False},
    )
    busy_ms = int(timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")
        cur.close()

    return engine


def _postgres_engine(url: URL, timeout_s: float) -> Engine:
    """An engine for PostgreSQL through psycopg 3.

    A connection attempt gives up after ``timeout_s`` (at least 2 s, libpq's minimum), as
    does waiting for a free pooled connection, so an unreachable server means a prompt
    :class:`StoreUnavailable` (503) rather than a hung request. Pooled connections are
    checked before use and replaced after a server restart.
    """
    engine = create_engine(
        url,
        json_serializer=_json_text,
        pool_pre_ping=True,
        pool_timeout=timeout_s,
        pool_size=10,
        max_overflow=20,
        connect_args={"connect_timeout": max(2, math.ceil(timeout_s))},
    )

    @event.listens_for(engine, "connect")
    def _session(dbapi_conn: Any, _record: Any) -> None:
        # a commit returns only once its WAL is flushed, whatever the server's default
        cur = dbapi_conn.cursor()
        cur.execute("SET synchronous_commit TO on")
        cur.close()
        dbapi_conn.commit()

    return engine


def _json_text(value: Any) -> str:
    """Strict JSON for a JSON column. A lone surrogate (``"\\ud800"`` in a caller's JSON
    parses to one) cannot be encoded as UTF-8, so no database driver can send it: each one
    is stored as U+FFFD instead of failing the write (and with it the request)."""
    text = dumps(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def _decision_row(r: DecisionRecord) -> dict[str, Any]:
    return {
        "time": to_utc(r.time),
        "trace_id": r.trace_id,
        "key_id": r.key_id,
        "artifact_hash": r.artifact_hash,
        "row_index": r.row_index,
        "status": r.status,
        "problem": r.problem,
        "input": r.input,
        "output": r.output,
        "scores": r.scores,
        "latency_ms": float(r.latency_ms),
    }


def decision_record(m: Any) -> DecisionRecord:
    """The :class:`DecisionRecord` of one row (a mapping) of the ``decisions`` table."""
    return DecisionRecord(
        id=int(m["id"]),
        time=to_utc(m["time"]),
        trace_id=m["trace_id"],
        key_id=m["key_id"],
        artifact_hash=m["artifact_hash"],
        row_index=m["row_index"],
        status=int(m["status"]),
        problem=m["problem"],
        input=m["input"],
        output=m["output"],
        scores=m["scores"],
        latency_ms=float(m["latency_ms"]),
    )


def _key_record(m: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=m["id"],
        name=m["name"],
        token_hash=m["token_hash"],
        created_at=to_utc(m["created_at"]),
        revoked_at=None if m["revoked_at"] is None else to_utc(m["revoked_at"]),
    )


def _bench_run_row(m: Any) -> BenchRunRow:
    return BenchRunRow(
        run_id=m["run_id"],
        started_at=to_utc(m["started_at"]),
        finished_at=to_utc(m["finished_at"]),
        config_hash=m["config_hash"],
        git_commit=m["git_commit"],
        n_cells=int(m["n_cells"]),
        n_failed=int(m["n_failed"]),
    )


def _score_row(m: Any) -> ScoreRow:
    return ScoreRow(
        id=int(m["id"]),
        time=to_utc(m["time"]),
        robustness=float(m["robustness"]),
        mltest=float(m["mltest"]),
    )


def _iso(value: Any) -> datetime:
    """An ISO-8601 time (``str``, ``Z`` allowed) or a datetime, as a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _reason(exc: SQLAlchemyError, password: str | None = None) -> str:
    """The first line of the driver's message, without the password should it appear."""
    orig = getattr(exc, "orig", None)
    msg = (str(orig if orig is not None else exc).splitlines() or [type(exc).__name__])[0]
    if password:
        msg = msg.replace(password, "***")
    return msg.strip()[:200]


def _first(exc: Exception) -> str:
    return ((str(exc).splitlines() or [type(exc).__name__])[0]).strip()[:200]


def _display(url: Any) -> str:
    """The URL without its password, for messages."""
    try:
        return str(url.render_as_string(hide_password=True))
    except AttributeError:
        return str(url)
