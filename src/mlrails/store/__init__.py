"""The decision log: every guarded request and its verdicts, durably stored (SQLAlchemy 2).

SQLite (WAL, synchronous writes) is the embedded default; PostgreSQL
(``postgresql://user:pass@host/db``, psycopg 3, the ``postgres`` extra) lets several server
processes share one log. The store also holds the hashed API keys and the label feedback
joined to the decisions (:mod:`mlrails.store.labels`).
Importing this package needs the ``serve`` extra (SQLAlchemy); ``import mlrails`` does not.
"""

from mlrails.store.database import Store, display_url, open_store
from mlrails.store.errors import StoreError, StoreFileReplaced, StoreUnavailable
from mlrails.store.export import export_decisions
from mlrails.store.label_files import read_labels
from mlrails.store.labels import FeedbackCounts, Label, LabelledDecision
from mlrails.store.records import ApiKeyRecord, DecisionRecord

__all__ = [
    "ApiKeyRecord",
    "DecisionRecord",
    "FeedbackCounts",
    "Label",
    "LabelledDecision",
    "Store",
    "StoreError",
    "StoreFileReplaced",
    "StoreUnavailable",
    "display_url",
    "export_decisions",
    "open_store",
    "read_labels",
]
