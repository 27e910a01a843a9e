"""Batch-level shift: is one request's batch of rows drawn from the training distribution?

A row-level guard cannot see that a whole batch moved (every income divided by 1000 still
gives rows that each look plausible). :class:`BatchShiftTest` compares a batch of at least
``min_rows`` rows with a stored reference sample and says whether it *shifted* in a way that
matters to the model, and whether it *drifted* at all.

Three families of tests, each two-sample and valid when batch and reference rows are
exchangeable (i.i.d. from one law: the null hypothesis):

* **fields**: one test per input field (exact two-sample Kolmogorov–Smirnov for numeric
  fields, through :mod:`~mlrails.drift.statistics`, bit-for-bit ``scipy.stats.ks_2samp``;
  chi-square of homogeneity for categorical ones, rare reference categories pooled so that
  every batch cell expects >= 5 rows, which keeps the chi-square approximation honest on
  100-row batches). Benjamini–Hochberg at ``fdr`` over all fields plus an effect gate
  (KS distance, or total-variation distance for categories, >= ``effect``) mark a field
  *significant* (reported). For the downgrade, Holm at the family's level over the fields
  the model relies on (importance >= ``importance_floor``) must also reject.
* **outputs**: KS of each class-probability column and of the confidence (largest
  probability), or of the predicted value for a regressor, against the model's outputs on
  rows it did not train on; Bonferroni over the columns, the same effect gate.
* **classifier**: a small gradient-boosted classifier learns to tell batch rows from a
  reference subsample, on the important fields only (a drift the model ignores cannot trip
  it); half of the rows train it, the other half are scored, and a one-sided Mann–Whitney
  test of the held-out scores gives the p-value (exact in law, conditional on the training
  half, because held-out scores are i.i.d. under the null; the normal approximation with
  tie correction). AUROC is reported; the effect gate applies to the KS distance of two
  normals with that AUROC (:func:`binormal_distance`: 0.1 is AUROC 0.57).

The batch is *shifted* (its rows are downgraded) when any family rejects at ``alpha / F``
(F the number of active families, Bonferroni), so an in-distribution batch is downgraded with
probability <= ``alpha``, whatever the dependence between the families. The guarantee is
unconditional over the draw of the reference; for one fixed reference the rate varies
around it (measured in ``benchmarks/bench_batch_shift.py``). It assumes the batch rows are
i.i.d.; the output family also assumes ``outputs_ref`` come from rows the model was not
trained on (outputs on training rows are over-confident and would flag every batch).

``estimated_accuracy_drop`` (classification) is confidence-based performance estimation in
the spirit of CBPE: mean confidence on the reference outputs minus mean confidence on the
batch. It is exact for a calibrated model under pure covariate shift, only indicative
otherwise (a unit change can make a model *more* confident and more wrong); it is reported
and does not decide the downgrade on its own (the confidence column is in the output family).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from mlrails._state import State
from mlrails.drift.batch_finding import BatchShiftFinding, FieldShift, reason_text
from mlrails.drift.profile import category_key, numeric_values
from mlrails.drift.statistics import (
    NumericIndex,
    benjamini_hochberg,
    chi_square_homogeneity,
    compare_numeric,
    ks_pvalues,
)
from mlrails.errors import ArtifactError, DataError, NotFittedError, PolicyError

__all__ = ["BatchShiftFinding", "BatchShiftTest", "FieldShift", "binormal_distance"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
Predict = Callable[[Any], Any]
STATE_FORMAT = "mlrails-batch-shift"
STATE_VERSION = 1
#: rows of the reference on which field importances are measured at fit
IMPORTANCE_ROWS = 500
#: batch rows (and as many reference rows) the classifier two-sample test uses at most
CLASSIFIER_MAX_ROWS = 1000
#: categories kept apart by the classifier (the rest pooled): HistGradientBoosting's bins
CLASSIFIER_MAX_CATEGORIES = 250
#: smallest expected batch count of a chi-square cell (rarer reference categories pooled)
MIN_EXPECTED = 5.0
#: fields listed in a finding at most (the significant ones first)
MAX_LISTED_FIELDS = 10


class BatchShiftTest:
    """Two-sample test of a batch of rows against the training reference (sklearn style).

    ``min_rows``: smaller batches are not tested (``test`` returns None). ``alpha``: the
    probability that an in-distribution batch is downgraded (Bonferroni across the active
    families). ``fdr``: Benjamini–Hochberg level of the reported field tests. ``effect``:
    smallest KS / total-variation distance that counts. ``classifier``: run the classifier
    two-sample test. ``importance_floor``: share of the model's output sensitivity below
    which a field is "barely used". ``max_reference_rows``: seeded subsample of the reference
    kept (and stored).
    """

    def __init__(
        self,
        min_rows: int = 100,
        alpha: float = 0.01,
        fdr: float = 0.05,
        effect: float = 0.1,
        classifier: bool = True,
        importance_floor: float = 0.05,
        random_state: int = 0,
        max_reference_rows: int = 5000,
    ) -> None:
        self.min_rows = min_rows
        self.alpha = alpha
        self.fdr = fdr
        self.effect = effect
        self.classifier = classifier
        self.importance_floor = importance_floor
        self.random_state = random_state
        self.max_reference_rows = max_reference_rows

    # ------------------------------------------------------------------------ fitting

    def _check_params(self) -> None:
        if int(self.min_rows) < 4:
            raise PolicyError(f"min_rows must be >= 4, got {self.min_rows}")
        for name in ("alpha", "fdr"):
            v = float(getattr(self, name))
            if not 0.0 < v < 1.0:
                raise PolicyError(f"{name} must be in (0, 1), got {v}")
        if not 0.0 <= float(self.effect) <= 1.0:
            raise PolicyError(f"effect must be in [0, 1], got {self.effect}")
        if not 0.0 <= float(self.importance_floor) <= 1.0:
            raise PolicyError(f"importance_floor must be in [0, 1], got {self.importance_floor}")
        if int(self.max_reference_rows) < 20:
            raise PolicyError(f"max_reference_rows must be >= 20, got {self.max_reference_rows}")

    def fit(
        self,
        X_ref: Any,
        outputs_ref: Any,
        *,
        predict: Predict | None = None,
        columns: list[str] | None = None,
    ) -> Self:
        """Keep a seeded subsample of the reference rows ``X_ref`` (DataFrame or 2-D array)
        and of ``outputs_ref`` (the model's outputs on rows it did not train on: (n, K)
        probabilities or (n,) values; None leaves the output family out), and measure each
        field's importance to the model with ``predict`` (the model's output function on
        rows like ``X_ref``): the mean change of the outputs when that column alone is
        permuted, on 500 reference rows, normalised to sum 1."""
        self._check_params()
        frame, names, is_array = _as_frame(X_ref, columns, None, "X_ref")
        if len(frame) < 20:
            raise DataError(f"X_ref has {len(frame)} rows; the reference needs at least 20")
        rng = np.random.default_rng(self.random_state)
        n = len(frame)
        keep = (
            np.sort(rng.choice(n, self.max_reference_rows, replace=False))
            if n > self.max_reference_rows
            else np.arange(n)
        )
        sub = frame.iloc[keep]
        kinds: list[str] = []
        num: list[F64] = []
        cat: list[I64] = []
        vocab: list[list[str]] = []
        for name in names:
            s = sub[name]
            if _is_numeric(s):
                x = numeric_values(s, name)
                x = np.where(np.isfinite(x), x, np.nan)
                if np.isnan(x).all():
                    raise DataError(f"field {name!r}: no finite reference value")
                kinds.append("numeric")
                num.append(x)
            else:
                keys = [category_key(v) for v in s.tolist()]
                voc = sorted({k for k in keys if k is not None})
                pos = {k: i for i, k in enumerate(voc)}
                kinds.append("categorical")
                cat.append(np.array([-1 if k is None else pos[k] for k in keys], dtype=np.int64))
                vocab.append(voc)
        self.columns_ = names
        self.input_is_array_ = is_array
        self.kinds_ = kinds
        self.vocabularies_ = vocab
        self.ref_numeric_ = np.column_stack(num) if num else np.zeros((len(sub), 0))
        self.ref_categorical_ = (
            np.column_stack(cat) if cat else np.zeros((len(sub), 0), dtype=np.int64)
        )
        self.outputs_ref_ = None if outputs_ref is None else _outputs(outputs_ref, None, "ref")
        if self.outputs_ref_ is not None:
            o = self.outputs_ref_
            if len(o) > self.max_reference_rows:
                self.outputs_ref_ = o[np.sort(rng.choice(len(o), self.max_reference_rows, False))]
        self.importance_ = (
            np.full(len(names), np.nan)
            if predict is None
            else _importance(X_ref, names, is_array, predict, self.random_state)
        )
        self._prepare()
        return self

    def _prepare(self) -> None:
        """Derived, unsaved structures: field indexes, chi-square pools, classifier codes."""
        self.n_reference_ = len(self.ref_numeric_)
        imp = self.importance_
        self.important_ = np.where(np.isnan(imp), True, imp >= self.importance_floor)
        self.numeric_index_: list[NumericIndex] = []
        for j in range(self.ref_numeric_.shape[1]):
            v = self.ref_numeric_[:, j]
            self.numeric_index_.append(NumericIndex.build(np.sort(v[~np.isnan(v)]), 10))
        self.ref_counts_: list[I64] = []
        self.classifier_codes_: list[F64] = []
        for j, voc in enumerate(self.vocabularies_):
            c = self.ref_categorical_[:, j]
            # cells: vocabulary..., unseen, missing
            counts = np.bincount(np.where(c < 0, len(voc) + 1, c), minlength=len(voc) + 2)
            self.ref_counts_.append(counts.astype(np.int64))
            rank = np.argsort(-counts[: len(voc)], kind="stable")
            codes = np.full(len(voc) + 2, float(CLASSIFIER_MAX_CATEGORIES))
            codes[rank[:CLASSIFIER_MAX_CATEGORIES]] = np.arange(
                min(len(voc), CLASSIFIER_MAX_CATEGORIES), dtype=np.float64
            )
            codes[len(voc)] = CLASSIFIER_MAX_CATEGORIES + 1  # unseen
            codes[len(voc) + 1] = np.nan  # missing
            self.classifier_codes_.append(codes)
        self.output_names_: list[str] = []
        self.output_index_: list[NumericIndex] = []
        self.task_: Literal["classification", "regression"] | None = None
        if self.outputs_ref_ is not None:
            o = self.outputs_ref_
            self.task_ = "classification" if _is_probabilities(o) else "regression"
            cols, self.output_names_ = _output_columns(o, self.task_)
            self.output_index_ = [NumericIndex.build(np.sort(c), 10) for c in cols]
        self.classifier_fields_ = [j for j in range(len(self.columns_)) if self.important_[j]]
        active = 1 + (self.outputs_ref_ is not None)
        active += bool(self.classifier) and bool(self.classifier_fields_)
        self.n_families_ = active

    # ------------------------------------------------------------------------ testing

    def test(self, X_batch: Any, outputs_batch: Any) -> BatchShiftFinding | None:
        """Test one batch (same columns as the reference; ``outputs_batch`` the model's
        outputs on it, as at fit). None when it has fewer than ``min_rows`` rows."""
        self._fitted()
        frame, _, _ = _as_frame(X_batch, None, self.columns_, "X_batch")
        n = len(frame)
        if n < self.min_rows:
            return None
        level = self.alpha / self.n_families_
        num_b, cat_b = self._encode(frame)
        fields = self._field_tests(num_b, cat_b, level)
        causes: list[str] = []
        if any(f.matters for f in fields):
            causes.append("fields")

        out_p = out_eff = drop = None
        out_name = ""
        if self.outputs_ref_ is not None:
            assert self.task_ is not None
            o = _outputs(outputs_batch, self.outputs_ref_.shape[1], "batch")
            if len(o) != n:
                raise DataError(f"outputs_batch has {len(o)} rows but X_batch has {n}")
            cols, _ = _output_columns(o, self.task_)
            pairs = zip(self.output_index_, cols, strict=True)
            d = np.array([compare_numeric(ix, c, use_numba=False).d for ix, c in pairs])
            m = len(cols)
            n_ref = np.array([ix.values.size for ix in self.output_index_], dtype=np.int64)
            d, p = ks_pvalues(d, n_ref, np.full(m, n, dtype=np.int64))
            k = int(np.argmin(p))
            out_p, out_eff, out_name = min(1.0, float(p[k]) * m), float(d[k]), self.output_names_[k]
            if bool(np.any((p * m < level) & (d >= self.effect))):
                causes.append("outputs")
            if self.task_ == "classification":
                drop = float(self.outputs_ref_.max(axis=1).mean() - o.max(axis=1).mean())

        auroc = cls_p = cls_eff = None
        if self.classifier and self.classifier_fields_:
            auroc, cls_p, cls_eff = self._classifier_test(num_b, cat_b)
            if cls_p < level and cls_eff >= self.effect:
                causes.append("classifier")

        order = sorted(fields, key=lambda f: (not f.matters, not f.significant, f.p_value))
        n_sig = sum(f.significant for f in fields)
        shifted = bool(causes)
        drifted = shifted or n_sig > 0
        reason = reason_text(order, causes, out_name, out_p, out_eff, auroc, cls_p, self.fdr)
        return BatchShiftFinding(
            n_rows=n,
            shifted=shifted,
            drifted=drifted,
            fields=order[:MAX_LISTED_FIELDS],
            output_p_value=out_p,
            output_effect=out_eff,
            classifier_auroc=auroc,
            classifier_p_value=cls_p,
            estimated_accuracy_drop=drop,
            reason=reason,
            classifier_effect=cls_eff,
            n_fields=len(fields),
            n_significant=n_sig,
            alpha=float(self.alpha),
            causes=tuple(causes),
        )

    def _fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise NotFittedError("BatchShiftTest is not fitted: call fit first")

    def _encode(self, frame: pd.DataFrame) -> tuple[F64, I64]:
        """Numeric matrix (NaN for missing / non-finite) and category codes (vocabulary
        index; len(vocabulary) for an unseen value, -1 for missing)."""
        num: list[F64] = []
        cat: list[I64] = []
        ci = 0
        for name, kind in zip(self.columns_, self.kinds_, strict=True):
            s = frame[name]
            if kind == "numeric":
                x = numeric_values(s, name)
                num.append(np.where(np.isfinite(x), x, np.nan))
            else:
                voc = self.vocabularies_[ci]
                ci += 1
                codes, uniques = pd.factorize(s, use_na_sentinel=True)
                pos = {k: i for i, k in enumerate(voc)}
                look = np.array(
                    [_code(category_key(u), pos, len(voc)) for u in uniques] + [-1],
                    dtype=np.int64,
                )
                cat.append(look[np.where(codes < 0, len(look) - 1, codes)])
        n = len(frame)
        return (
            np.column_stack(num) if num else np.zeros((n, 0)),
            np.column_stack(cat) if cat else np.zeros((n, 0), dtype=np.int64),
        )

    def _field_tests(self, num_b: F64, cat_b: I64, level: float) -> list[FieldShift]:
        d = len(self.columns_)
        stat = np.full(d, np.nan)
        pval = np.full(d, np.nan)
        eff = np.full(d, np.nan)
        n_b = np.zeros(d, dtype=np.int64)
        n_r = np.zeros(d, dtype=np.int64)
        num_i: list[int] = []
        pos = _positions(self.kinds_)
        for j in range(d):
            nj, cj = pos[j]
            if nj >= 0:
                ix = self.numeric_index_[nj]
                x = num_b[:, nj]
                st = compare_numeric(ix, x, use_numba=False)
                n_b[j], n_r[j] = st.n_cur, st.n_ref
                if st.n_cur > 0:
                    stat[j] = st.d
                    num_i.append(j)
            else:
                ref = self.ref_counts_[cj]
                codes = cat_b[:, cj]
                cur = np.bincount(np.where(codes < 0, len(ref) - 1, codes), minlength=len(ref))
                r, c = _pool_rare(ref, cur)
                chi = chi_square_homogeneity(r, c)
                stat[j], pval[j] = chi.statistic, chi.p_value
                eff[j] = 0.5 * float(np.abs(r / r.sum() - c / c.sum()).sum())
                n_b[j], n_r[j] = len(codes), int(ref.sum())
        if num_i:
            idx = np.array(num_i)
            stat[idx], pval[idx] = ks_pvalues(stat[idx], n_r[idx], n_b[idx])
            eff[idx] = stat[idx]
        p_adj = benjamini_hochberg(pval)
        significant = (p_adj < self.fdr) & (eff >= self.effect)
        holm = _holm(np.where(self.important_, pval, np.nan), level)
        out: list[FieldShift] = []
        for j, name in enumerate(self.columns_):
            sig = bool(significant[j])
            out.append(
                FieldShift(
                    field=name,
                    statistic="ks" if pos[j][0] >= 0 else "chi2",
                    p_value=float(pval[j]),
                    effect=float(eff[j]),
                    importance=float(self.importance_[j]),
                    significant=sig,
                    value=float(stat[j]),
                    p_adjusted=float(p_adj[j]),
                    matters=sig and bool(holm[j]) and bool(self.important_[j]),
                    n_batch=int(n_b[j]),
                )
            )
        return out

    def _classifier_features(self, num: F64, cat: I64) -> tuple[F64, NDArray[np.bool_]]:
        pos = _positions(self.kinds_)
        cols: list[F64] = []
        is_cat: list[bool] = []
        for j in self.classifier_fields_:
            nj, cj = pos[j]
            if nj >= 0:
                cols.append(num[:, nj])
                is_cat.append(False)
            else:
                codes = cat[:, cj]
                table = self.classifier_codes_[cj]
                cols.append(table[np.where(codes < 0, len(table) - 1, codes)])
                is_cat.append(True)
        return np.column_stack(cols), np.array(is_cat, dtype=np.bool_)

    def _classifier_test(self, num_b: F64, cat_b: I64) -> tuple[float, float, float]:
        """(AUROC, one-sided Mann–Whitney p-value, effect) of the held-out scores; the effect
        is :func:`binormal_distance` of the AUROC."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        n = len(num_b)
        # seeded by the batch's content: the same batch gets the same finding, and each
        # batch is compared with its own reference subsample (so the luck of one fixed
        # subsample is not shared by every batch)
        digest = zlib.crc32(np.ascontiguousarray(num_b).tobytes())
        digest = zlib.crc32(np.ascontiguousarray(cat_b).tobytes(), digest)
        rng = np.random.default_rng([int(self.random_state), n, digest])
        m = min(n, CLASSIFIER_MAX_ROWS)
        ib = rng.choice(n, m, replace=False) if n > m else np.arange(n)
        ir = rng.choice(self.n_reference_, min(m, self.n_reference_), replace=False)
        xb, is_cat = self._classifier_features(num_b[ib], cat_b[ib])
        xr, _ = self._classifier_features(self.ref_numeric_[ir], self.ref_categorical_[ir])
        tb = rng.permutation(len(xb)) < len(xb) // 2  # training half of each group
        tr = rng.permutation(len(xr)) < len(xr) // 2
        X = np.vstack([xb[tb], xr[tr]])
        y = np.concatenate([np.ones(int(tb.sum())), np.zeros(int(tr.sum()))])
        clf = HistGradientBoostingClassifier(
            max_iter=30,
            learning_rate=0.1,
            max_leaf_nodes=8,
            min_samples_leaf=10,
            categorical_features=is_cat if is_cat.any() else None,
            early_stopping=False,
            random_state=int(self.random_state),
        )
        # one thread: the model is tiny, and OpenMP threads that spin-wait on cores other
        # requests use cost far more than they give (0.05 s becomes 2 s on a busy machine)
        with threadpool_limits(limits=1, user_api="openmp"):
            clf.fit(X, y)
            sb = clf.predict_proba(xb[~tb])[:, 1]
            sr = clf.predict_proba(xr[~tr])[:, 1]
        mw = stats.mannwhitneyu(sb, sr, alternative="greater", method="asymptotic")
        auroc = float(mw.statistic) / (len(sb) * len(sr))
        p = float(mw.pvalue) if np.isfinite(mw.pvalue) else 1.0
        return auroc, p, binormal_distance(auroc)

    # ------------------------------------------------------------------------ state

    def get_state(self) -> State:
        """JSON metadata + arrays (no pickle): the reference sample, outputs, importances."""
        self._fitted()
        meta: dict[str, Any] = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "params": {
                "min_rows": int(self.min_rows),
                "alpha": float(self.alpha),
                "fdr": float(self.fdr),
                "effect": float(self.effect),
                "classifier": bool(self.classifier),
                "importance_floor": float(self.importance_floor),
                "random_state": int(self.random_state),
                "max_reference_rows": int(self.max_reference_rows),
            },
            "columns": list(self.columns_),
            "kinds": list(self.kinds_),
            "vocabularies": [list(v) for v in self.vocabularies_],
            "input_is_array": bool(self.input_is_array_),
            "has_outputs": self.outputs_ref_ is not None,
        }
        arrays: dict[str, NDArray[Any]] = {
            "ref_numeric": self.ref_numeric_,
            "ref_categorical": self.ref_categorical_,
            "importance": self.importance_,
        }
        if self.outputs_ref_ is not None:
            arrays["outputs_ref"] = self.outputs_ref_
        return State(meta=meta, arrays=arrays)

    @classmethod
    def from_state(cls, state: State) -> BatchShiftTest:
        """Rebuild a fitted test from :meth:`get_state`; ArtifactError when inconsistent."""
        meta = state.meta
        if meta.get("format") != STATE_FORMAT or meta.get("version") != STATE_VERSION:
            raise ArtifactError("not a batch-shift state (or an unsupported version)")
        try:
            self = cls(**meta["params"])
            self._check_params()
            self.columns_ = [str(c) for c in meta["columns"]]
            self.kinds_ = [str(k) for k in meta["kinds"]]
            self.vocabularies_ = [[str(c) for c in v] for v in meta["vocabularies"]]
            self.input_is_array_ = bool(meta["input_is_array"])
            num = np.asarray(state.array("ref_numeric"), dtype=np.float64)
            cat = np.asarray(state.array("ref_categorical"), dtype=np.int64)
            imp = np.asarray(state.array("importance"), dtype=np.float64)
            outs = (
                np.asarray(state.array("outputs_ref"), dtype=np.float64)
                if meta["has_outputs"]
                else None
            )
        except (KeyError, TypeError, ValueError, PolicyError) as exc:
            raise ArtifactError(f"bad batch-shift state ({exc})") from None
        d = len(self.columns_)
        n_num = self.kinds_.count("numeric")
        ok = (
            len(self.kinds_) == d
            and set(self.kinds_) <= {"numeric", "categorical"}
            and len(self.vocabularies_) == d - n_num
            and num.ndim == 2
            and cat.ndim == 2
            and num.shape[1] == n_num
            and cat.shape == (len(num), d - n_num)
            and imp.shape == (d,)
            and (outs is None or (outs.ndim == 2 and len(outs) > 0 and np.isfinite(outs).all()))
            and all(
                ((cat[:, j] >= -1) & (cat[:, j] < len(v))).all()
                for j, v in enumerate(self.vocabularies_)
            )
        )
        if not ok:
            raise ArtifactError("bad batch-shift state (inconsistent shapes)")
        self.ref_numeric_, self.ref_categorical_ = num, cat
        self.importance_, self.outputs_ref_ = imp, outs
        self._prepare()
        return self


