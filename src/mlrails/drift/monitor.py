"""Drift monitoring of logged traffic against the reference the artifact keeps.

At fit time the artifact stores a :class:`TrafficReference`: the training inputs (one
:class:`ReferenceProfile` over the contract's fields, a seeded subsample of at most
``policy.drift.reference_size`` values per field) and the model's outputs on the calibration
split as the guard answered them there (``prediction``: the class, missing where the guard refused
the row, or the value for a regressor; ``confidence``: the calibrated maximum probability).
Reference and window go through the same verdict-to-output rule, so refusals bias neither
side. A check reads the decisions of a time window and compares the logged inputs (rows
refused by validation left out, counted as refusals), and the predictions and confidences
of the answered rows, with it: two families of tests, each with its own Benjamini–Hochberg
control (outputs exist only for answered rows, so
the two families see different rows).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlrails.drift.detect import DriftConfig, DriftReport, compare
from mlrails.drift.profile import ReferenceProfile, category_key
from mlrails.drift.traffic import inputs_frame, refused_by_validation
from mlrails.errors import DataError

if TYPE_CHECKING:
    from mlrails.contract import InputContract
    from mlrails.store import DecisionRecord

#: the output fields of a traffic reference
PREDICTION = "prediction"
CONFIDENCE = "confidence"


@dataclass(frozen=True)
class TrafficReference:
    """Training inputs and calibration-split outputs, as drift references."""

    inputs: ReferenceProfile | None
    outputs: ReferenceProfile | None

    @classmethod
    def build(
        cls,
        X: Any,
        contract: InputContract,
        answers: pd.DataFrame,
        *,
        task: str,
        reference_size: int,
        seed: int = 0,
    ) -> TrafficReference:
        """Profile the training table ``X`` (not for image-like inputs) and ``answers``, the
        :func:`answers_frame` of the guard's verdicts on the calibration split."""
        inputs = None
        if contract.layout != "image":
            frame = _as_frame(X, contract)
            inputs = ReferenceProfile.fit(
                frame,
                categorical=[f.name for f in contract.fields if f.kind in _CATEGORICAL],
                numeric=[f.name for f in contract.fields if f.kind not in _CATEGORICAL],
                max_values=reference_size,
                seed=seed,
            )
        outputs = None
        # a column the verdicts never fill (confidence with the reliability safeguard off)
        answers = answers[[c for c in answers.columns if bool(answers[c].notna().any())]]
        if len(answers) and len(answers.columns):
            outputs = ReferenceProfile.fit(
                answers,
                categorical=[PREDICTION] if task == "classification" else [],
                numeric=[c for c in answers.columns if c != PREDICTION or task != "classification"],
                max_values=reference_size,
                seed=seed,
            )
        return cls(inputs=inputs, outputs=outputs)


_CATEGORICAL = ("categorical", "boolean")


@dataclass(frozen=True)
class DriftCheck:
    """One comparison of a window of logged traffic with the artifact's reference.

    ``n_rows``: rows whose inputs were compared; ``n_refused``: rows refused by validation
    (``invalid-input``), kept out of the input statistics — their values broke the contract,
    one absurd value would otherwise move a field's distribution — and reported as a
    separate series (:attr:`refusal_rate`). ``inputs``/``outputs`` are None when the window
    had no row of that kind (no logged row; no answered row) or the artifact keeps no input
    reference (image-like inputs).
    """

    time: datetime
    since: datetime
    until: datetime
    n_records: int
    n_rows: int
    n_answered: int
    inputs: DriftReport | None
    outputs: DriftReport | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    n_refused: int = 0

    @property
    def refusal_rate(self) -> float | None:
        """Share of the window's rows refused by validation (None without rows)."""
        total = self.n_rows + self.n_refused
        return self.n_refused / total if total else None

    @property
    def alarm(self) -> bool:
        return any(r is not None and r.alarm for r in (self.inputs, self.outputs))

    @property
    def alarming(self) -> list[str]:
        """Alarming fields: input names, then ``prediction`` / ``confidence``."""
        out = [] if self.inputs is None else list(self.inputs.alarming)
        return out + ([] if self.outputs is None else list(self.outputs.alarming))

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "n_records": self.n_records,
            "n_rows": self.n_rows,
            "n_answered": self.n_answered,
            "n_refused": self.n_refused,
            "refusal_rate": self.refusal_rate,
            "alarm": self.alarm,
            "alarming": self.alarming,
            "inputs": None if self.inputs is None else self.inputs.to_dict(),
            "outputs": None if self.outputs is None else self.outputs.to_dict(),
            "notes": list(self.notes),
        }


