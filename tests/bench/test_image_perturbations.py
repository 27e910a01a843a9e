from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter
from sklearn.datasets import load_digits

from mlrails.bench import SEVERITIES, Perturbation, PerturbationError, available, make
from mlrails.bench.image import Blur, ImpulseNoise, Occlusion, Pixelate

IMAGE = [
    "gaussian_noise_image",
    "shot_noise",
    "impulse_noise",
    "blur",
    "brightness",
    "contrast",
    "pixelate",
    "occlusion",
]
RANDOM = {"gaussian_noise_image", "shot_noise", "impulse_noise", "occlusion"}


@pytest.fixture(scope="module")
def digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    d = load_digits()
    images = d.images[:400].astype(np.float64) / 16.0
    return images, d.target[:400]


def _fitted(name: str, X: NDArray[np.float64]) -> Perturbation:
    return make(name).fit(X)


def test_all_registered_as_image() -> None:
    assert set(IMAGE) <= set(available("image"))
    assert not set(IMAGE) & set(available("tabular"))


@pytest.mark.parametrize("name", IMAGE)
@pytest.mark.parametrize("severity", SEVERITIES)
def test_shape_dtype_range_and_input_unchanged(
    name: str, severity: int, digits: tuple[NDArray[np.float64], NDArray[np.int64]]
) -> None:
    X, y = digits
    X_before, y_before = X.copy(), y.copy()
    p = _fitted(name, X)
    Xp, yp = p(X, y, severity, seed=0)
    assert Xp.shape == X.shape
    assert Xp.dtype == np.float64
    assert Xp.min() >= 0.0 and Xp.max() <= 1.0
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(yp, y)
    assert Xp is not X


@pytest.mark.parametrize("name", IMAGE)
def test_deterministic_per_seed(
    name: str, digits: tuple[NDArray[np.float64], NDArray[np.int64]]
) -> None:
    X, y = digits
    p = _fitted(name, X)
    a, _ = p(X, y, 3, seed=7)
    b, _ = p(X, y, 3, seed=7)
    np.testing.assert_array_equal(a, b)
    c, _ = p(X, y, 3, seed=8)
    if name in RANDOM:
        assert not np.array_equal(a, c)
    else:
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("name", IMAGE)
def test_damage_grows_with_severity(
    name: str, digits: tuple[NDArray[np.float64], NDArray[np.int64]]
) -> None:
    X, y = digits
    p = _fitted(name, X)
    damage = [float(np.abs(p(X, y, s, seed=0)[0] - X).mean()) for s in SEVERITIES]
    assert damage[0] > 0
    assert all(b >= a for a, b in itertools.pairwise(damage)), damage


def test_fit_learns_range_and_default() -> None:
    X = np.linspace(-2.0, 3.0, 2 * 4 * 4).reshape(2, 4, 4)
    p = make("brightness")
    assert p.bounds == (0.0, 1.0)  # type: ignore[attr-defined]
    p.fit(X)
    assert p.bounds == (-2.0, 3.0)  # type: ignore[attr-defined]
    out, _ = p(X, np.zeros(2), 5, seed=0)
    np.testing.assert_allclose(out, np.minimum(X + 2.5, 3.0))
    with pytest.raises(PerturbationError):
        make("blur").fit(np.ones((2, 4, 4)))


def test_rejects_wrong_ndim() -> None:
    with pytest.raises(PerturbationError):
        make("blur")(np.zeros((4, 4)), np.zeros(4), 1, seed=0)


def test_blur_matches_gaussian_filter(
    digits: tuple[NDArray[np.float64], NDArray[np.int64]],
) -> None:
    X, y = digits
    p = Blur().fit(X)
    for s in SEVERITIES:
        sigma = Blur.SIGMA[s - 1]
        out, _ = p(X, y, s, seed=0)
        np.testing.assert_allclose(out, gaussian_filter(X, sigma=(0, sigma, sigma)))


def test_blur_rgb_blurs_only_spatially() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((3, 6, 5, 3))
    out, _ = Blur()(X, np.zeros(3), 4, seed=0)
    s = Blur.SIGMA[3]
    assert out.shape == X.shape
    for c in range(3):
        np.testing.assert_allclose(out[..., c], gaussian_filter(X[..., c], sigma=(0, s, s)))


def test_pixelate_block2_hand_checked() -> None:
    img = np.arange(16, dtype=np.float64).reshape(1, 4, 4) / 15.0
    out, _ = Pixelate()(img, np.zeros(1), 1, seed=0)  # block 2
    m = np.array([[2.5, 4.5], [10.5, 12.5]]) / 15.0
    expected = np.repeat(np.repeat(m, 2, axis=0), 2, axis=1)[None]
    np.testing.assert_allclose(out, expected)


def test_pixelate_rgb_per_channel() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((2, 4, 4, 3))
    out, _ = Pixelate()(X, np.zeros(2), 1, seed=0)
    assert out.shape == X.shape
    for c in range(3):
        blocks = X[..., c].reshape(2, 2, 2, 2, 2).mean(axis=(2, 4))
        expected = np.repeat(np.repeat(blocks, 2, axis=1), 2, axis=2)
        np.testing.assert_allclose(out[..., c], expected)


def test_pixelate_uneven_edge_blocks() -> None:
    X = np.arange(9, dtype=np.float64).reshape(1, 3, 3) / 8.0
    out, _ = Pixelate()(X, np.zeros(1), 1, seed=0)  # block 2 on 3×3: tiles 1 and 2 wide
    assert out[0, 0, 0] == pytest.approx(0.0)
    assert out[0, 2, 2] == pytest.approx(np.mean([4, 5, 7, 8]) / 8.0)
    assert out[0, 0, 2] == pytest.approx(np.mean([1, 2]) / 8.0)
    assert out[0, 1, 0] == pytest.approx(np.mean([3, 6]) / 8.0)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_occlusion_sets_side_squared_pixels(severity: int) -> None:
    X = np.ones((50, 10, 12))
    p = Occlusion().fit(np.stack([np.zeros((10, 12)), np.ones((10, 12))]))
    out, _ = p(X, np.zeros(50), severity, seed=severity)
    side = p.side(X.shape, severity)  # type: ignore[attr-defined]
    assert side == max(1, round(Occlusion.FRACTION[severity - 1] * 10))
    np.testing.assert_array_equal((out == 0.0).sum(axis=(1, 2)), side * side)
    assert set(np.unique(out)) <= {0.0, 1.0}


def test_occlusion_rgb_covers_all_channels() -> None:
    X = np.ones((5, 8, 8, 3))
    out, _ = Occlusion()(X, np.zeros(5), 5, seed=0)
    side = Occlusion().side(X.shape, 5)
    np.testing.assert_array_equal((out == 0.0).all(axis=3).sum(axis=(1, 2)), side * side)
    np.testing.assert_array_equal((out == 0.0).any(axis=3), (out == 0.0).all(axis=3))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_impulse_noise_changes_stated_share(severity: int) -> None:
    X = np.full((100, 20, 20), 0.5)
    out, _ = ImpulseNoise()(X, np.zeros(100), severity, seed=severity)
    p = ImpulseNoise.SHARE[severity - 1]
    n = X.size
    changed = out != 0.5
    assert abs(changed.mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    assert set(np.unique(out[changed])) <= {0.0, 1.0}
    # salt and pepper are about equally common
    salt = (out == 1.0).sum()
    k = changed.sum()
    assert abs(salt - k / 2) < 5 * np.sqrt(k / 4)
