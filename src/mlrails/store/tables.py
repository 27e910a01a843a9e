"""The store's schema as SQLAlchemy Core tables (portable between SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
)
from sqlalchemy.ext.compiler import compiles

metadata = MetaData()

#: SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY
_ID = BigInteger().with_variant(Integer(), "sqlite")

decisions = Table(
    "decisions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("trace_id", String(64), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("artifact_hash", String(128), nullable=False),
    Column("row_index", Integer, nullable=True),
    Column("status", SmallInteger, nullable=False),
    Column("problem", String(256), nullable=True),
    Column("input", JSON, nullable=True),
    Column("output", JSON, nullable=True),
    Column("scores", JSON, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Index("ix_decisions_time", "time"),
    Index("ix_decisions_trace_id", "trace_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

#: benchmark runs (``mlrails bench``): a few columns to list and filter by, the whole
#: RunRecord as JSON (JSON, not JSONB, on PostgreSQL: its text — and so every float — is kept
#: exactly as written)
bench_runs = Table(
    "bench_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("git_commit", String(80), nullable=True),
    Column("n_cells", Integer, nullable=False),
    Column("n_failed", Integer, nullable=False),
    Column("record", JSON, nullable=False),
    Index("ix_bench_runs_started_at", "started_at"),
)

#: readiness scores (``mlrails score``): the two finals to list and chart, the whole report
#: as JSON
scores = Table(
    "scores",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("robustness", Float, nullable=False),
    Column("mltest", Float, nullable=False),
    Column("report", JSON, nullable=False),
    Index("ix_scores_time", "time"),
)


class ScalarJSON(JSON):
    """JSON that may be a bare scalar (a label: ``1``, ``"cat"``, ``true``), kept exactly.

    SQLite gives a column declared ``JSON`` numeric affinity, which turns the JSON text of a
    large integer into an approximate float (``12345678901234567890`` → ``1.2345678901234567e19``)
    and ``1.0`` into ``1``; declared ``TEXT`` there, the JSON text is stored as written.
    PostgreSQL's ``json`` keeps its text as it is.
    """

    cache_ok = True


@compiles(ScalarJSON, "sqlite")
def _scalar_json_on_sqlite(_type: Any, _compiler: Any, **_kw: Any) -> str:
    return "TEXT"


#: label feedback (``POST /v1/feedback``, ``mlrails feedback``): the latest label of one
#: logged decision row, keyed like the decision (trace id, row index), with the decision's id
#: for the join; ``revision`` counts the values received (1: never changed) and ``previous``
#: keeps the value the latest one replaced. Only labels of logged decisions are stored.
labels = Table(
    "labels",
    metadata,
    Column("trace_id", String(64), primary_key=True),
    Column("row_index", Integer, primary_key=True, autoincrement=False),
    Column("decision_id", _ID, nullable=False),
    Column("label", ScalarJSON, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("revision", Integer, nullable=False),
    Column("previous", ScalarJSON(none_as_null=True), nullable=True),
    Index("ix_labels_decision_id", "decision_id"),
)
