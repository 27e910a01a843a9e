"""The :class:`Store`: open a database, write decisions atomically, read them back, keep keys.

Every write is one transaction: a request's rows are committed together or not at all, and
the caller learns about a failure (:class:`StoreUnavailable`) instead of losing a record.
SQLite runs in WAL mode with ``synchronous=FULL`` so a committed decision survives a crash of
the process or the machine; concurrent writers wait up to ``timeout_s`` for the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from mlrails._json import dumps
from mlrails.store.errors import StoreError, StoreUnavailable
from mlrails.store.records import ApiKeyRecord, DecisionRecord
from mlrails.store.tables import api_keys, decisions, metadata

_T = TypeVar("_T")

#: rows fetched per round trip when iterating over the log
READ_CHUNK = 5000


def store_url(target: str | Path) -> str:
    """A SQLAlchemy URL for a path (SQLite file) or a URL given as is."""
    s = str(target)
    if "://" in s:
        return s
    return "sqlite:///" + str(Path(s).expanduser().resolve())


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
        self.timeout_s = timeout_s
        self._closed = False
        self._lock = threading.Lock()
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            parent = Path(parsed.database).parent
            if not parent.is_dir():
                raise StoreError(f"{parsed.database}: directory {parent} does not exist")
        try:
            self.engine: Engine = _make_engine(url, self.is_sqlite, timeout_s)
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{_display(parsed)}: cannot open the store ({_reason(exc)})"
            ) from None
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"{_display(parsed)}: database driver {exc.name!r} is not installed"
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
        """Whether the database answers a trivial query (readiness probe)."""
        if self._closed:
            return False
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

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
        self._guarded(lambda: self._execute_write(insert(decisions), rows))

    def count_decisions(self) -> int:
        def q() -> int:
            with self.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(decisions)).scalar_one())

        return self._guarded(q)

    def iter_decisions(
        self, *, since: datetime | None = None, chunk: int = READ_CHUNK
    ) -> Iterator[list[DecisionRecord]]:
        """The log in insertion order, ``chunk`` records at a time (keyset pagination)."""
        last = 0
        while True:
            stmt = select(decisions).where(decisions.c.id > last)
            if since is not None:
                stmt = stmt.where(decisions.c.time >= _utc(since))
            stmt = stmt.order_by(decisions.c.id).limit(chunk)

            def q(stmt: Any = stmt) -> list[DecisionRecord]:
                with self.engine.connect() as conn:
                    return [_decision_record(m) for m in conn.execute(stmt).mappings()]

            batch = self._guarded(q)
            if not batch:
                return
            yield batch
            last = int(batch[-1].id or 0)

    def decisions(self, *, since: datetime | None = None) -> list[DecisionRecord]:
        """Every logged decision (at or after ``since``), oldest first."""
        return [r for batch in self.iter_decisions(since=since) for r in batch]

    # -- API keys -------------------------------------------------------------------------
    def add_key(self, record: ApiKeyRecord) -> None:
        row = {
            "id": record.id,
            "name": record.name,
            "token_hash": record.token_hash,
            "created_at": _utc(record.created_at),
            "revoked_at": None if record.revoked_at is None else _utc(record.revoked_at),
        }
        self._guarded(lambda: self._execute_write(insert(api_keys), [row]))

    def get_key(self, key_id: str) -> ApiKeyRecord | None:
        def q() -> ApiKeyRecord | None:
            with self.engine.connect() as conn:
                m = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings()
                row = m.first()
            return None if row is None else _key_record(row)

        return self._guarded(q)

    def list_keys(self) -> list[ApiKeyRecord]:
        def q() -> list[ApiKeyRecord]:
            with self.engine.connect() as conn:
                stmt = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
                return [_key_record(m) for m in conn.execute(stmt).mappings()]

        return self._guarded(q)

    def revoke_key(self, key_id: str, when: datetime) -> bool:
        """Mark a key revoked; False when no active key has that id."""
        stmt = (
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=_utc(when))
        )

        def w() -> int:
            with self.engine.begin() as conn:
                return int(conn.execute(stmt).rowcount)

        return self._guarded(w) > 0

    # -- internals ------------------------------------------------------------------------
    def _execute_write(self, stmt: Any, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def _guarded(self, fn: Callable[[], _T]) -> _T:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return fn()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the store failed: {_reason(exc)}") from None


def _make_engine(url: str, is_sqlite: bool, timeout_s: float) -> Engine:
    if not is_sqlite:
        return create_engine(url, json_serializer=dumps, pool_pre_ping=True)
    engine = create_engine(
        url,
        json_serializer=dumps,
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


def _decision_row(r: DecisionRecord) -> dict[str, Any]:
    return {
        "time": _utc(r.time),
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


def _decision_record(m: Any) -> DecisionRecord:
    return DecisionRecord(
        id=int(m["id"]),
        time=_aware(m["time"]),
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
        created_at=_aware(m["created_at"]),
        revoked_at=None if m["revoked_at"] is None else _aware(m["revoked_at"]),
    )


def _utc(t: datetime) -> datetime:
    """Aware UTC for storage (a naive time is taken as UTC). SQLite stores the UTC wall time
    as text, so text comparison orders times; PostgreSQL's timestamptz keeps the instant."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc).splitlines()[0]
    return msg[:200]


def _display(url: Any) -> str:
    """The URL without its password, for messages."""
    try:
        return str(url.render_as_string(hide_password=True))
    except AttributeError:
        return str(url)
