"""Read every evidence source of a score into typed facts; a bad source becomes a gap.

:func:`collect` reads what :class:`~mlrails.score.sources.EvidenceSources` names and returns
an :class:`~mlrails.score.facts.Evidence`: one frozen fact object per source (``None`` when the
source was not given or could not be used) and the :class:`~mlrails.score.report.Gap` list
saying which file failed and why. It never raises for a bad source: a missing path, corrupt
JSON, a tampered artifact, an unreachable store each become a gap, and the score is computed
from what remains.

Each source has its reader in :mod:`mlrails.score.readers` (artifact, descriptors, bench,
store, serve_settings, project); the facts are in :mod:`mlrails.score.facts`, re-exported here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlrails.score.facts import (
    ArtifactFacts,
    BenchFacts,
    BenchRecordFact,
    DescriptorFacts,
    Evidence,
    ProjectFacts,
    SafeguardFact,
    ServeFacts,
    StoreFacts,
    facts_json,
)
from mlrails.score.readers import (
    COMMAND_PATTERNS,
    Unusable,
    read_artifact,
    read_bench_record,
    read_descriptors,
    read_serve_settings,
    read_store,
    read_verification,
    scan_project,
)
from mlrails.score.report import Gap
from mlrails.score.sources import EvidenceSources

__all__ = [
    "COMMAND_PATTERNS",
    "ArtifactFacts",
    "BenchFacts",
    "BenchRecordFact",
    "DescriptorFacts",
    "Evidence",
    "ProjectFacts",
    "SafeguardFact",
    "ServeFacts",
    "StoreFacts",
    "collect",
    "facts_json",
    "read_artifact",
    "read_bench_record",
    "read_descriptors",
    "read_serve_settings",
    "read_store",
    "scan_project",
]


def collect(sources: EvidenceSources) -> Evidence:
    """Read every given source; each failure is a gap, never an exception."""
    gaps: list[Gap] = []

    def guarded(name: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Unusable as exc:
            gaps.append(Gap(name, str(exc)))
        except Exception as exc:  # a reader's bug or an odd file must not stop the score
            gaps.append(Gap(name, f"{args[0]}: cannot be read ({type(exc).__name__}: {exc})"))
        return None

    artifact = None
    if sources.artifact is not None:
        artifact = guarded("artifact", read_artifact, sources.artifact)
    descriptors = None
    if sources.descriptors is not None:
        descriptors = guarded("descriptors", read_descriptors, sources.descriptors)
    bench = None
    if sources.bench:
        records = []
        for p in sources.bench:
            rec = guarded("bench", read_bench_record, p)
            if rec is not None:
                kept = guarded("bench", read_verification, p, rec.run_id)
                records.append(replace(rec, verified=None if kept is None else kept.identical))
        bench = BenchFacts(tuple(records)) if records else None
    store = None
    if sources.store is not None:
        store = guarded("store", read_store, sources.store)
    serve = None
    if sources.serve_settings is not None:
        serve = guarded("serve_settings", read_serve_settings, sources.serve_settings)
    project = None
    if sources.project is not None:
        project = guarded("project", scan_project, sources.project)
    return Evidence(artifact, descriptors, bench, store, serve, project, tuple(gaps))
