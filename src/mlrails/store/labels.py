"""Label feedback: the true answers that arrive after the decisions, matched to the log.

A :class:`Label` names one logged decision row by the request's trace id (the ``X-Trace-Id``
the answer carried) and the row's index in that request's batch (0 for a single row), and
gives its true value: a class value or a number. :meth:`Store.record_labels
<mlrails.store.Store.record_labels>` files a batch of them and answers a
:class:`FeedbackCounts`; :func:`tally` is the rule it applies, in the order the labels come:

* **matched**: the first label of a logged decision row (stored);
* **duplicate**: the value already stored for that row (nothing changes: sending labels again
  is safe);
* **changed**: another value for a row already labelled: the latest wins, the revision count
  goes up and the value it replaced is kept as ``previous``;
* **unknown**: no logged decision row has that trace id and row index (a request refused as a
  whole has no row). Not stored: a label is accepted only for a decision already in the log,
  so labels that come early are sent again later, and no caller can fill the table with
  labels of nothing.

Two values are the same label when they are equal as JSON values: ``1`` and ``1.0`` are,
``true`` and ``1`` are not. The SQL the store runs for them is here too (:func:`file_labels`,
:func:`labelled_query`); :mod:`mlrails.store.label_files` reads labels from a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, insert, select, update

from mlrails.errors import DataError, echo
from mlrails.store.tables import decisions, labels
from mlrails.store.times import to_utc

#: a label's value: a class value (text, integer, boolean) or a number
LabelValue = str | int | float | bool
#: a decision row: (trace id, row index)
RowKey = tuple[str, int]

#: a trace id as the decision log holds one: printable ASCII, no space, at most 64 characters
TRACE_ID_PATTERN = r"^[!-~]{1,64}$"
_TRACE_ID = re.compile(TRACE_ID_PATTERN)
#: the largest row index the log can hold (its column is a 32-bit integer)
MAX_ROW = 2**31 - 1
#: trace ids per ``IN (...)`` list when looking labels and decisions up
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Label:
    """The true value of one logged decision row; :class:`DataError` if it cannot be one.

    ``trace_id`` is the request's trace id, ``row`` the row's index in its batch (0 for a
    single row), ``value`` a string, an integer, a boolean or a finite number.
    """

    trace_id: str
    row: int
    value: LabelValue

    def __post_init__(self) -> None:
        if not isinstance(self.trace_id, str) or not _TRACE_ID.match(self.trace_id):
            raise DataError(
                f"trace_id {echo(self.trace_id)}: not a trace id (1 to 64 printable ASCII "
                "characters, no space)"
            )
        if type(self.row) is not int or not 0 <= self.row <= MAX_ROW:
            raise DataError(f"row {echo(self.row)}: not a row index (an integer >= 0)")
        v = self.value
        if not isinstance(v, (str, int, float)) or (isinstance(v, float) and not math.isfinite(v)):
            raise DataError(
                f"label {echo(v)}: not a label (a string, an integer, a boolean or a finite number)"
            )

    @property
    def key(self) -> RowKey:
        """The decision row it labels."""
        return (self.trace_id, self.row)


@dataclass(frozen=True, slots=True)
class FeedbackCounts:
    """What became of a batch of labels (see the module docstring for each count)."""

    matched: int = 0
    unknown: int = 0
    duplicate: int = 0
    changed: int = 0

    @property
    def total(self) -> int:
        return self.matched + self.unknown + self.duplicate + self.changed

    def __add__(self, other: FeedbackCounts) -> FeedbackCounts:
        return FeedbackCounts(
            self.matched + other.matched,
            self.unknown + other.unknown,
            self.duplicate + other.duplicate,
            self.changed + other.changed,
        )

    def to_dict(self) -> dict[str, int]:
        """``{"matched": n, "unknown": n, "duplicate": n, "changed": n}`` (the HTTP answer)."""
        return {
            "matched": self.matched,
            "unknown": self.unknown,
            "duplicate": self.duplicate,
            "changed": self.changed,
        }


@dataclass(frozen=True, slots=True)
class StoredLabel:
    """A decision row's label as the store keeps it."""

    decision_id: int
    value: LabelValue
    received_at: datetime
    key_id: str | None
    revision: int = 1
    previous: LabelValue | None = None


