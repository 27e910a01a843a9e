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
        from mlrails.store import StoreError, StoreUnavailable, display_url, open_store
        from mlrails.store.queries import log_summary, status_counts
    except ModuleNotFoundError as exc:  # the serve extra is not installed
        raise Unusable(f"{target}: cannot read a store without {exc.name!r}") from None
    try:
        store = open_store(target, create=False)
    except StoreError as exc:
        raise Unusable(str(exc)) from None
    try:
        summary = log_summary(store)
        keys = store.list_keys()
        return StoreFacts(
            display=display_url(target),
            decisions=store.count_decisions(),
            status_counts=status_counts(store),
            keyed_decisions=summary.keyed_decisions,
            artifacts_served=summary.artifacts_served,
            active_keys=sum(1 for k in keys if k.active),
            revoked_keys=sum(1 for k in keys if not k.active),
            bench_runs=len(store.list_bench_runs()),
            first_decision=_moment(summary.first),
            last_decision=_moment(summary.last),
            mean_latency_ms=summary.mean_latency_ms,
        )
    except (StoreError, StoreUnavailable) as exc:
        raise Unusable(f"{display_url(target)}: {exc}") from None
    finally:
        store.close()


def _moment(t: Any) -> datetime | None:
    return utc(t) if isinstance(t, datetime) else None
