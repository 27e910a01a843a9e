"""The outcome of ``mlrails bench verify``, kept beside the record it checked.

``record.json`` verified → ``record.verified.json``: which run, whether every cell was
reproduced bit for bit, how many cells differed, when, by which mlrails on which machine. It
is what ``mlrails score`` reads as evidence that training and evaluation are reproducible.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from mlrails.bench.record import RecordError, first_error

VERIFICATION_FORMAT = "mlrails-bench-verification"


class Verification(BaseModel):
    """One ``bench verify`` of one run."""

    model_config = ConfigDict(extra="forbid")

    format: str = VERIFICATION_FORMAT
    run_id: str
    identical: bool
    n_cells: int
    n_mismatches: int
    verified_at: str
    mlrails_version: str
    machine: str

    @classmethod
    def of(cls, run_id: str, identical: bool, n_cells: int, n_mismatches: int) -> Verification:
        from mlrails.version import __version__

        return cls(
            run_id=run_id,
            identical=identical,
            n_cells=n_cells,
            n_mismatches=n_mismatches,
            verified_at=datetime.now(UTC).isoformat(timespec="seconds"),
            mlrails_version=__version__,
            machine=f"{platform.platform()} ({platform.machine()})",
        )


def verification_path(record_path: str | Path) -> Path:
    """Where the verification of the record file ``record_path`` is kept."""
    p = Path(record_path)
    return p.with_name(p.stem + ".verified.json")


def write_verification(record_path: str | Path, verification: Verification) -> Path:
    """Write ``verification`` beside ``record_path``; returns the file written."""
    target = verification_path(record_path)
    target.write_text(verification.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return target


def read_verification(record_path: str | Path, run_id: str) -> Verification | None:
    """The verification kept beside ``record_path`` for ``run_id``; None when there is none
    (or it belongs to another run: the record was overwritten since). :class:`RecordError`
    when the file is not a verification."""
    target = verification_path(record_path)
    if not target.is_file():
        return None
    try:
        found = Verification.model_validate_json(target.read_bytes())
    except ValidationError as exc:
        raise RecordError(f"{target}: not a bench verification ({first_error(exc)})") from None
    if found.format != VERIFICATION_FORMAT:
        raise RecordError(f"{target}: not a {VERIFICATION_FORMAT} file")
    return found if found.run_id == run_id else None
