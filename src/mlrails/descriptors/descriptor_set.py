"""A directory of descriptors, one file per element (``<kind>.json``), read without stopping.

A later check (``mlrails mismatch``) needs to know what it *can* check: so every file is read,
a file that cannot be read is recorded with its error instead of aborting, and absent elements
are listed as missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from mlrails.descriptors.common import DESCRIPTOR_KINDS, Descriptor, DescriptorKind
from mlrails.descriptors.data_pipeline import DataPipeline
from mlrails.descriptors.development_environment import DevelopmentEnvironment
from mlrails.descriptors.errors import DescriptorError, DescriptorIssue
from mlrails.descriptors.io import load_descriptor, write_descriptor
from mlrails.descriptors.production_data import ProductionData
from mlrails.descriptors.production_environment import ProductionEnvironment
from mlrails.descriptors.raw_data import RawData
from mlrails.descriptors.system_context import SystemContext
from mlrails.descriptors.trained_model import TrainedModel
from mlrails.descriptors.training_data import TrainingData

D = TypeVar("D", bound=Descriptor)


@dataclass
class DescriptorSet:
    """The descriptors found in a directory, the files that failed, and what is missing."""

    directory: Path
    descriptors: dict[DescriptorKind, Descriptor] = field(default_factory=dict)
    errors: dict[DescriptorKind, DescriptorError] = field(default_factory=dict)
    warnings: list[DescriptorIssue] = field(default_factory=list)
    missing: list[DescriptorKind] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when all eight descriptors were read without error."""
        return len(self.descriptors) == len(DESCRIPTOR_KINDS)

    def get(self, cls: type[D]) -> D | None:
        """The descriptor of type ``cls``, or ``None`` when missing or unreadable."""
        descriptor = self.descriptors.get(cls.kind)
        return descriptor if isinstance(descriptor, cls) else None

    def problems(self) -> list[DescriptorIssue]:
        """Every issue of every file that could not be read."""
        return [issue for error in self.errors.values() for issue in error.issues]

    @property
    def system_context(self) -> SystemContext | None:
        return self.get(SystemContext)

    @property
    def raw_data(self) -> RawData | None:
        return self.get(RawData)

    @property
    def data_pipeline(self) -> DataPipeline | None:
        return self.get(DataPipeline)

    @property
    def training_data(self) -> TrainingData | None:
        return self.get(TrainingData)

    @property
    def trained_model(self) -> TrainedModel | None:
        return self.get(TrainedModel)

    @property
    def development_environment(self) -> DevelopmentEnvironment | None:
        return self.get(DevelopmentEnvironment)

    @property
    def production_environment(self) -> ProductionEnvironment | None:
        return self.get(ProductionEnvironment)

    @property
    def production_data(self) -> ProductionData | None:
        return self.get(ProductionData)


def descriptor_filename(kind: DescriptorKind) -> str:
    """The file name of a kind inside a descriptor directory (``trained_model.json``)."""
    return f"{kind}.json"


def read_descriptor_dir(directory: str | Path) -> DescriptorSet:
    """Read ``<kind>.json`` for each of the eight kinds; errors are collected per file.

    Other ``.json`` files are listed in ``ignored``. Raises :class:`DescriptorError` only when
    ``directory`` is not a readable directory.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DescriptorError.single(str(directory), "$", "not a directory of descriptors")
    result = DescriptorSet(directory)
    expected = {descriptor_filename(k) for k in DESCRIPTOR_KINDS}
    for kind in DESCRIPTOR_KINDS:
        path = directory / descriptor_filename(kind)
        if not path.exists():
            result.missing.append(kind)
            continue
        try:
            loaded = load_descriptor(path, kind=kind)
        except DescriptorError as exc:
            result.errors[kind] = exc
            continue
        result.descriptors[kind] = loaded.descriptor
        result.warnings.extend(loaded.warnings)
    result.ignored = sorted(
        p for p in directory.iterdir() if p.suffix.lower() == ".json" and p.name not in expected
    )
    return result


def write_descriptor_dir(descriptors: Iterable[Descriptor], directory: str | Path) -> list[Path]:
    """Write each descriptor to ``<directory>/<kind>.json``; returns the written paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    items = list(descriptors)
    kinds = [d.kind for d in items]
    duplicated = sorted({k for k in kinds if kinds.count(k) > 1})
    if duplicated:
        raise ValueError(f"more than one descriptor of kind {duplicated}")
    return [write_descriptor(d, directory / descriptor_filename(d.kind)) for d in items]
