"""The fitted rails around one model: check inputs, answer with verdicts.

:class:`Rails` holds the fitted safeguards (contract, OOD detector, adversarial detectors,
calibrator, conformal predictor, low-confidence threshold, explanation background) and runs
them in DESIGN.md's order on a whole batch at once, then composes one :class:`Verdict` per row.
``check`` never raises for bad rows: they get 400 verdicts; a model that raises gets 500.
A :class:`~mlrails.errors.ModelUnavailable` (an upstream model that cannot answer) is no
fault of the rows: it propagates out of ``check`` for the caller to fail the whole call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.contract import InputContract, ValidationResult, Violation, validate
from mlrails.contract.validate import EMPTY_BATCH, contract_columns, validate_fast
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.threshold import Threshold
from mlrails.drift.batch import BatchShiftFinding, BatchShiftTest
from mlrails.errors import ModelUnavailable
from mlrails.explain.contributions import FeatureContribution
from mlrails.guard.certify import error_features
from mlrails.guard.policy import Policy
from mlrails.guard.summary import CalibrationSummary, FitSummary, SafeguardSummary
from mlrails.guard.verdict import (
    Confidence,
    OODAttribution,
    SafeguardResult,
    Verdict,
)
from mlrails.guard.words import describe_warning, distinct, summarise
from mlrails.models.base import ModelAdapter
from mlrails.protocol import problem as problems
from mlrails.protocol.status import Outcome
from mlrails.reliability import confidence_metrics
from mlrails.reliability.error_score import ErrorScorer
from mlrails.reliability.risk import RiskCertificate

if TYPE_CHECKING:
    from mlrails.drift.monitor import TrafficReference

#: batches up to this size feed the model the rows and label instability's noisy copies in one
#: call (per-call overhead dominates there); larger batches make two calls
COMBINED_CALL_MAX_ROWS = 256


__all__ = ["CalibrationSummary", "FitSummary", "Rails", "SafeguardSummary"]


class Rails:
    """A model on rails. Build with :func:`mlrails.fit`, reload with :func:`mlrails.load`."""

    def __init__(
        self,
        *,
        adapter: ModelAdapter,
        contract: InputContract,
        policy: Policy,
        ood: BaseDetector | None,
        adversarial: list[BaseDetector],
        calibrator: Any,
        conformal: Any,
        min_confidence: Threshold | None,
        background: Any,
        summary: FitSummary,
        artifact_hash: str = "",
        manifest: dict[str, Any] | None = None,
        reference: TrafficReference | None = None,
        error_scorer: ErrorScorer | None = None,
        certificate: RiskCertificate | None = None,
        error_inputs: list[str] | None = None,
        batch_shift: BatchShiftTest | None = None,
    ) -> None:
        self.adapter = adapter
        self.contract = contract
        self.policy = policy
        self.ood = ood
        self.adversarial = adversarial
        self.calibrator = calibrator
        self.conformal = conformal
        self.min_confidence = min_confidence
        self.background = background
        self.summary = summary
        self.artifact_hash = artifact_hash
        self.manifest = manifest or {}
        #: training inputs and calibration outputs kept for drift monitoring (None for
        #: artifacts written before it existed or with ``policy.drift.reference`` off)
        self.reference = reference
        #: the error score (higher = more likely wrong) and, when a silent-failure rate is
        #: set, its certified threshold; ``error_inputs``: the safeguard scores it reads
        self.error_scorer = error_scorer
        self.certificate = certificate
        self.error_inputs = list(error_inputs or [])
        #: the batch-level shift test (None: off, or artifacts written before it existed)
        self.batch_shift = batch_shift
        self._explainer: Any = None

    @property
    def task(self) -> str:
        return self.adapter.task

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | Path) -> str:
        """Write the artifact directory (JSON + npz, hashed); returns the artifact hash."""
        from mlrails.artifact.io import save_artifact

        self.artifact_hash = save_artifact(self, Path(path))
        return self.artifact_hash

    # -- checking ------------------------------------------------------------------------
    def check(self, X: Any, *, explain: bool | None = None) -> list[Verdict]:
        """One verdict per row of ``X`` (DataFrame, array, records or a single record).

        ``explain``: True attaches SHAP explanations to every row that has a prediction,
        False to none; None follows the policy (``explanation.when``).
        """
        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        pol = self.policy

        t0 = time.perf_counter()
        res = validate_fast(self.contract, X)
        if res is None:
            res = validate(self.contract, X)
        timings["validation"] = time.perf_counter() - t0
        if res.n_rows == 0:
            return [self._batch_error_verdict(res)]
        n = res.n_rows
        row_errs = [res.row_errors(i) for i in range(n)]
        valid = res.valid
        if pol.validation.mode == "block" or res.data is None:
            run = valid
        else:
            run = np.ones(n, dtype=bool) if res.data is not None else valid
        idx = np.flatnonzero(run)
        ev = _Evaluation(n)
        if idx.size:
            Xr = _take(res.data, idx)
            Mr = res.matrix if idx.size == n else None  # the matrix is for the whole batch
            self._evaluate(Xr, Mr, idx, ev, timings)
        verdicts = self._compose(n, row_errs, ev, timings)
        want = self._explain_rows(verdicts, explain)
        if want.size:
            self._attach_explanations(res.data, want, verdicts, ev)
        self._attach_ood_contributions(res.data, verdicts)
        per_row = (time.perf_counter() - t_start) * 1000.0 / n
        for v in verdicts:
            v.latency_ms = per_row
        return verdicts

    def check_one(self, x: Any, *, explain: bool | None = None) -> Verdict:
        """Check a single row (a record dict, 1-D array or one-row table)."""
        return self.check(x, explain=explain)[0]

    # -- internals -----------------------------------------------------------------------
    def _evaluate(
        self,
        Xr: Any,
        Mr: NDArray[np.float64] | None,
        idx: NDArray[np.intp],
        ev: _Evaluation,
        timings: dict[str, float],
    ) -> None:
        """Run the model and every safeguard on the rows ``Xr`` (``idx`` in the batch).

        ``Mr``: the same rows as a float matrix in the contract's column order, when
        validation produced one; detectors that would only convert ``Xr`` to those numbers
        again are given ``Mr`` instead (same scores, a fraction of the per-call cost).
        """
        t0 = time.perf_counter()
        noisy_proba = None
        combined = self._call_with_noisy_copies(Xr, Mr)
        if combined is not None:
            out, noisy_proba = combined
            ok_local = np.ones(len(out), dtype=bool)
            err: dict[int, str] = {}
        else:
            ok_local, out, err = _call_model(self.adapter, Xr)
        timings["model"] = time.perf_counter() - t0
        for j, e in err.items():
            ev.model_error[idx[j]] = e
        if not ok_local.any():
            return
        good = idx[ok_local]
        all_ok = bool(ok_local.all())
        Xg = Xr if all_ok else _take(Xr, np.flatnonzero(ok_local))
        Mg = Mr if all_ok else None  # a subset's table may be laid out differently
        out = out[ok_local]
        ev.answered[good] = True
        pol = self.policy
        if self.task == "classification":
            P_raw = out
            t0 = time.perf_counter()
            P = self.calibrator.transform(P_raw) if self.calibrator is not None else P_raw
            if ev.proba.shape[1] != P.shape[1]:
                ev.proba = np.full((ev.n, P.shape[1]), np.nan)
            ev.proba[good] = P
            timings["calibration"] = time.perf_counter() - t0
        else:
            P_raw = None
            ev.values[good] = out
        # out-of-distribution
        if self.ood is not None and pol.ood.mode != "off":
            Xd = self._detector_input(self.ood, Xg, Mg)
            self._run_detector("ood", self.ood, Xd, good, ev, timings, {})
        # adversarial
        if pol.adversarial.mode != "off":
            for det in self.adversarial:
                kwargs: dict[str, Any] = {}
                if det.name == "label_instability" and P_raw is not None:
                    kwargs["proba"] = P_raw
                    if noisy_proba is not None:
                        kwargs["noisy_proba"] = noisy_proba
                if det.name == "neighbour_disagreement" and P_raw is not None:
                    kwargs["predicted"] = np.asarray(self.adapter.classes_)[P_raw.argmax(axis=1)]
                Xd = self._detector_input(det, Xg, Mg)
                self._run_detector(f"adversarial:{det.name}", det, Xd, good, ev, timings, kwargs)
        # reliability
        if pol.reliability.mode != "off":
            t0 = time.perf_counter()
            if self.task == "classification":
                P = ev.proba[good]
                ev.conf[good] = np.column_stack(_conf_columns(P))
                if self.conformal is not None:
                    if ev.sets is None:
                        ev.sets = np.zeros((ev.n, P.shape[1]), dtype=bool)
                    ev.sets[good] = self.conformal.predict_sets(P)
            elif self.conformal is not None:
                lo, hi = self.conformal.predict_intervals(out, self._difficulty_input(Xg, Mg))
                ev.interval[good] = np.column_stack([lo, hi])
            timings["reliability"] = time.perf_counter() - t0
        if self.batch_shift is not None and pol.batch_shift.mode != "off":
            t0 = time.perf_counter()
            served = ev.proba[good] if self.task == "classification" else ev.values[good]
            try:
                ev.batch = self.batch_shift.test(Xg, served)
            except ModelUnavailable:
                raise
            except Exception as exc:  # evidence about the batch, never a reason to fail rows
                ev.batch_error = type(exc).__name__
            timings["batch_shift"] = time.perf_counter() - t0
        if self.certificate is not None and self.error_scorer is not None:
            t0 = time.perf_counter()
            ev.error[good] = self._error_scores(out, Xg, Mg, good, ev)
            timings["error_budget"] = time.perf_counter() - t0

    def _error_scores(
        self,
        out: NDArray[np.float64],
        Xg: Any,
        Mg: NDArray[np.float64] | None,
        good: NDArray[np.intp],
        ev: _Evaluation,
    ) -> NDArray[np.float64]:
        """The error score of the answered rows, from the same inputs it was fitted on."""
        assert self.error_scorer is not None
        D = (
            np.column_stack(
                [
                    ev.scores[k][good] if k in ev.scores else np.full(good.size, np.nan)
                    for k in self.error_inputs
                ]
            )
            if self.error_inputs
            else np.zeros((good.size, 0))
        )
        sigma = None
        if self.task != "classification" and self.conformal is not None:
            sigma = self.conformal.sigma(self._difficulty_input(Xg, Mg), good.size)
        feats = error_features(out, D, self.task, difficulty=sigma)
        return np.asarray(self.error_scorer.score(feats), dtype=np.float64)

    def _detector_input(self, det: BaseDetector, Xg: Any, Mg: NDArray[np.float64] | None) -> Any:
        """``Mg`` when ``det`` scores it exactly as the rows ``Xg``, else ``Xg``."""
        if Mg is None or not det.encoded_input_only:
            return Xg
        enc = getattr(det, "encoder_", None)
        if enc is None or not enc.encodes_matrix_like_table(contract_columns(self.contract)):
            return Xg
        return Mg

    def _difficulty_input(self, Xg: Any, Mg: NDArray[np.float64] | None) -> Any:
        """The rows for the regression difficulty model: ``Mg`` when it encodes the same."""
        diff = getattr(self.conformal, "difficulty_", None)
        if Mg is None or diff is None:
            return Xg
        if diff.encoder_.encodes_matrix_like_table(contract_columns(self.contract)):
            return Mg
        return Xg

    def _call_with_noisy_copies(
        self, Xr: Any, Mr: NDArray[np.float64] | None = None
    ) -> tuple[Any, Any] | None:
        """One model call on the rows *and* label instability's noisy copies of them.

        Per-call overhead dominates small batches (a scikit-learn pipeline spends most of a
        single-row call validating its input), so the guard feeds the model once. Returns
        ``None`` — and the caller falls back to separate calls — when label instability is
        off, or the model raises (a :class:`ModelUnavailable` propagates instead) or returns
        anything but finite probabilities. ``Mr`` (the rows as a float matrix, if known) is
        perturbed instead of the table when that gives the same numbers; the copies then
        become a table exactly as the detector builds one.
        """
        if (
            self.task != "classification"
            or self.policy.adversarial.mode == "off"
            or len(Xr) > COMBINED_CALL_MAX_ROWS
        ):
            return None
        det = next((d for d in self.adversarial if d.name == "label_instability"), None)
        if det is None or not hasattr(det, "perturbed_copies"):
            return None
        n = len(Xr)
        try:
            like_table = getattr(det, "perturbs_matrix_like_table", None)
            if (
                Mr is not None
                and isinstance(Xr, pd.DataFrame)
                and like_table is not None
                and like_table(contract_columns(self.contract))
            ):
                noisy = pd.DataFrame(det.perturbed_copies(Mr), columns=Xr.columns)
            else:
                noisy = det.perturbed_copies(Xr)
            if isinstance(Xr, pd.DataFrame):
                both: Any = pd.concat([Xr, noisy], ignore_index=True)
            else:
                both = np.concatenate([np.asarray(Xr), np.asarray(noisy)])
            out = np.asarray(self.adapter.predict_proba(both), dtype=np.float64)
        except ModelUnavailable:
            raise
        except Exception:
            return None
        if out.ndim != 2 or out.shape[0] != len(both) or not np.isfinite(out).all():
            return None
        return out[:n], out[n:]

    def _run_detector(
        self,
        name: str,
        det: BaseDetector,
        Xg: Any,
        good: NDArray[np.intp],
        ev: _Evaluation,
        timings: dict[str, float],
        kwargs: dict[str, Any],
    ) -> None:
        t0 = time.perf_counter()
        try:
            scores = det.score_samples(Xg, **kwargs)
        except ModelUnavailable:
            raise
        except Exception as exc:  # a failing safeguard must not pass silently
            for i in good:
                ev.safeguard_error[i] = f"safeguard {name} failed: {type(exc).__name__}"
            return
        finally:
            timings[name] = time.perf_counter() - t0
        ev.scores.setdefault(name, np.full(ev.n, np.nan))[good] = scores
        ev.thresholds[name] = det.threshold_.value

    def _compose(
        self, n: int, row_errs: list[list[Violation]], ev: _Evaluation, timings: dict[str, float]
    ) -> list[Verdict]:
        """Turn the batch arrays into one verdict per row (arrays → Python lists up front)."""
        pol = self.policy
        codes = pol.status_codes
        classes = None if self.adapter.classes_ is None else np.asarray(self.adapter.classes_)
        class_list = None if classes is None else classes.tolist()
        class_names = None if classes is None else [str(c) for c in class_list or []]
        per = {k: v * 1000.0 / n for k, v in timings.items()}
        min_conf = self._min_confidence_value()
        coverage = None if self.conformal is None else float(self.conformal.coverage)
        max_width = self._max_interval_width()
        answered = ev.answered.tolist()
        detectors = []
        with np.errstate(invalid="ignore"):  # NaN scores (rows not scored) never alarm
            hit_lists = {
                name: (arr > ev.thresholds[name]).tolist() for name, arr in ev.scores.items()
            }
        for name, arr in ev.scores.items():
            fam_pol = pol.ood if name == "ood" else pol.adversarial
            thr = ev.thresholds[name]
            kind = problems.OUT_OF_DISTRIBUTION if name == "ood" else problems.ADVERSARIAL
            hits = hit_lists[name]
            detectors.append(
                (
                    name,
                    fam_pol.mode,
                    self._alarm_budget_text(fam_pol.target_fpr),
                    thr,
                    kind,
                    arr.tolist(),
                    hits,
                    per.get(name, 0.0),
                )
            )
        is_clf = self.task == "classification"
        if is_clf and ev.proba.shape[1]:
            top = np.argmax(np.nan_to_num(ev.proba, nan=-1.0), axis=1).tolist()
            proba_rows = ev.proba.tolist()
            conf_rows = ev.conf.tolist()
            sets = None if ev.sets is None or classes is None else ev.sets.tolist()
        values = ev.values.tolist()
        intervals = ev.interval.tolist()
        t_val, t_rel = per.get("validation", 0.0), per.get("reliability", 0.0)
        t_err = per.get("error_budget", 0.0)
        budget = pol.budget
        cert_thr = None if self.certificate is None else self.certificate.threshold
        error_rows = ev.error.tolist()
        batch = ev.batch
        batch_details: dict[str, Any] = {} if batch is None else batch.to_dict()
        t_batch = per.get("batch_shift", 0.0)
        verdicts: list[Verdict] = []
        for i in range(n):
            errs = row_errs[i]
            sg = [
                SafeguardResult(
                    "validation", pol.validation.mode, bool(errs), float(len(errs)), 0.0, t_val
                )
            ]
            v = Verdict(
                status=codes.ok,
                outcome=Outcome.OK,
                artifact_hash=self.artifact_hash,
                row=i,
                errors=list(errs),
                safeguards=sg,
            )
            verdicts.append(v)
            if errs and (pol.validation.mode == "block" or not answered[i]):
                detail = f"{len(errs)} contract violation(s): " + summarise(errs)
                self._set_problem(v, problems.INVALID_INPUT, detail)
                continue
            if i in ev.model_error or i in ev.safeguard_error:
                msg = ev.model_error.get(i) or ev.safeguard_error[i]
                self._set_problem(v, problems.MODEL_ERROR, msg)
                continue
            warned: list[str] = ["validation"] if errs else []
            blocked: tuple[problems.ProblemType, str] | None = None
            for name, mode, target, thr, kind, scores, hits, lat in detectors:
                hit = hits[i]
                sg.append(SafeguardResult(name, mode, hit, scores[i], thr, lat))
                if hit and mode == "block" and blocked is None:
                    blocked = (
                        kind,
                        f"{name} score {distinct(scores[i], thr)} is above its threshold "
                        f"{distinct(thr, scores[i])} ({target})",
                    )
                elif hit:
                    warned.append(name)
            if is_clf:
                k = top[i]
                v.prediction = class_list[k] if class_list is not None else k
                if class_names is not None:
                    v.probabilities = dict(zip(class_names, proba_rows[i], strict=True))
                mp, mg, en = conf_rows[i]
                if mp == mp:  # not NaN: reliability ran
                    v.confidence = Confidence(mp, mg, en)
                    low = min_conf is not None and mp < min_conf
                    sg.append(
                        SafeguardResult(
                            "reliability", pol.reliability.mode, low, mp, min_conf, t_rel
                        )
                    )
                    if low:
                        warned.append("reliability")
                    if sets is not None and class_list is not None:
                        v.prediction_set = [
                            c for c, b in zip(class_list, sets[i], strict=True) if b
                        ]
                        empty = not v.prediction_set
                        sg.append(
                            SafeguardResult(
                                "conformal_set",
                                pol.reliability.mode,
                                empty,
                                latency_ms=t_rel,
                                details={"set_size": len(v.prediction_set), "coverage": coverage},
                            )
                        )
                        if empty:  # no label is plausible at the stated coverage
                            warned.append("conformal_set")
            else:
                v.prediction = values[i]
                lo, hi = intervals[i]
                if lo == lo:
                    v.interval = (lo, hi)
                    if max_width is not None:
                        wide = hi - lo > max_width
                        sg.append(
                            SafeguardResult(
                                "interval_width",
                                pol.reliability.mode,
                                wide,
                                hi - lo,
                                max_width,
                                t_rel,
                            )
                        )
                        if wide:
                            warned.append("interval_width")
            if batch is not None and answered[i]:
                sg.append(
                    SafeguardResult(
                        "batch_shift",
                        pol.batch_shift.mode,
                        batch.shifted,
                        None,
                        pol.batch_shift.alpha,
                        t_batch,
                        details=batch_details,
                    )
                )
                if batch.shifted and pol.batch_shift.mode == "block":
                    warned.append("batch_shift")
            withhold = False
            if cert_thr is not None and error_rows[i] == error_rows[i]:
                e = error_rows[i]
                uncertified = e > cert_thr
                sg.append(
                    SafeguardResult("error_budget", budget.action, uncertified, e, cert_thr, t_err)
                )
                if uncertified:
                    warned.append("error_budget")
                    withhold = budget.action == "withhold"
            if blocked is not None:
                self._set_problem(v, blocked[0], blocked[1])
                v.prediction = None
                v.probabilities = None
            elif warned:
                self._set_problem(
                    v,
                    problems.LOW_CONFIDENCE,
                    "not authoritative: "
                    + ", ".join(
                        self._certificate_text(v)
                        if w == "error_budget"
                        else f"the batch shifted ({batch.reason})"
                        if w == "batch_shift" and batch is not None
                        else describe_warning(w, v, min_conf, coverage, max_width)
                        for w in warned
                    ),
                )
                if withhold:
                    v.prediction = None
                    v.probabilities = None
        return verdicts

    def _alarm_budget_text(self, target_fpr: float) -> str:
        """The false-alarm promise a distribution safeguard's refusal is made under."""
        budget = self.policy.budget.false_alarm_rate
        if budget is None:
            return f"false-alarm target {target_fpr:.2%}"
        return f"false-alarm budget {budget:.2%} shared by OOD and adversarial detection"

    def _certificate_text(self, v: Verdict) -> str:
        """Why a row falls outside the certified region, and the budget it protects."""
        cert = self.certificate
        sg = v.safeguard("error_budget")
        assert cert is not None and sg is not None and sg.score is not None
        region = (
            "no threshold could be certified"
            if not cert.certified
            else f"error score {distinct(sg.score, cert.threshold)} is above the certified "
            f"threshold {distinct(cert.threshold, sg.score)}"
        )
        return (
            f"outside the certified region ({region}; silent-failure budget: at most "
            f"{cert.alpha:.2%} wrong among 200 answers at {1 - cert.delta:.0%} confidence)"
        )

    def _set_problem(self, v: Verdict, kind: problems.ProblemType, detail: str) -> None:
        assert kind.outcome is not None, f"{kind.slug} is not one of the guard's problems"
        v.outcome = kind.outcome
        v.status = self.policy.status_codes.code(kind.outcome)
        v.problem = kind.uri
        v.title = kind.title
        v.detail = detail

    def _min_confidence_value(self) -> float | None:
        mc = self.policy.reliability.min_confidence
        if isinstance(mc, float | int) and not isinstance(mc, bool):
            return float(mc)
        return None if self.min_confidence is None else self.min_confidence.value

    def _max_interval_width(self) -> float | None:
        """The calibrated interval-width limit above which a regression answers 203."""
        if self.task == "classification" or self.conformal is None:
            return None
        t = getattr(self.conformal, "width_threshold_", None)
        return None if t is None else float(t.value)

    def _batch_error_verdict(self, res: ValidationResult) -> Verdict:
        errs = res.batch_errors or [Violation("*", EMPTY_BATCH, 0, "at least one row")]
        v = Verdict(status=0, outcome=Outcome.OK, artifact_hash=self.artifact_hash, errors=errs)
        self._set_problem(v, problems.INVALID_INPUT, summarise(errs))
        return v

    def _explain_rows(self, verdicts: list[Verdict], explain: bool | None) -> NDArray[np.intp]:
        when = self.policy.explanation.when
        if explain is False or (explain is None and when == "never"):
            return np.zeros(0, dtype=np.intp)
        rows = []
        for i, v in enumerate(verdicts):
            answerable = v.outcome not in (Outcome.INVALID_INPUT, Outcome.MODEL_ERROR)
            if not answerable:
                continue
            if explain or when == "always" or (when == "non200" and not v.ok):
                rows.append(i)
        return np.asarray(rows, dtype=np.intp)

    def explainer(self) -> Any:
        """The SHAP explainer of the served output (built once, from the stored background).

        It is given the calibrator, so explanations are of the calibrated output the verdicts
        serve wherever that is exact (see :mod:`mlrails.explain.shap_explainer`).
        """
        if self._explainer is None:
            from mlrails.explain import Explainer

            names = self.contract.columns or None
            self._explainer = Explainer.from_background(
                self.adapter, self.background, names, calibrator=self.calibrator
            )
        return self._explainer

    def prepare_explainer(self) -> None:
        """Build the explainer now (importing SHAP and building it take seconds), so that
        the first request asking for an explanation does not; the service calls this at
        start-up. A tree or linear explainer is also run on a few background rows then."""
        self.explainer()

    def _attach_explanations(
        self, data: Any, rows: NDArray[np.intp], verdicts: list[Verdict], ev: _Evaluation
    ) -> None:
        Xe = _take(data, rows)
        pred_idx = None
        if self.task == "classification":
            pred_idx = np.argmax(ev.proba[rows], axis=1)
        try:
            expl = self.explainer().explain(
                Xe, predicted_idx=pred_idx, top_k=self.policy.explanation.top_k
            )
        except ModelUnavailable:
            raise
        except Exception as exc:  # explanations are evidence, never a reason to fail a verdict
            for i in rows:
                verdicts[i].safeguards.append(
                    SafeguardResult(
                        "explanation", "on", True, details={"error": type(exc).__name__}
                    )
                )
            return
        for i, e in zip(rows, expl, strict=True):
            verdicts[i].explanation = e

    def _attach_ood_contributions(self, data: Any, verdicts: list[Verdict]) -> None:
        """Say which features made each row the OOD detector flagged unusual."""
        rows = [
            i
            for i, v in enumerate(verdicts)
            if (sg := v.safeguard("ood")) is not None and sg.triggered and v.row is not None
        ]
        if not rows or self.ood is None or data is None:
            return
        try:
            parts = self.ood.feature_contributions(_take(data, np.asarray(rows, dtype=np.intp)))
        except ModelUnavailable:
            raise
        except Exception:  # no decomposition (isolation forest) or a failure: evidence only
            return
        top_k = self.policy.explanation.top_k
        total = parts.total
        for r, i in enumerate(rows):
            phi = parts.values[r]
            order = np.argsort(-phi, kind="stable")
            keep = order if top_k is None else order[:top_k]
            verdicts[i].ood_contributions = OODAttribution(
                detector=self.ood.name,
                score=float(total[r]),
                offset=float(parts.offset[r]),
                exact=parts.exact,
                contributions=[
                    FeatureContribution(
                        parts.features[j], _cell(data, i, parts.features[j]), float(phi[j])
                    )
                    for j in keep
                ],
                remainder=float(phi[order[len(keep) :]].sum()),
            )


