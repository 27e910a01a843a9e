"""The **store** source: the decision log of ``mlrails serve``, read only.

Decisions and their status mix, API keys, stored benchmark runs, first/last decision time,
latency, artifacts served.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mlrails.clock import utc
from mlrails.score.facts import StoreFacts
from mlrails.score.readers.common import Unusable


def read_store(target: str) -> StoreFacts:
    """Summaries of the decision log, keys and stored bench runs (read only)."""
    try:
        from sqlalchemy import distinct, func, select

        from mlrails.store import StoreError, StoreUnavailable, display_url, open_store
        from mlrails.store.queries import status_counts
        from mlrails.store.tables import decisions
    except ModuleNotFoundError as exc:  # the serve extra is not installed
        raise Unusable(f"{target}: cannot read a store without {exc.name!r}") from None
    try:
        store = open_store(target, create=False)
    except StoreError as exc:
        raise Unusable(str(exc)) from None
    try:
        stmt = select(
            func.min(decisions.c.time),
            func.max(decisions.c.time),
            func.avg(decisions.c.latency_ms),
            func.count(decisions.c.key_id),
            func.count(distinct(decisions.c.artifact_hash)),
        )

        def q() -> Any:
            with store.engine.connect() as conn:
                return conn.execute(stmt).one()

        first, last, latency, keyed, artifacts = store._guarded(q)
        keys = store.list_keys()
        return StoreFacts(
            display=display_url(target),
            decisions=store.count_decisions(),
            status_counts=status_counts(store),
            keyed_decisions=int(keyed or 0),
            artifacts_served=int(artifacts or 0),
            active_keys=sum(1 for k in keys if k.active),
            revoked_keys=sum(1 for k in keys if not k.active),
            bench_runs=len(store.list_bench_runs()),
            first_decision=_moment(first),
            last_decision=_moment(last),
            mean_latency_ms=None if latency is None else float(latency),
        )
    except (StoreError, StoreUnavailable) as exc:
        raise Unusable(f"{display_url(target)}: {exc}") from None
    finally:
        store.close()


def _moment(t: Any) -> datetime | None:
    return utc(t) if isinstance(t, datetime) else None
