"""Pieces shared by the eight descriptors: kinds, format versions, base models, sub-objects.

Field names are exactly those of the public v1.2 JSON schemas and every ``description`` is the
schema's own text, so a user interface can explain each field. Where the v1.2 schemas repeat one
object inline under several parents (documentation links, computing resources, processing steps),
mlrails defines it once here.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION: Literal["1.2"] = "1.2"
"""The descriptor format version mlrails writes."""

READABLE_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2")
"""Versions mlrails reads; 1.0 and 1.1 are upgraded to 1.2 on import (see ``io``)."""

DescriptorKind = Literal[
    "system_context",
    "raw_data",
    "data_pipeline",
    "training_data",
    "trained_model",
    "development_environment",
    "production_environment",
    "production_data",
]

DESCRIPTOR_KINDS: tuple[DescriptorKind, ...] = (
    "system_context",
    "raw_data",
    "data_pipeline",
    "training_data",
    "trained_model",
    "development_environment",
    "production_environment",
    "production_data",
)
"""The eight ML-enabled-system elements, in the order the format lists them."""


class DescriptorModel(BaseModel):
    """Base of every object in a descriptor: unknown fields refused, no NaN/Infinity numbers.

    ``extra="forbid"`` keeps typos out of documents built in Python; when *reading* a file,
    unknown fields are dropped with a warning instead (see ``mlrails.descriptors.io``).
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        protected_namespaces=(),
    )


class Descriptor(DescriptorModel):
    """Base of the eight descriptors: one JSON document each, with a ``version`` field."""

    kind: ClassVar[DescriptorKind]
    title: ClassVar[str]

    version: Literal["1.2"] = Field(
        default=FORMAT_VERSION, description="Version of the descriptor format (always 1.2)"
    )

    def to_document(self) -> dict[str, Any]:
        """The descriptor as a JSON-ready dict in the v1.2 format (absent options left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Documentation(DescriptorModel):
    """A link to supporting documentation (``documentation[]`` in every descriptor)."""

    description: str = Field(description="Description of the document")
    location: str = Field(description="Location of document (URI)")


class ComputingResources(DescriptorModel):
    """CPU, GPU, memory and storage: available (environments) or required (trained model).

    The v1.2 development-environment schema swaps the ``gpu``/``cpu`` descriptions and describes
    ``storage`` as memory; the descriptions here say what the fields hold.
    """

    gpu: int = Field(description="Number of GPUs")
    cpu: int = Field(description="Number of CPUs")
    memory: float = Field(description="Amount of memory (in GB)")
    storage: float = Field(description="Amount of storage (in GB)")


TimeUnit = Literal["Milliseconds", "Seconds", "Minutes", "Hours"]


class InferenceTime(DescriptorModel):
    """An inference time: observed (trained model) or required (production environment)."""

    time: int = Field(description="Inference time")
    unit: TimeUnit = Field(description="Unit of inference time")


class ProcessingStep(DescriptorModel):
    """One data-processing step (data pipeline steps, training-data preparation)."""

    data_processing_step: str = Field(description="Short name for data processing step")
    data_processing_detail: str = Field(description="Details of what takes place in this step")


class LabelShare(DescriptorModel):
    """Share of instances carrying one label (raw-data and production-data distributions)."""

    label: str = Field(description="Label")
    percentage: float = Field(
        ge=0, le=100, description="Percentage of instances associated to label"
    )


ItemType = Literal["Integer", "Float", "String", "Image", "Other"]


class ItemSpecification(DescriptorModel):
    """Type-specific constraints on a data item (pipeline input, model output).

    The v1.2 format requires every constraint whatever the item type; :meth:`for_number` fills the
    ones that do not apply with neutral values.
    """

    other_value: str = Field(
        description="Value for type other (e.g., boolean, any, range, enumeration)"
    )
    min_value: float = Field(description="Mininum numeric value expected for data item")
    max_value: float = Field(description="Maximum numeric value expected for data item")
    resolution_x: int = Field(description="X value for the resolution of image input for data item")
    resolution_y: int = Field(description="Y value for the resolution of image input for data item")
    channels: int | None = Field(
        default=None,
        description="Number of channels present in image input for data item (typically 1 or 3)",
    )
    image_format: Literal["", "JPG", "PNG"] | None = Field(
        default=None, description="Format that image is stored in, if it is saved to a file"
    )
    min_length: int = Field(description="Minimum length of string expected for data item")
    max_length: int = Field(description="Maximum length of string expected for data item")
    empty: bool = Field(description="Indication of whether empty strings are valid for data item")
    numeric: bool = Field(
        description="Indication of whether numeric characters are valid in string for data item"
    )
    slashes: bool = Field(
        description="Indication of whether slashes are valid in string for data item"
    )
    spaces: bool = Field(
        description="Indication of whether spaces are valid in string for data item"
    )
    special: bool = Field(
        description=(
            "Indication of whether other special characters are valid in string for data item"
        )
    )

    @classmethod
    def for_number(cls, min_value: float, max_value: float) -> ItemSpecification:
        """Specification of a numeric item; image and string constraints set to 0/False."""
        return cls(
            other_value="",
            min_value=min_value,
            max_value=max_value,
            resolution_x=0,
            resolution_y=0,
            min_length=0,
            max_length=0,
            empty=False,
            numeric=True,
            slashes=False,
            spaces=False,
            special=False,
        )


class ComponentMapping(DescriptorModel):
    """Link from a data item to an item of an upstream/downstream component.

    The component is one defined in the Development Environment descriptor.
    """

    component: str = Field(
        description=(
            "Mapping to upstream/downstream component in production system, "
            "as defined in the Development Environment descriptor"
        )
    )
    data_item: str = Field(
        description="Data item name in upstream/downstream component in production system"
    )
