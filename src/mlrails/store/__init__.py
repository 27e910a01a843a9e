"""The decision log: every guarded request and its verdicts, durably stored (SQLAlchemy 2).

SQLite (WAL, synchronous writes) is the embedded default; any SQLAlchemy URL is accepted, so
PostgreSQL can serve several instances later. The store also holds the hashed API keys.
Importing this package needs the ``serve`` extra (SQLAlchemy); ``import mlrails`` does not.
"""

from mlrails.store.database import Store, open_store
from mlrails.store.errors import StoreError, StoreUnavailable
from mlrails.store.export import export_decisions
from mlrails.store.records import ApiKeyRecord, DecisionRecord

__all__ = [
    "ApiKeyRecord",
    "DecisionRecord",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "export_decisions",
    "open_store",
]
