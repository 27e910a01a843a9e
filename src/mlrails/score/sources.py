"""Where the evidence for a score comes from (every source optional)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvidenceSources:
    """The files and stores ``mlrails score`` reads.

    ``artifact``: a rails artifact directory; ``descriptors``: a directory of the eight
    mismatch descriptors; ``bench``: benchmark run records (JSON, ``mlrails bench``);
    ``store``: the decision log / bench-run store of ``mlrails serve`` (SQLite path or
    postgresql:// URL); ``serve_settings``: the service's settings (JSON or YAML with
    :class:`mlrails.serve.ServeSettings` fields); ``project``: the repository root, scanned for
    CI configuration, container files and tests.
    """

    artifact: Path | None = None
    descriptors: Path | None = None
    bench: tuple[Path, ...] = ()
    store: str | None = None
    serve_settings: Path | None = None
    project: Path | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "artifact": None if self.artifact is None else str(self.artifact),
            "descriptors": None if self.descriptors is None else str(self.descriptors),
            "bench": [str(p) for p in self.bench],
            "store": self.store,
            "serve_settings": None if self.serve_settings is None else str(self.serve_settings),
            "project": None if self.project is None else str(self.project),
        }