# ---------------------------------------------------------------------------- helpers


def binormal_distance(auroc: float) -> float:
    """The KS distance of two unit-variance normals whose AUROC is ``auroc``: with
    ``d = sqrt(2) Phi^-1(AUROC)`` the location gap, ``2 Phi(d / 2) - 1``; 0 for AUROC <= 0.5.
    The classifier's effect on the scale of the field gate (0.1 is AUROC 0.57), computed
    from the AUROC rather than the two groups' score distributions, which on a few hundred
    held-out rows would be noisier (their KS distance is ~0.06 with no shift at all)."""
    if not auroc > 0.5:
        return 0.0
    if auroc >= 1.0:
        return 1.0
    gap = math.sqrt(2.0) * float(stats.norm.ppf(auroc))
    return float(2.0 * stats.norm.cdf(gap / 2.0) - 1.0)


def _code(key: str | None, pos: dict[str, int], unseen: int) -> int:
    if key is None:
        return -1
    return pos.get(key, unseen)


def _positions(kinds: Sequence[str]) -> list[tuple[int, int]]:
    """(numeric column, categorical column) of each field, -1 for the other kind."""
    out: list[tuple[int, int]] = []
    n = c = 0
    for k in kinds:
        if k == "numeric":
            out.append((n, -1))
            n += 1
        else:
            out.append((-1, c))
            c += 1
    return out


