"""The guard policy: per safeguard ``block`` / ``warn`` / ``off``, targets and status codes.

The same object is built from Python, a YAML file or a TOML file. Defaults follow DESIGN.md:
every safeguard blocks, with a 1% false-alarm target, and the default status-code table.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlrails.errors import PolicyError
from mlrails.protocol.status import StatusTable

Mode = Literal["block", "warn", "off"]
AdversarialDetectorName = Literal[
    "label_instability", "neighbour_disagreement", "feature_squeezing"
]

DEFAULT_ADVERSARIAL: tuple[AdversarialDetectorName, ...] = (
    "label_instability",
    "neighbour_disagreement",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidationPolicy(_Strict):
    """Input validation against the contract (blocks with 400)."""

    mode: Mode = "block"
    tolerance: float = Field(
        3.0,
        ge=0.0,
        description="margin accepted beyond the training min/max, in units of the training "
        "spread max(std, range/6) (a non-negative feature never accepts negatives)",
    )
    constant_features: Literal["open", "strict"] = Field(
        "open",
        description="a feature constant in training: open (no range beyond its sign) or "
        "strict (only the training value is accepted)",
    )
    allow_extra_columns: bool = False


class OODPolicy(_Strict):
    """Out-of-distribution detection (blocks with 422)."""

    mode: Mode = "block"
    target_fpr: float = Field(0.01, gt=0.0, lt=0.5)
    detector: Literal["ensemble", "knn", "mahalanobis", "iforest"] = "ensemble"


class AdversarialPolicy(_Strict):
    """Adversarial-input detection (blocks with 403)."""

    mode: Mode = "block"
    target_fpr: float = Field(0.01, gt=0.0, lt=0.5)
    detectors: list[AdversarialDetectorName] = Field(
        default_factory=lambda: list(DEFAULT_ADVERSARIAL)
    )
    n_copies: int = Field(8, ge=1, le=256)
    noise_scale: float = Field(0.05, gt=0.0)


class ReliabilityPolicy(_Strict):
    """Calibrated confidence and conformal sets; low confidence answers 203."""

    mode: Mode = "block"
    target_fpr: float = Field(
        0.01, gt=0.0, lt=0.5, description="share of correct predictions flagged low-confidence"
    )
    calibration: Literal["temperature", "isotonic", "none"] = "temperature"
    coverage: float = Field(0.9, gt=0.0, lt=1.0)
    min_confidence: float | Literal["auto"] = "auto"


class ExplanationPolicy(_Strict):
    """When to attach SHAP explanations: never (only on request), for non-200, or always."""

    when: Literal["never", "non200", "always"] = "never"
    top_k: int = Field(5, ge=1)
    background_size: int = Field(50, ge=1, le=1000)


class DriftPolicy(_Strict):
    """What the artifact keeps for drift monitoring: the training inputs and the calibration
    outputs as reference distributions (a seeded subsample of at most ``reference_size``
    values per field; the KS test is exact with respect to that sample)."""

    reference: bool = True
    reference_size: int = Field(20_000, ge=100, le=10_000_000)


class BudgetPolicy(_Strict):
    """Error budgets the user sets and ``fit`` certifies on calibration data.

    ``false_alarm_rate``: the share of in-distribution rows the distribution safeguards (OOD
    and adversarial) may flag *together*; their thresholds are calibrated jointly to it.
    ``None`` falls back to each safeguard's own ``target_fpr`` (which add up).
    ``silent_failure_rate`` (alpha) with ``confidence`` (1 - delta): among rows answered 200,
    the share of wrong predictions is at most alpha with probability at least 1 - delta over
    the calibration draw (exchangeable data); rows outside the certified region answer 203.
    """

    false_alarm_rate: float | None = Field(
        0.01,
        gt=0.0,
        lt=0.5,
        description="share of in-distribution rows that OOD and adversarial detection "
        "together may flag (None: each safeguard's own target_fpr)",
    )
    silent_failure_rate: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="at most this share of wrong predictions among 200 answers (None: not "
        "certified; fit still reports the trade-off)",
    )
    ood_share: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="the OOD detector's share of the false-alarm budget, the adversarial "
        "detectors splitting the rest (None: every detector an equal share)",
    )
    confidence: float = Field(
        0.9,
        ge=0.5,
        lt=1.0,
        description="probability (over the calibration draw) that the silent-failure rate holds",
    )
    tolerance: float | None = Field(
        None,
        gt=0.0,
        description="regression: an absolute error above this is a wrong answer "
        "(default: half the standard deviation of y_train)",
    )
    action: Literal["low_confidence", "withhold"] = Field(
        "low_confidence",
        description="rows outside the certified region: low_confidence answers 203 with the "
        "prediction marked not authoritative; withhold answers 203 without it",
    )


class CrossFitPolicy(_Strict):
    """Where calibration rows come from when no calibration data is given.

    ``auto``: cross-fitting (every training row calibrates on out-of-fold scores and, for a
    model that can be refitted, out-of-fold model outputs) below ``holdout_min_rows`` training
    rows, a plain holdout of ``calibration_fraction`` (one refit) at or above it.
    ``training``: the seeded share of training rows, as seen by the model (optimistic).

    ``folds`` ``auto``: 20 below 500 training rows, 10 below 5,000, else 5. A refit on
    (K-1)/K of the rows is less sensitive than the served model trained on all of them (on
    150 rows with 5 folds, no out-of-fold row flipped under the adversarial noise where 2.7%
    of new rows did); more folds close that gap where the data is small and refits are cheap.
    """

    method: Literal["auto", "crossfit", "holdout", "training"] = "auto"
    folds: int | Literal["auto"] = Field("auto")
    holdout_min_rows: int = Field(20_000, ge=100)
    refit_model: bool = Field(
        True,
        description="refit a clonable model (scikit-learn estimator or pipeline) per fold, "
        "so model-based safeguards calibrate on predictions the model did not train on",
    )

    @field_validator("folds")
    @classmethod
    def _folds_in_range(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 2 <= v <= 50:
            raise ValueError(f"folds must be 'auto' or between 2 and 50, got {v}")
        return v

    def fold_count(self, n_rows: int) -> int:
        """The number of folds for ``n_rows`` training rows (never more than rows)."""
        if self.folds == "auto":
            k = 20 if n_rows < 500 else 10 if n_rows < 5000 else 5
        else:
            k = int(self.folds)
        return max(2, min(k, n_rows))


class BatchShiftPolicy(_Strict):
    """Batch-level shift test in the request path.

    A batch of at least ``min_rows`` valid rows is tested against the artifact's reference
    (per-field tests with false-discovery control and an effect gate, a classifier two-sample
    test). Only a shift that matters to the model counts: ``block`` answers its rows 203,
    ``warn`` reports the finding in every verdict and keeps the status, ``off`` skips it.
    """

    mode: Mode = "block"
    min_rows: int = Field(100, ge=20)
    alpha: float = Field(
        0.01, gt=0.0, lt=0.5, description="false-downgrade rate of an in-distribution batch"
    )
    fdr: float = Field(0.05, gt=0.0, lt=0.5, description="false-discovery rate of field tests")
    effect: float = Field(
        0.1, ge=0.0, le=1.0, description="smallest effect size that counts (KS distance)"
    )
    classifier: bool = Field(True, description="also run a classifier two-sample test")


class Policy(_Strict):
    """Everything that decides how inputs are judged (see module docstring)."""

    validation: ValidationPolicy = Field(default_factory=ValidationPolicy)
    ood: OODPolicy = Field(default_factory=OODPolicy)
    adversarial: AdversarialPolicy = Field(default_factory=AdversarialPolicy)
    reliability: ReliabilityPolicy = Field(default_factory=ReliabilityPolicy)
    explanation: ExplanationPolicy = Field(default_factory=ExplanationPolicy)
    drift: DriftPolicy = Field(default_factory=DriftPolicy)
    budget: BudgetPolicy = Field(default_factory=BudgetPolicy)
    cross_fit: CrossFitPolicy = Field(default_factory=CrossFitPolicy)
    batch_shift: BatchShiftPolicy = Field(default_factory=BatchShiftPolicy)
    status_codes: StatusTable = Field(default_factory=StatusTable)
    calibration_fraction: float = Field(0.2, gt=0.0, lt=0.9)
    seed: int = 0

    @classmethod
    def coerce(cls, policy: Policy | dict[str, Any] | str | Path | None) -> Policy:
        """Accept a Policy, a dict, a path to a YAML/TOML file, or None (defaults)."""
        if policy is None:
            return cls()
        if isinstance(policy, Policy):
            return policy
        if isinstance(policy, (str, Path)):
            return load_policy(policy)
        try:
            return cls.model_validate(policy)
        except ValidationError as exc:
            raise PolicyError(f"invalid policy: {_first_error(exc)}") from None


def load_policy(path: str | Path) -> Policy:
    """Read a policy from ``.yaml``/``.yml`` or ``.toml``; one-line :class:`PolicyError` if bad."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{p}: cannot read policy file ({exc.strerror or exc})") from None
    try:
        if p.suffix.lower() == ".toml":
            data: Any = tomllib.loads(text)
        elif p.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise PolicyError(f"{p}: policy files must end in .yaml, .yml or .toml")
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise PolicyError(f"{p}: not valid {p.suffix.lstrip('.').upper()} ({reason})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(f"{p}: a policy must be a mapping of sections, got {type(data).__name__}")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{p}: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    errs = exc.errors()
    parts = []
    for e in errs[:3]:
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        parts.append(f"{loc}: {e['msg']}")
    more = f" (and {len(errs) - 3} more)" if len(errs) > 3 else ""
    return "; ".join(parts) + more


POLICY_TEMPLATE = """\
# mlrails guard policy. Every safeguard: mode block | warn | off.
# block: the safeguard's own status code (validation 400, ood 422, adversarial 403,
#        reliability 203); warn: answer 203 with the prediction; off: not computed.
validation:
  mode: block
  tolerance: 3.0            # margin beyond the training min/max: 3 x max(std, range/6)
  constant_features: open   # open | strict: may a feature constant in training vary?
  allow_extra_columns: false
ood:
  mode: block
  target_fpr: 0.01          # false-alarm rate on in-distribution inputs, set on held-out data
  detector: ensemble        # ensemble | knn | mahalanobis | iforest
adversarial:
  mode: block
  target_fpr: 0.01
  detectors: [label_instability, neighbour_disagreement]   # + feature_squeezing for images
  n_copies: 8
  noise_scale: 0.05
reliability:
  mode: block
  target_fpr: 0.01          # share of correct predictions answered 203
  calibration: temperature  # temperature | isotonic | none
  coverage: 0.9             # conformal prediction sets / intervals
  min_confidence: auto      # or a probability, e.g. 0.7
explanation:
  when: never               # never (only on request) | non200 | always
  top_k: 5
budget:
  false_alarm_rate: 0.01    # OOD + adversarial together flag at most 1% of normal rows
  ood_share: null           # equal shares; e.g. 0.5: OOD half, adversarial the rest
  silent_failure_rate: null # e.g. 0.02: at most 2% wrong answers among 200s (certified)
  confidence: 0.9           # ... with probability 90% over the calibration draw
  tolerance: null           # regression: |error| above this is wrong (default 0.5 sd of y)
  action: low_confidence    # low_confidence (203 with prediction) | withhold (203 without)
cross_fit:                  # when no calibration data is given
  method: auto              # auto | crossfit | holdout | training
  folds: auto               # auto: 20 below 500 rows, 10 below 5000, else 5 (or 2..50)
  holdout_min_rows: 20000   # auto: a plain holdout from this many training rows on
  refit_model: true         # refit scikit-learn models per fold for unseen predictions
batch_shift:
  mode: block               # a batch that shifted in what the model uses answers 203
  min_rows: 100
  alpha: 0.01               # false-downgrade rate of a normal batch
  fdr: 0.05
  effect: 0.1
  classifier: true
status_codes: {}            # override any code, e.g. {out_of_distribution: 409}
calibration_fraction: 0.2   # share of training data held out when no calibration split is given
seed: 0
"""
