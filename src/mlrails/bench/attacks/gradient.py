"""White-box attacks: FGSM and PGD, our own vectorised PyTorch implementation.

Gradients of the cross-entropy of the true label through a
:class:`~mlrails.models.torch.TorchAdapter`'s module, in units of each feature's standard
deviation (see :mod:`mlrails.bench.attacks.base`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from mlrails.bench.attacks.base import (
    Access,
    Array,
    Attack,
    AttackError,
    available_attacks,
    float_param,
    int_param,
    register_attack,
)
from mlrails.models.base import ModelAdapter

if TYPE_CHECKING:
    import torch

    from mlrails.models.torch import TorchAdapter


class _GradientAttack(Attack):
    """Shared gradient machinery: cross-entropy of the true label through the module."""

    access: ClassVar[Access] = "white-box"

    def _check_access(self, adapter: ModelAdapter) -> None:
        from mlrails.models.torch import TorchAdapter

        if not isinstance(adapter, TorchAdapter):
            raise AttackError(
                f"{self.name} needs a differentiable PyTorch model (a TorchAdapter); the model "
                f"is {adapter.info().model_class} — use a black-box attack: "
                + ", ".join(available_attacks("black-box"))
            )

    @property
    def _torch(self) -> TorchAdapter:
        adapter: TorchAdapter = self.adapter_  # type: ignore[assignment]
        return adapter

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Summed cross-entropy of the true labels (sum, so each row's gradient is its own)."""
        import torch
        import torch.nn.functional as F

        if out.ndim != 2:
            raise AttackError(
                f"{self.name}: a classifier module must return (n, K) outputs, got shape "
                f"{tuple(out.shape)}"
            )
        if self._torch.output == "logits":
            if out.shape[1] == 1:
                return F.binary_cross_entropy_with_logits(
                    out[:, 0], y.to(out.dtype), reduction="sum"
                )
            return F.cross_entropy(out, y, reduction="sum")
        tiny = torch.finfo(out.dtype).tiny
        if out.shape[1] == 1:
            p1 = out[:, 0].clamp(tiny, 1.0)
            p0 = (1.0 - out[:, 0]).clamp(tiny, 1.0)
            yf = y.to(out.dtype)
            return -(yf * torch.log(p1) + (1.0 - yf) * torch.log(p0)).sum()
        return F.nll_loss(torch.log(out.clamp_min(tiny)), y, reduction="sum")

    def _gradient(
        self, x0: torch.Tensor, scale: torch.Tensor, delta: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """Gradient of the loss w.r.t. the standardised displacement ``delta``."""
        import torch

        module = self._torch.module
        if module.training:
            module.eval()
        d = delta.detach().requires_grad_(True)
        with torch.enable_grad():
            out = module((x0 + d * scale).to(torch.float32))
            if isinstance(out, tuple | list):
                out = out[0]
            try:
                (grad,) = torch.autograd.grad(self._loss(out.float(), y), d)
            except RuntimeError as exc:
                raise AttackError(
                    f"{self.name}: the module's output is not differentiable w.r.t. its "
                    f"input ({exc})"
                ) from None
        return grad

    def _delta(self, x: Array, y: NDArray[np.intp], eps: float, seed: int) -> Array:
        import torch

        adapter = self._torch
        device = adapter.device
        low, high = self._limits(x, eps)
        start = np.clip(self._start(x.shape, eps, seed), low, high)
        scale = torch.from_numpy(self.scale_).to(device)
        out = np.empty_like(x)
        for lo in range(0, len(x), adapter.batch_size):
            rows = slice(lo, lo + adapter.batch_size)
            x0, d, lower, upper = (
                torch.from_numpy(a[rows]).to(device) for a in (x, start, low, high)
            )
            yt = torch.from_numpy(y[rows].astype(np.int64)).to(device)
            out[rows] = self._steps(x0, scale, d, yt, eps, (lower, upper)).detach().cpu().numpy()
        return out

    def _start(self, shape: tuple[int, ...], eps: float, seed: int) -> Array:
        """The starting displacement (zero; PGD: seeded uniform in the ball)."""
        return np.zeros(shape)

    @abstractmethod
    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        """The final displacement of one chunk of rows, within ``limits`` (lower, upper)."""


@register_attack
class FGSM(_GradientAttack):
    """Fast gradient sign method (Goodfellow et al. 2015): one L∞ step of size ε along the
    sign of the loss gradient, ``x + eps * std * sign(∇x loss)``; deterministic."""

    name = "fgsm"

    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        return (eps * self._gradient(x0, scale, delta, y).sign()).clamp(*limits)


@register_attack
class PGD(_GradientAttack):
    """Projected gradient descent (Madry et al. 2018), L∞, untargeted: ``steps`` signed
    gradient steps of ``step_size`` std units (default ``2.5 * eps / steps``), each followed by
    projection onto the ε-ball, from a random start drawn uniformly in the ball from ``seed``
    (``random_start=False``: from the clean row)."""

    name = "pgd"
    defaults: ClassVar[Mapping[str, Any]] = {"steps": 10, "step_size": None, "random_start": True}

    def _check_params(self, p: dict[str, Any]) -> None:
        int_param(self.name, p, "steps", 1)
        float_param(self.name, p, "step_size", optional=True)
        if not isinstance(p["random_start"], bool):
            raise AttackError(f"{self.name}: random_start must be True or False")

    def _start(self, shape: tuple[int, ...], eps: float, seed: int) -> Array:
        if not self._p["random_start"]:
            return np.zeros(shape)
        import torch

        gen = torch.Generator(device="cpu").manual_seed(seed)
        u = torch.rand(shape, generator=gen, dtype=torch.float64).numpy()
        return np.asarray((2.0 * u - 1.0) * eps, dtype=np.float64)

    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        steps = int(self._p["steps"])
        size = self._p["step_size"]
        alpha = 2.5 * eps / steps if size is None else float(size)
        for _ in range(steps):
            grad = self._gradient(x0, scale, delta, y)
            delta = (delta + alpha * grad.sign()).clamp(*limits)
        return delta
