"""Image perturbations in the style of the ImageNet-C corruptions (Hendrycks & Dietterich).

Each works on a NumPy batch of shape ``(n, H, W)`` or ``(n, H, W, C)`` whose values lie in a
known range ``[lo, hi]``, learnt by :meth:`Perturbation.fit` from clean reference images (their
minimum and maximum; ``[0, 1]`` when not fitted). Outputs are new float64 arrays of the same
shape, clipped to ``[lo, hi]``; the inputs are never modified, and the same seed gives the
same output. Severity parameters are relative to the range (noise, brightness) or in pixels
(blur, pixelate), so severities mean the same on any image scale.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter

from mlrails.bench.perturbations import Kind, Perturbation, PerturbationError, register

Array = NDArray[np.float64]


def _as_images(X: Any) -> Array:
    arr = np.array(X, dtype=np.float64, copy=True)
    if arr.ndim not in (3, 4):
        raise PerturbationError(
            f"an image perturbation needs shape (n, H, W) or (n, H, W, C), got {arr.shape}"
        )
    return arr


class _Image(Perturbation):
    """Shared range fitting and clipping of image perturbations."""

    kind: ClassVar[Kind] = "image"

    def fit(self, X: Any, y: NDArray[Any] | None = None) -> Perturbation:
        arr = _as_images(X)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            raise PerturbationError(f"{self.name}: reference images need a range, got [{lo}, {hi}]")
        self.lo_, self.hi_ = lo, hi
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``: the fitted value range, ``(0, 1)`` when not fitted."""
        return getattr(self, "lo_", 0.0), getattr(self, "hi_", 1.0)

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        lo, hi = self.bounds
        out = self._corrupt(_as_images(X), severity, rng, lo, hi)
        return np.clip(out, lo, hi), y.copy()

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        """The corruption of ``x`` (a private float64 copy, may be changed in place)."""
        raise NotImplementedError


@register
class GaussianNoiseImage(_Image):
    """Add N(0, σ²) to every value; σ = 0.08, 0.12, 0.18, 0.26, 0.38 × (hi − lo)."""

    name = "gaussian_noise_image"
    SIGMA = (0.08, 0.12, 0.18, 0.26, 0.38)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        return x + rng.normal(size=x.shape) * self.SIGMA[severity - 1] * (hi - lo)


@register
class ShotNoise(_Image):
    """Poisson (photon) noise: the range is mapped to [0, c] photons, c = 60, 25, 12, 5, 3."""

    name = "shot_noise"
    PHOTONS = (60.0, 25.0, 12.0, 5.0, 3.0)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        c = self.PHOTONS[severity - 1]
        unit = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
        return lo + rng.poisson(unit * c) / c * (hi - lo)


@register
class ImpulseNoise(_Image):
    """Salt and pepper: a share of the values (3, 6, 9, 17, 27 %) set to lo or hi at random."""

    name = "impulse_noise"
    SHARE = (0.03, 0.06, 0.09, 0.17, 0.27)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        hit = rng.random(x.shape) < self.SHARE[severity - 1]
        salt = rng.random(x.shape) < 0.5
        x[hit & salt] = hi
        x[hit & ~salt] = lo
        return x


@register
class Blur(_Image):
    """Gaussian blur over the spatial axes only; σ = 0.5, 0.75, 1, 1.5, 2 pixels."""

    name = "blur"
    SIGMA = (0.5, 0.75, 1.0, 1.5, 2.0)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        s = self.SIGMA[severity - 1]
        sigma = (0.0, s, s) if x.ndim == 3 else (0.0, s, s, 0.0)
        return np.asarray(gaussian_filter(x, sigma=sigma), dtype=np.float64)


@register
class Brightness(_Image):
    """Add 0.1, 0.2, 0.3, 0.4, 0.5 × (hi − lo) to every value."""

    name = "brightness"
    SHIFT = (0.1, 0.2, 0.3, 0.4, 0.5)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        return x + self.SHIFT[severity - 1] * (hi - lo)


@register
class Contrast(_Image):
    """Shrink each image towards its own mean: keep 0.4, 0.3, 0.2, 0.1, 0.05 of the contrast."""

    name = "contrast"
    KEEP = (0.4, 0.3, 0.2, 0.1, 0.05)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        mean = x.mean(axis=tuple(range(1, x.ndim)), keepdims=True)
        return np.asarray((x - mean) * self.KEEP[severity - 1] + mean, dtype=np.float64)


def _tile_starts(size: int, block: int) -> NDArray[np.intp]:
    """Starts of ceil(size / block) tiles covering ``range(size)`` with sizes as even as can be
    (all equal to ``block`` when it divides ``size``)."""
    k = -(-size // block)
    return np.asarray((np.arange(k) * size) // k, dtype=np.intp)


def block_means(x: Array, block: int) -> Array:
    """Each spatial tile of about ``block`` × ``block`` pixels of ``x`` replaced by its mean
    (per channel). The image is cut into ceil(H / block) × ceil(W / block) tiles of sizes as
    even as can be, so no thin leftover tile stays sharp at the edges."""
    h, w = x.shape[1], x.shape[2]
    rows, cols = _tile_starts(h, block), _tile_starts(w, block)
    sums = np.add.reduceat(np.add.reduceat(x, rows, axis=1), cols, axis=2)
    rh = np.diff(np.append(rows, h)).astype(np.float64)
    cw = np.diff(np.append(cols, w)).astype(np.float64)
    counts = np.outer(rh, cw)
    means = sums / (counts if x.ndim == 3 else counts[:, :, None])
    ri = np.searchsorted(rows, np.arange(h), side="right") - 1
    ci = np.searchsorted(cols, np.arange(w), side="right") - 1
    return np.asarray(means[:, ri][:, :, ci], dtype=np.float64)


@register
class Pixelate(_Image):
    """Downsample by averaging blocks of about 2, 3, 4, 6, 8 pixels (see :func:`block_means`),
    then upsample back to the same shape (nearest)."""

    name = "pixelate"
    BLOCK = (2, 3, 4, 6, 8)

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        return block_means(x, self.BLOCK[severity - 1])


@register
class Occlusion(_Image):
    """Set one random square patch per image to lo (all channels); its side is 1/8, 2/8, 3/8,
    4/8, 5/8 of the shorter image side (at least one pixel)."""

    name = "occlusion"
    FRACTION = (0.125, 0.25, 0.375, 0.5, 0.625)

    def side(self, shape: tuple[int, ...], severity: int) -> int:
        """The patch side in pixels for images of ``shape`` at ``severity``."""
        short = min(shape[1], shape[2])
        return max(1, min(short, round(self.FRACTION[severity - 1] * short)))

    def _corrupt(
        self, x: Array, severity: int, rng: np.random.Generator, lo: float, hi: float
    ) -> Array:
        side = self.side(x.shape, severity)
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        tops = rng.integers(0, h - side + 1, size=n)
        lefts = rng.integers(0, w - side + 1, size=n)
        for i in range(n):
            x[i, tops[i] : tops[i] + side, lefts[i] : lefts[i] + side] = lo
        return x
