"""Production Data descriptor: what the deployed model sees: sources, rates, statistics."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from mlrails.descriptors.common import DescriptorKind, DescriptorModel, Documentation, LabelShare
from mlrails.descriptors.statistics import DescriptorWithStatistics, FieldStatistics


class ProductionDataField(DescriptorModel):
    """One field (column) of the production data."""

    field_name: str = Field(description="Field (column) name")
    field_description: str = Field(description="Short field description")
    field_type: str = Field(description="Field type, (e.g., number, string, boolean, date)")
    expected_values: str = Field(
        description="Expected values for field (e.g., any, range, enumeration)"
    )


class ProductionData(DescriptorWithStatistics):
    """Schema for the Production Data ML-enabled system element, which comprises attributes such
    as data statistics, data sources, and data rates, which are important for making decisions
    related to model development."""

    kind: ClassVar[DescriptorKind] = "production_data"
    title: ClassVar[str] = "Production Data"

    data_sources: str = Field(
        description="Sources for production data for the deployed ML component"
    )
    data_rates: str = Field(
        description="Rates at which production data feeds into the deployed ML component"
    )
    data_schema: list[ProductionDataField] = Field(
        alias="schema",
        description=(
            "Schema (syntax and semantics) of the data that constitutes the input for the "
            "deployed ML component"
        ),
    )
    statistics: list[FieldStatistics] = Field(
        min_length=1, description="Production data statistics (if known)"
    )
    distribution: list[LabelShare] = Field(description="Data distribution (if known)")
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
