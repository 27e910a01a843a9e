"""The input contract: what the model was trained on, as a typed, JSON-serialisable object."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

FieldKind = Literal["numeric", "integer", "boolean", "categorical"]


class FieldSpec(BaseModel):
    """One column of a table: its kind, range or vocabulary and missing-value behaviour."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: FieldKind
    dtype: str = Field(description="dtype seen in the training data")
    minimum: float | None = Field(default=None, description="smallest training value")
    maximum: float | None = Field(default=None, description="largest training value")
    lower: float | None = Field(
        default=None, description="smallest accepted value (tolerance); None: unbounded"
    )
    upper: float | None = Field(
        default=None, description="largest accepted value (tolerance); None: unbounded"
    )
    categories: list[str] | None = None
    nullable: bool = False
    missing_rate: float = 0.0


class ImageSpec(BaseModel):
    """Image-like (or any fixed-shape tensor) input: per-sample shape, dtype and value range."""

    model_config = ConfigDict(extra="forbid")

    shape: list[int]
    dtype: str
    minimum: float
    maximum: float
    lower: float
    upper: float


class _Cache(dict[str, Any]):
    """Derived arrays (validation bounds) kept beside a contract; never part of equality."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Cache)

    __hash__ = None  # type: ignore[assignment]


class InputContract(BaseModel):
    """Everything a caller must respect for the model's answer to mean anything."""

    model_config = ConfigDict(extra="forbid")

    layout: Literal["frame", "array", "image"]
    fields: list[FieldSpec] = Field(default_factory=list)
    image: ImageSpec | None = None
    tolerance: float = Field(
        3.0,
        description="accepted margin beyond the training min/max, in units of the training "
        "spread max(std, range/6) (older contracts: a share of the range; their stored "
        "bounds are used as they are)",
    )
    allow_extra_columns: bool = False
    n_training_rows: int = 0
    _cache: _Cache = PrivateAttr(default_factory=lambda: _Cache())

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)
