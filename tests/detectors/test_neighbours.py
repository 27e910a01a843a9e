"""Exact NumPy nearest neighbours agree with scikit-learn's brute-force search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from mlrails.detectors.neighbours import BruteNeighbours


@pytest.mark.parametrize(
    ("n_ref", "n_query", "dim", "k"), [(50, 7, 3, 1), (400, 300, 30, 5), (20, 5, 2, 20)]
)
def test_matches_sklearn(n_ref: int, n_query: int, dim: int, k: int) -> None:
    rng = np.random.default_rng(n_ref)
    ref, q = rng.normal(size=(n_ref, dim)), rng.normal(size=(n_query, dim))
    dist, ind = BruteNeighbours(ref).kneighbors(q, k)
    d_ref, i_ref = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(ref).kneighbors(q)
    np.testing.assert_allclose(dist, d_ref, atol=1e-9)
    np.testing.assert_array_equal(ind, i_ref)


def test_chunking_gives_the_same_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlrails.detectors.neighbours as nb

    rng = np.random.default_rng(0)
    ref, q = rng.normal(size=(100, 4)), rng.normal(size=(257, 4))
    whole = BruteNeighbours(ref).kneighbors(q, 3)
    monkeypatch.setattr(nb, "CHUNK_BYTES", 8 * 100 * 10)  # 10 queries per chunk
    chunked = BruteNeighbours(ref).kneighbors(q, 3)
    np.testing.assert_allclose(whole[0], chunked[0])
    np.testing.assert_array_equal(whole[1], chunked[1])


def test_k_out_of_range() -> None:
    with pytest.raises(ValueError, match="k must be"):
        BruteNeighbours(np.zeros((3, 2))).kneighbors(np.zeros((1, 2)), 4)
