"""Isolation-forest detector that scores from exported tree arrays (no pickled forest).

scikit-learn's :class:`~sklearn.ensemble.IsolationForest` grows the trees on the encoded
matrix; every tree's ``children_left``, ``children_right``, ``feature``, ``threshold`` and
``n_node_samples`` are then exported and the forest is dropped. Scoring walks all trees at
once with a vectorised traversal (one step per tree level, never a loop over rows).

A row that lands in leaf ``l`` at depth ``d`` of a tree has path length
``h = d + c(n_l)``, where ``n_l`` is the number of training rows in the leaf and
``c(n) = 2 (ln(n - 1) + gamma) - 2 (n - 1) / n`` (``c(2) = 1``, ``c(n <= 1) = 0``) is the
average path length of an unsuccessful search in a binary search tree of ``n`` points
(Liu, Ting & Zhou 2008). The score is ``2 ** (-mean(h) / c(max_samples))``, which equals
``-IsolationForest.score_samples``: higher = more anomalous, about 0.5 for ordinary rows.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import IsolationForest

from mlrails._state import State
from mlrails.detectors.base import BaseDetector
from mlrails.errors import ArtifactError

#: rows scored per block, so the (rows x trees) working arrays stay cache-sized
_BLOCK_ROWS = 512
_TREE_ARRAYS = ("children_left", "children_right", "feature", "threshold", "n_node_samples")


def average_path_length(n: NDArray[Any] | float) -> NDArray[np.float64]:
    """``c(n)``: average path length of an unsuccessful BST search among ``n`` points."""
    n_arr = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n_arr)
    out[n_arr == 2] = 1.0
    big = n_arr > 2
    nb = n_arr[big]
    out[big] = 2.0 * (np.log(nb - 1.0) + np.euler_gamma) - 2.0 * (nb - 1.0) / nb
    return out


class IsolationForestDetector(BaseDetector):
    """Isolation-forest anomaly score; higher = more anomalous.

    Parameters
    ----------
    n_estimators:
        number of isolation trees.
    max_samples:
        rows drawn per tree: ``"auto"`` (``min(256, n)``), an int, or a fraction.
    random_state:
        seed of the forest.
    """

    name: ClassVar[str] = "iforest"
    family: ClassVar[str] = "ood"
    encoded_input_only: ClassVar[bool] = True

    #: per-tree arrays concatenated; children index within their own tree, leaves are -1
    trees_: dict[str, NDArray[Any]]
    #: start of each tree's nodes in the concatenated arrays (length n_trees + 1)
    tree_offsets_: NDArray[np.int64]
    max_samples_: int

    def __init__(
        self,
        n_estimators: int = 100,
        max_samples: int | float | str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    # -- hooks ---------------------------------------------------------------------------
    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            random_state=self.random_state,
        ).fit(Z)
        self._import_forest(forest, Z.shape[1])

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        # scikit-learn's trees compare float32 inputs with float64 thresholds: do the same
        Zf = np.ascontiguousarray(Z, dtype=np.float32)
        denominator = self._denominator
        out = np.empty(Zf.shape[0], dtype=np.float64)
        for start in range(0, Zf.shape[0], _BLOCK_ROWS):
            depth_sum = self._path_length_sums(Zf[start : start + _BLOCK_ROWS])
            if denominator == 0:  # one training row: scikit-learn scores 2 ** -1
                out[start : start + _BLOCK_ROWS] = 0.5
            else:
                out[start : start + _BLOCK_ROWS] = 2.0 ** (-depth_sum / denominator)
        return out

    def _training_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        return self._score_encoded(Z[rows], None)

    def _get_fitted_state(self) -> State:
        arrays: dict[str, NDArray[Any]] = {k: self.trees_[k] for k in _TREE_ARRAYS}
        arrays["tree_offsets"] = self.tree_offsets_
        return State(meta={"max_samples": int(self.max_samples_)}, arrays=arrays)

    def _set_fitted_state(self, state: State) -> None:
        self.max_samples_ = int(state.meta["max_samples"])
        trees = {
            "children_left": np.asarray(state.array("children_left"), dtype=np.int64),
            "children_right": np.asarray(state.array("children_right"), dtype=np.int64),
            "feature": np.asarray(state.array("feature"), dtype=np.int64),
            "threshold": np.asarray(state.array("threshold"), dtype=np.float64),
            "n_node_samples": np.asarray(state.array("n_node_samples"), dtype=np.int64),
        }
        self._set_trees(trees, np.asarray(state.array("tree_offsets"), dtype=np.int64))

    # -- the forest as arrays ------------------------------------------------------------
    def _import_forest(self, forest: IsolationForest, n_features: int) -> None:
        """Copy the fitted trees into flat arrays (features mapped to encoded columns)."""
        subsample = forest._max_features != n_features
        parts: dict[str, list[NDArray[Any]]] = {k: [] for k in _TREE_ARRAYS}
        sizes = []
        for est, features in zip(forest.estimators_, forest.estimators_features_, strict=True):
            tree = est.tree_
            feature = np.asarray(tree.feature, dtype=np.int64)
            if subsample:  # the tree saw X[:, features]; map back to the full matrix
                cols = np.asarray(features, dtype=np.int64)
                feature = np.where(feature >= 0, cols[np.maximum(feature, 0)], feature)
            parts["children_left"].append(np.asarray(tree.children_left, dtype=np.int64))
            parts["children_right"].append(np.asarray(tree.children_right, dtype=np.int64))
            parts["feature"].append(feature)
            parts["threshold"].append(np.asarray(tree.threshold, dtype=np.float64))
            parts["n_node_samples"].append(np.asarray(tree.n_node_samples, dtype=np.int64))
            sizes.append(tree.node_count)
        self.max_samples_ = int(forest.max_samples_)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self._set_trees({k: np.concatenate(v) for k, v in parts.items()}, offsets)

    def _set_trees(self, trees: dict[str, NDArray[Any]], offsets: NDArray[np.int64]) -> None:
        """Keep the saved arrays and derive the traversal tables from them."""
        self.trees_ = trees
        self.tree_offsets_ = offsets
        n_nodes = int(offsets[-1])
        sizes = np.diff(offsets)
        base = np.repeat(offsets[:-1], sizes)  # each node's tree offset
        left, right = trees["children_left"], trees["children_right"]
        leaf = left < 0
        node = np.arange(n_nodes, dtype=np.int64)
        # children as global node ids, interleaved [left, right]; leaves loop onto themselves
        kids = np.empty(2 * n_nodes, dtype=np.intp)
        kids[0::2] = np.where(leaf, node, left + base)
        kids[1::2] = np.where(leaf, node, right + base)
        # depth of each node (root = 0), one tree level at a time
        depth = np.zeros(n_nodes, dtype=np.int64)
        frontier = offsets[:-1][sizes > 0]
        level = 0
        while frontier.size:
            frontier = frontier[~leaf[frontier]]
            level += 1
            frontier = np.concatenate(
                [left[frontier] + base[frontier], right[frontier] + base[frontier]]
            )
            depth[frontier] = level
            if level > n_nodes:
                raise ArtifactError("isolation-forest arrays do not form trees")
        # the traversal tracks a node ``i`` as ``2 i`` (its slot in ``kids``), so one step is
        # ``kids2[slot + go_right]``; per-node tables are stored at even slots to match
        self._kids2 = 2 * kids
        self._feature2 = np.repeat(np.where(leaf, 0, trees["feature"]).astype(np.intp), 2)
        self._threshold2 = np.repeat(np.where(leaf, np.inf, trees["threshold"]), 2)
        # path length credited to a row ending in each leaf: depth + c(n_node_samples)
        self._leaf_value2 = np.repeat(depth + average_path_length(trees["n_node_samples"]), 2)
        self._roots2 = 2 * offsets[:-1].astype(np.intp)
        # mean path length normaliser, n_trees * c(max_samples): fixed once the trees are
        self._denominator = (offsets.size - 1) * float(average_path_length(self.max_samples_))
        self._max_depth = int(depth.max()) if n_nodes else 0

    def _path_length_sums(self, Zf: NDArray[np.float32]) -> NDArray[np.float64]:
        """Sum over trees of each row's path length, all trees walked together."""
        n = Zf.shape[0]
        kids2, feature2, threshold2 = self._kids2, self._feature2, self._threshold2
        slots = np.broadcast_to(self._roots2, (n, self._roots2.size)).copy()
        flat = Zf.ravel()
        if n == 1:  # a single row (the guard's common case): no per-row offsets to add
            for _ in range(self._max_depth):
                go_right = flat[feature2[slots]] > threshold2[slots]
                slots = kids2[slots + go_right]
        else:
            row_base = (np.arange(n, dtype=np.intp) * Zf.shape[1])[:, None]
            for _ in range(self._max_depth):
                # scikit-learn: left when x <= threshold
                go_right = flat[row_base + feature2[slots]] > threshold2[slots]
                slots = kids2[slots + go_right]
        return np.asarray(self._leaf_value2[slots].sum(axis=1), dtype=np.float64)
