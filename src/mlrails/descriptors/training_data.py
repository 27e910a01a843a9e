"""Training Data descriptor: the dataset the model was trained on, its statistics and lineage."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from mlrails.descriptors.common import (
    DescriptorKind,
    DescriptorModel,
    Documentation,
    ProcessingStep,
)
from mlrails.descriptors.statistics import DescriptorWithStatistics, FieldStatistics


class TrainingDataField(DescriptorModel):
    """One field (column) of the training data and its production counterpart."""

    field_name: str = Field(description="Field name")
    label_field: bool = Field(
        description=(
            "Indication of whether the field is part of the label for the training data (i.e., "
            "likely not in the production data and only relevant for training)"
        )
    )
    field_description: str = Field(description="Short field description")
    field_type: str = Field(description="Field type, e.g. number, string, boolean, date")
    expected_values: str = Field(
        description="Expected values for field (e.g., any, range, enumeration)"
    )
    missing_values: str = Field(description="How to interpret missing or null values")
    mapping_production_data: str = Field(
        description="Mappping to corresponding field in production data"
    )


class TrainingLabelShare(DescriptorModel):
    """Share of training instances carrying one label, and the matching production label."""

    label: str = Field(description="Label")
    percentage: float = Field(
        ge=0, le=100, description="Percentage of instances associated to label"
    )
    mapping_production_data: str = Field(
        description="Mappping to corresponding label in production data"
    )


class TrainingData(DescriptorWithStatistics):
    """Schema for the Training Data ML-enabled system element, which comprises attributes such as
    data statistics, data distribution, and data preparation code, which are important for model
    integration and evaluation, as well as reproducibility."""

    kind: ClassVar[DescriptorKind] = "training_data"
    title: ClassVar[str] = "Training Data"

    dataset_identifier: str = Field(description="Dataset identifier (linked to Trained Model)")
    dataset_name: str = Field(description="Dataset name")
    dataset_version: str = Field(description="Dataset version")
    dataset_description: str = Field(description="Description of training dataset")
    raw_data_identifier: str = Field(
        description=(
            "Identifier of raw dataset that training data is derived from (linked to Raw Data)"
        )
    )
    data_schema: list[TrainingDataField] = Field(
        alias="schema",
        description=(
            "Description of data elements (rows) within each data instance, including field "
            "(column) names, description, values, and meaning of missing values"
        ),
    )
    statistics: list[FieldStatistics] = Field(min_length=1, description="Training data statistics")
    distribution: list[TrainingLabelShare] = Field(description="Data distribution (if applicable)")
    preparation_process: list[ProcessingStep] = Field(
        description=(
            "Steps followed to transform raw data into training data, (e.g., pre-processing, "
            "cleaning, augmentation)"
        )
    )
    preparation_code: str = Field(description="URI for data preparation code")
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