def _is_numeric(s: pd.Series) -> bool:
    dt = s.dtype
    return bool(
        pd.api.types.is_numeric_dtype(dt)
        and not pd.api.types.is_bool_dtype(dt)
        and not isinstance(dt, pd.CategoricalDtype)
    )


def _as_frame(
    X: Any, columns: list[str] | None, expected: list[str] | None, what: str
) -> tuple[pd.DataFrame, list[str], bool]:
    """(table, field names, was an array). ``expected``: the fitted fields, which a
    DataFrame must contain (extra columns ignored) and an array must match in number."""
    if isinstance(X, pd.DataFrame):
        frame = X
        names = [str(c) for c in frame.columns]
        if len(set(names)) != len(names):
            raise DataError(f"{what} has duplicate column names")
        frame = frame.set_axis(names, axis=1)
        want = expected if expected is not None else (columns or names)
        absent = [c for c in want if c not in frame.columns]
        if absent:
            raise DataError(f"{what} lacks column(s): {', '.join(absent)}")
        return frame, list(want), False
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(f"{what} must be a DataFrame or a 2-D array, got shape {arr.shape}")
    names = expected or columns or [f"x{i}" for i in range(arr.shape[1])]
    if len(names) != arr.shape[1]:
        raise DataError(
            f"{what} has {arr.shape[1]} columns but {len(names)} fields are expected "
            f"({', '.join(names[:5])}{', …' if len(names) > 5 else ''})"
        )
    frame = pd.DataFrame(arr, columns=names)
    if arr.dtype == object:
        frame = frame.infer_objects()
    return frame, list(names), True


