"""One reader per evidence source; each returns that source's facts or raises
:class:`~mlrails.score.readers.common.Unusable` (the problem a gap reports)."""

from mlrails.score.readers.artifact import read_artifact
from mlrails.score.readers.bench import read_bench_record, read_verification
from mlrails.score.readers.common import Unusable
from mlrails.score.readers.descriptors import read_descriptors
from mlrails.score.readers.project import COMMAND_PATTERNS, scan_project
from mlrails.score.readers.serve import read_serve_settings
from mlrails.score.readers.store import read_store

__all__ = [
    "COMMAND_PATTERNS",
    "Unusable",
    "read_artifact",
    "read_bench_record",
    "read_descriptors",
    "read_serve_settings",
    "read_store",
    "read_verification",
    "scan_project",
]
