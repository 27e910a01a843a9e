"""Raw Data descriptor: the data from which training data is derived, its sources and rights."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from mlrails.descriptors.common import (
    Descriptor,
    DescriptorKind,
    DescriptorModel,
    Documentation,
    LabelShare,
)

DataSourceKind = Literal[
    "Enterprise Data", "Public Data Source", "Synthetic Data", "Simulated Data", "Other"
]


class DataSource(DescriptorModel):
    """Where raw data comes from; ``other_source`` names it when ``data_source`` is ``Other``."""

    data_source: DataSourceKind = Field(
        description=(
            "Data source for raw data, such as enterprise, public, simulated, synthetic, etc."
        )
    )
    other_source: str = Field(description="Data source if previous field is Other")


class RawDataField(DescriptorModel):
    """One field of a raw-data instance, with how to read missing and special values."""

    field_name: str = Field(description="Field name")
    field_description: str = Field(description="Short field description")
    field_type: str = Field(description="Field type, (e.g., number, string, boolean, date)")
    expected_values: str = Field(
        description="Expected values for field (e.g., any, range, enumeration)"
    )
    interpret_missing: str = Field(
        description="How to interpret missing values (e.g., null, empty string)"
    )
    interpret_special: str = Field(description="How to interpret special values (e.g., 999, N/A)")


class RawDataMetadata(DescriptorModel):
    """When and where raw data was collected, and its known issues."""

    collection_date: date = Field(description="When raw data was collected")
    geographic_location: str = Field(
        description="Geographic location associated to raw data (if applicable)"
    )
    timeframe: str = Field(
        description="Timeframe for collected data (i.e., start date to end date) (if applicable)"
    )
    known_issues: str = Field(
        description="Known errors, source of noise, or redundancies (if applicable)"
    )


class RawData(Descriptor):
    """Schema for the Raw Data ML-enabled system element, which describes the raw data from
    which training data is derived."""

    kind: ClassVar[DescriptorKind] = "raw_data"
    title: ClassVar[str] = "Raw Data"

    dataset_identifier: str = Field(description="Short identifier for the dataset")
    dataset_version: str = Field(description="Dataset version")
    dataset_name: str = Field(description="Dataset name")
    dataset_description: str = Field(description="Description of dataset")
    data_sources: list[DataSource] = Field(min_length=1, description="Data sources for raw data")
    instance_type: str = Field(
        description=(
            "Type of each instance included in the dataset (e.g., image, temperature reading, "
            "customer record)"
        )
    )
    number_of_instances: int = Field(
        description="Number of instances in dataset (i.e., dataset size)"
    )
    labels_distribution: list[LabelShare] = Field(
        description="Labels and distribution of instances (if applicable)"
    )
    data_schema: list[RawDataField] = Field(
        alias="schema",
        description=(
            "Description of data elements within each data instance, including field names, "
            "description, values, and meaning of missing values"
        ),
    )
    metadata: RawDataMetadata = Field(
        description=(
            "Metadata about raw data, such as when it was collected, distribution, geographic "
            "location and timeframes"
        )
    )
    restrictions: str = Field(
        description=(
            "Indication regarding data sensitivities that would prohibit upload for example to "
            "public cloud environments (if applicable)"
        )
    )
    data_rights: str | None = Field(
        default=None,
        description=(
            "Description of ways in which the data can and cannot be used (if applicable)"
        ),
    )
    data_policies: str | None = Field(
        default=None,
        description=(
            "Indication regarding data sensitivities that would prohibit upload for example to "
            "public cloud environments (if applicable)"
        ),
    )
    anonymization: str = Field(
        description=(
            "Process used to anonymize data due to PII constraints, including mapping to "
            "operational data (if applicable)"
        )
    )
    proxy_data: str = Field(
        description=(
            "Process used to generate or acquire proxy data due to sensitivities, legal, or "
            "policy reasons, including a mapping to operational data (if applicable)"
        )
    )
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