def _outputs(o: Any, width: int | None, what: str) -> F64:
    try:
        a = np.asarray(o, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"outputs_{what} must be numeric") from None
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or len(a) == 0:
        raise DataError(f"outputs_{what} must be (n,) or (n, K), got shape {a.shape}")
    if width is not None and a.shape[1] != width:
        raise DataError(f"outputs_{what} has {a.shape[1]} columns, the reference {width}")
    if not np.isfinite(a).all():
        raise DataError(f"outputs_{what} has non-finite values")
    return a


def _is_probabilities(o: F64) -> bool:
    return bool(
        o.shape[1] >= 2
        and (o >= -1e-9).all()
        and (o <= 1 + 1e-9).all()
        and np.allclose(o.sum(axis=1), 1.0, atol=1e-6)
    )


def _output_columns(o: F64, task: str) -> tuple[list[F64], list[str]]:
    """Columns the output family tests: P(class 1) and the confidence for two classes,
    every class probability and the confidence for more, each value column otherwise."""
    if task == "classification":
        conf = o.max(axis=1)
        if o.shape[1] == 2:
            return [o[:, 1], conf], ["P(class 1)", "confidence"]
        cols = [o[:, k] for k in range(o.shape[1])] + [conf]
        return cols, [f"P(class {k})" for k in range(o.shape[1])] + ["confidence"]
    if o.shape[1] == 1:
        return [o[:, 0]], ["prediction"]
    return [o[:, k] for k in range(o.shape[1])], [f"output {k}" for k in range(o.shape[1])]