def answers_frame(outputs: Iterable[Any], *, task: str) -> pd.DataFrame:
    """The model's side of verdicts (their JSON form, as the decision log keeps them): one row
    per verdict the model answered — ``prediction`` (the class by its text form, missing
    when the guard refused the row; the value for a regressor) and, for classifiers,
    ``confidence`` (calibrated maximum probability, kept for refused rows too). Verdicts the
    model never saw (invalid input, request-level problems) are left out."""
    preds: list[Any] = []
    confs: list[float] = []
    for out in outputs:
        if not isinstance(out, dict):
            continue
        conf = out.get("confidence")
        value = conf.get("max_probability") if isinstance(conf, dict) else None
        pred = out.get("prediction")
        if pred is None and value is None:
            continue
        preds.append(pred)
        confs.append(float(value) if isinstance(value, int | float) else math.nan)
    if task == "classification":
        col: Any = pd.Series([category_key(p) for p in preds], dtype=object)
        return pd.DataFrame({PREDICTION: col.to_numpy(), CONFIDENCE: np.asarray(confs)})
    values = pd.to_numeric(pd.Series(preds, dtype=object), errors="coerce")
    return pd.DataFrame({PREDICTION: values.to_numpy(dtype=np.float64, na_value=np.nan)})


def logged_outputs(records: Sequence[DecisionRecord], *, task: str) -> pd.DataFrame:
    """:func:`answers_frame` of the row-level records' logged verdicts."""
    return answers_frame((r.output for r in records if r.row_index is not None), task=task)


def check_traffic(
    reference: TrafficReference,
    records: Sequence[DecisionRecord],
    contract: InputContract,
    *,
    task: str,
    since: datetime,
    until: datetime | None = None,
    config: DriftConfig | None = None,
) -> DriftCheck:
    """Compare the logged ``records`` of ``[since, until)`` with ``reference``."""
    return check_traffic_batches(
        reference, [records], contract, task=task, since=since, until=until, config=config
    )


def check_traffic_batches(
    reference: TrafficReference,
    batches: Iterable[Sequence[DecisionRecord]],
    contract: InputContract,
    *,
    task: str,
    since: datetime,
    until: datetime | None = None,
    config: DriftConfig | None = None,
) -> DriftCheck:
    """:func:`check_traffic` over the log read batch by batch (``Store.iter_decisions``):
    each batch is turned into typed columns at once, so a large window never holds all its
    records in memory. Records at or after ``until`` are left out."""
    cfg = config or DriftConfig()
    end = until or datetime.now(UTC)
    input_parts: list[pd.DataFrame] = []
    output_parts: list[pd.DataFrame] = []
    n_records = n_rows = n_refused = 0
    for batch in batches:
        kept = [r for r in batch if until is None or _aware(r.time) < until]
        n_records += len(kept)
        n_refused += sum(r.row_index is not None and refused_by_validation(r) for r in kept)
        frame, rows = inputs_frame(kept, contract)  # refused rows left out
        if rows:
            input_parts.append(frame)
            n_rows += len(rows)
        answers = logged_outputs(kept, task=task)
        if len(answers):
            output_parts.append(answers)
    notes: list[str] = []
    inputs: DriftReport | None = None
    if reference.inputs is None:
        notes.append("the artifact keeps no input reference (image-like inputs)")
    elif not input_parts:
        notes.append(
            f"every row of the window ({n_refused}) was refused by validation"
            if n_refused
            else "no row was logged in the window"
        )
    else:
        window = pd.concat(input_parts, ignore_index=True)
        inputs = _compare(reference.inputs, window, cfg, notes, "inputs")
    n_answered = sum(len(o) for o in output_parts)
    outputs: DriftReport | None = None
    if reference.outputs is None:
        notes.append("no output reference: predictions not compared")
    elif not output_parts:
        notes.append("no answered row in the window: predictions not compared")
    else:
        answered = pd.concat(output_parts, ignore_index=True)
        outputs = _compare(reference.outputs, answered, cfg, notes, "outputs")
    return DriftCheck(
        time=datetime.now(UTC),
        since=since,
        until=end,
        n_records=n_records,
        n_rows=n_rows,
        n_answered=n_answered,
        inputs=inputs,
        outputs=outputs,
        notes=tuple(notes),
        n_refused=n_refused,
    )


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _compare(
    profile: ReferenceProfile,
    frame: pd.DataFrame,
    cfg: DriftConfig,
    notes: list[str],
    what: str,
) -> DriftReport | None:
    """Compare, leaving out fields the window has no value for (named in ``notes``)."""
    usable = []
    for ref in profile.fields:
        col = frame.get(ref.name)
        empty = col is None or (
            ref.kind == "numeric" and bool(pd.to_numeric(col, errors="coerce").isna().all())
        )
        if empty:
            notes.append(f"{what}: no value of {ref.name!r} in the window")
            continue
        usable.append(ref)
    if not usable:
        return None
    sub = profile
    if len(usable) < len(profile.fields):
        sub = ReferenceProfile(tuple(usable), profile.n_rows, _indexes=profile._indexes)
    try:
        return compare(sub, frame[[f.name for f in usable]], cfg)
    except DataError as exc:
        notes.append(f"{what}: {exc}")
        return None


def _as_frame(X: Any, contract: InputContract) -> pd.DataFrame:
    names = [f.name for f in contract.fields]
    if isinstance(X, pd.DataFrame):
        return X[names] if names else X
    arr = np.asarray(X)
    return pd.DataFrame(arr.reshape(len(arr), -1), columns=names or None)