def _cell(data: Any, i: int, feature: str) -> Any:
    """Row ``i``'s value of ``feature`` (a column name, or ``x<j>`` of an array's flat row)."""
    if isinstance(data, pd.DataFrame):
        columns = {str(c): c for c in data.columns}
        return data[columns[feature]].iloc[i] if feature in columns else None
    if feature.startswith("x") and feature[1:].isdigit():
        flat = np.asarray(data[i]).reshape(-1)
        j = int(feature[1:])
        return flat[j].item() if j < flat.size else None
    return None


class _Evaluation:
    """Per-row arrays filled by the vectorised pass over the batch."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.answered = np.zeros(n, dtype=bool)
        self.proba = np.full((n, 0), np.nan)
        self.values = np.full(n, np.nan)
        self.conf = np.full((n, 3), np.nan)
        self.sets: NDArray[np.bool_] | None = None
        self.interval = np.full((n, 2), np.nan)
        self.error = np.full(n, np.nan)
        self.batch: BatchShiftFinding | None = None
        self.batch_error: str | None = None
        self.scores: dict[str, NDArray[np.float64]] = {}
        self.thresholds: dict[str, float] = {}
        self.model_error: dict[int, str] = {}
        self.safeguard_error: dict[int, str] = {}


def _conf_columns(P: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    m = confidence_metrics(P)
    return m.max_probability, m.margin, m.entropy


def _take(data: Any, idx: NDArray[np.intp]) -> Any:
    if isinstance(data, pd.DataFrame):
        if len(idx) == len(data):
            return data
        return data.iloc[idx].reset_index(drop=True)
    if len(idx) == len(data):
        return data
    return data[idx]


def _call_model(adapter: ModelAdapter, X: Any) -> tuple[NDArray[np.bool_], Any, dict[int, str]]:
    """Call the model on the batch; on failure, row by row to isolate the failing rows.

    A :class:`ModelUnavailable` is re-raised as is (the rows are not to blame)."""
    fn: Callable[[Any], NDArray[np.float64]] = (
        adapter.predict_proba if adapter.task == "classification" else adapter.predict_values
    )
    n = len(X)
    try:
        out = np.asarray(fn(X), dtype=np.float64)
        if out.shape[0] != n:
            raise ValueError(f"model returned {out.shape[0]} rows for {n} inputs")
        finite = np.asarray(
            np.isfinite(out).all(axis=1) if out.ndim == 2 else np.isfinite(out), dtype=bool
        )
        errs = {int(j): "model returned a non-finite output" for j in np.flatnonzero(~finite)}
        return finite, out, errs
    except ModelUnavailable:
        raise  # no fault of the rows: retrying them one by one would only multiply the wait
    except Exception:
        pass
    ok = np.zeros(n, dtype=bool)
    rows: list[Any] = []
    errs = {}
    width = None
    for j in range(n):
        try:
            r = np.asarray(fn(_take(X, np.array([j]))), dtype=np.float64)
            if not np.isfinite(r).all():
                raise ValueError("model returned a non-finite output")
            rows.append(r[0])
            width = r.shape[1:] if width is None else width
            ok[j] = True
        except ModelUnavailable:
            raise
        except Exception as exc:
            errs[j] = f"the model raised {type(exc).__name__}"
            rows.append(None)
    shape = (n, *width) if width is not None else (n,)
    out = np.full(shape, np.nan)
    for j, r in enumerate(rows):
        if r is not None:
            out[j] = r
    return ok, out, errs