@dataclass(frozen=True, slots=True)
class LabelledDecision:
    """One logged decision row joined to its latest label (``Store.labelled_decisions``).

    ``time`` is the decision's, ``status`` its status code, ``output`` the verdict as logged
    and ``prediction`` the answer in it; ``labelled_at`` is when the latest label came and
    ``revision`` how many values the row has received.
    """

    decision_id: int
    time: datetime
    trace_id: str
    row_index: int
    artifact_hash: str
    status: int
    prediction: Any
    output: Any
    label: LabelValue
    labelled_at: datetime
    revision: int


def same_label(a: Any, b: Any) -> bool:
    """Whether two label values are equal as JSON values (``1 == 1.0``, ``true != 1``)."""
    return isinstance(a, bool) == isinstance(b, bool) and bool(a == b)


def tally(
    labels: Iterable[Label],
    decisions: Mapping[RowKey, int],
    stored: Mapping[RowKey, StoredLabel],
    *,
    now: datetime,
    key_id: str | None = None,
) -> tuple[FeedbackCounts, dict[RowKey, StoredLabel]]:
    """Count ``labels`` in order against the rows' logged decisions (their ids) and the labels
    ``stored`` so far; the counts and each row's label to write (new or changed rows only).

    ``now`` is when they were received and ``key_id`` the API key that sent them.
    """
    current = dict(stored)
    writes: dict[RowKey, StoredLabel] = {}
    matched = unknown = duplicate = changed = 0
    for label in labels:
        key = label.key
        have = current.get(key)
        if have is None:
            decision = decisions.get(key)
            if decision is None:
                unknown += 1
                continue
            matched += 1
            new = StoredLabel(decision, label.value, now, key_id)
        elif same_label(have.value, label.value):
            duplicate += 1
            continue
        else:
            changed += 1
            new = replace(
                have,
                value=label.value,
                received_at=now,
                key_id=key_id,
                revision=have.revision + 1,
                previous=have.value,
            )
        current[key] = writes[key] = new
    return FeedbackCounts(matched, unknown, duplicate, changed), writes


# -- the SQL ---------------------------------------------------------------------------------
def file_labels(
    conn: Connection, batch: Sequence[Label], *, now: datetime, key_id: str | None
) -> FeedbackCounts:
    """Look up the rows of ``batch`` (labels already stored, then the logged decisions of the
    rest), :func:`tally` it and write the new and changed labels, on ``conn`` inside the
    caller's transaction (which must keep other label writers out until it commits)."""
    keys = {label.key for label in batch}
    stored = _stored_labels(conn, keys)
    decided = _decision_ids(conn, keys - stored.keys())
    counts, writes = tally(batch, decided, stored, now=now, key_id=key_id)
    new = [_label_row(k, v) for k, v in writes.items() if k not in stored]
    changed = [_label_row(k, v) for k, v in writes.items() if k in stored]
    if new:
        conn.execute(insert(labels), new)
    if changed:
        conn.execute(_UPDATE_LABEL, [{"k_" + k: v for k, v in r.items()} for r in changed])
    return counts