def _importance(X: Any, names: list[str], is_array: bool, predict: Predict, seed: int) -> F64:
    """Permutation sensitivity of the outputs, per field, normalised to sum 1 (uniform when
    no field moves the outputs)."""
    rng = np.random.default_rng([seed, 1])
    n = len(X)
    rows = np.sort(rng.choice(n, min(n, IMPORTANCE_ROWS), replace=False))
    if is_array:
        base_X: Any = np.asarray(X)[rows]
    else:
        base_X = X.iloc[rows].reset_index(drop=True)
    base = _outputs(predict(base_X), None, "of predict")
    sens = np.zeros(len(names))
    for j, name in enumerate(names):
        perm = rng.permutation(len(rows))
        if is_array:
            Xp = base_X.copy()
            Xp[:, j] = base_X[perm, j]
        else:
            Xp = base_X.copy()
            Xp[name] = base_X[name].to_numpy()[perm]
        out = _outputs(predict(Xp), base.shape[1], "of predict")
        sens[j] = float(np.abs(out - base).sum(axis=1).mean())
    total = sens.sum()
    if not total > 0:
        return np.full(len(names), 1.0 / len(names))
    return np.asarray(sens / total, dtype=np.float64)


def _pool_rare(ref: I64, cur: I64) -> tuple[I64, I64]:
    """Pool every cell whose reference share expects fewer than 5 batch rows (unseen and
    missing cells included), then, while the pooled cell itself expects fewer than 5, the
    next-rarest cells. The pooling depends on the reference and the batch size only, never on
    the batch's values, so the test stays valid; every remaining cell expects >= 5 rows."""
    n_c = float(cur.sum())
    expected = ref / float(ref.sum()) * n_c
    order = np.argsort(expected, kind="stable")
    k = int(np.searchsorted(expected[order], MIN_EXPECTED, side="left"))
    k = max(k, 1)
    while k < len(order) and expected[order[:k]].sum() < MIN_EXPECTED:
        k += 1
    pooled, rest = order[:k], order[k:]
    r = np.concatenate([[ref[pooled].sum()], ref[rest]]).astype(np.int64)
    c = np.concatenate([[cur[pooled].sum()], cur[rest]]).astype(np.int64)
    return r, c


def _holm(p: F64, level: float) -> NDArray[np.bool_]:
    """Holm's step-down rejections at ``level`` (NaN never rejected, not counted)."""
    out = np.zeros(len(p), dtype=np.bool_)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    for rank, i in enumerate(ok[np.argsort(p[ok], kind="stable")]):
        if p[i] > level / (m - rank):
            break
        out[i] = True
    return out