def labelled_query(
    since: datetime | None, until: datetime | None, *, after: int = 0
) -> Select[Any]:
    """The labelled decision rows logged in ``[since, until)`` with an id over ``after``, by
    id (keyset pagination: the caller adds a ``limit``)."""
    stmt = (
        select(
            decisions.c.id,
            decisions.c.time,
            decisions.c.trace_id,
            decisions.c.row_index,
            decisions.c.artifact_hash,
            decisions.c.status,
            decisions.c.output,
            labels.c.label,
            labels.c.received_at,
            labels.c.revision,
        )
        .select_from(labels.join(decisions, decisions.c.id == labels.c.decision_id))
        .where(decisions.c.id > after)
        .order_by(decisions.c.id)
    )
    if since is not None:
        stmt = stmt.where(decisions.c.time >= to_utc(since))
    if until is not None:
        stmt = stmt.where(decisions.c.time < to_utc(until))
    return stmt


def labelled_decision(m: Any) -> LabelledDecision:
    """The :class:`LabelledDecision` of one row (a mapping) of :func:`labelled_query`."""
    output = m["output"]
    return LabelledDecision(
        decision_id=int(m["id"]),
        time=to_utc(m["time"]),
        trace_id=m["trace_id"],
        row_index=int(m["row_index"]),
        artifact_hash=m["artifact_hash"],
        status=int(m["status"]),
        prediction=output.get("prediction") if isinstance(output, dict) else None,
        output=output,
        label=m["label"],
        labelled_at=to_utc(m["received_at"]),
        revision=int(m["revision"]),
    )


#: one changed label, written in place (parameters ``k_<column>``)
_UPDATE_LABEL = (
    update(labels)
    .where(
        labels.c.trace_id == bindparam("k_trace_id"),
        labels.c.row_index == bindparam("k_row_index"),
    )
    .values(
        label=bindparam("k_label", type_=labels.c.label.type),
        received_at=bindparam("k_received_at", type_=labels.c.received_at.type),
        key_id=bindparam("k_key_id"),
        revision=bindparam("k_revision"),
        previous=bindparam("k_previous", type_=labels.c.previous.type),
        decision_id=bindparam("k_decision_id"),
    )
)


def _in_chunks(keys: set[RowKey]) -> Iterator[list[str]]:
    """The distinct trace ids of ``keys``, a bounded ``IN (...)`` list at a time."""
    traces = sorted({trace for trace, _ in keys})
    for i in range(0, len(traces), _IN_CHUNK):
        yield traces[i : i + _IN_CHUNK]


def _stored_labels(conn: Connection, keys: set[RowKey]) -> dict[RowKey, StoredLabel]:
    """The labels already stored for these decision rows."""
    out: dict[RowKey, StoredLabel] = {}
    for traces in _in_chunks(keys):
        for m in conn.execute(select(labels).where(labels.c.trace_id.in_(traces))).mappings():
            key = (m["trace_id"], int(m["row_index"]))
            if key in keys:
                out[key] = StoredLabel(
                    decision_id=int(m["decision_id"]),
                    value=m["label"],
                    received_at=to_utc(m["received_at"]),
                    key_id=m["key_id"],
                    revision=int(m["revision"]),
                    previous=m["previous"],
                )
    return out


def _decision_ids(conn: Connection, keys: set[RowKey]) -> dict[RowKey, int]:
    """The id of the logged decision of each of these rows that has one (the latest, should
    a trace id have been sent twice)."""
    out: dict[RowKey, int] = {}
    cols = (decisions.c.id, decisions.c.trace_id, decisions.c.row_index)
    for traces in _in_chunks(keys):
        stmt = select(*cols).where(
            decisions.c.trace_id.in_(traces), decisions.c.row_index.is_not(None)
        )
        for decision_id, trace, row in conn.execute(stmt):
            key = (trace, int(row))
            if key in keys and decision_id > out.get(key, -1):
                out[key] = int(decision_id)
    return out


def _label_row(key: RowKey, label: StoredLabel) -> dict[str, Any]:
    return {
        "trace_id": key[0],
        "row_index": key[1],
        "decision_id": label.decision_id,
        "label": label.value,
        "received_at": label.received_at,
        "key_id": label.key_id,
        "revision": label.revision,
        "previous": label.previous,
    }
