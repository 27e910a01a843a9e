"""Development Environment descriptor: languages, frameworks, neighbouring components, resources."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from mlrails.descriptors.common import (
    ComputingResources,
    Descriptor,
    DescriptorKind,
    DescriptorModel,
    Documentation,
)


class ComponentItem(DescriptorModel):
    """One data item exchanged with an upstream or downstream component."""

    item_name: str = Field(description="Data item name")
    item_description: str = Field(description="Short data item description")
    item_type: str = Field(description="Data item type, e.g. number, string, boolean, date")
    expected_values: str = Field(
        description="Expected values for data item (e.g., any, range, enumeration)"
    )


class UpstreamComponent(DescriptorModel):
    """A component that feeds data into the ML component, and what it outputs."""

    component_name: str = Field(description="Component name")
    output_spec: list[ComponentItem] = Field(
        min_length=1,
        description=(
            "Component output specification that determines how data is coming into the ML "
            "component"
        ),
    )
    ml_component: bool = Field(description="Indication of whether it is an ML component or not")


class DownstreamComponent(DescriptorModel):
    """A component that consumes the ML component's output, and what it expects."""

    component_name: str = Field(description="Component name")
    input_spec: list[ComponentItem] = Field(
        min_length=1,
        description=(
            "Component input specification that determines how data is consumed by the "
            "upstream component"
        ),
    )
    ml_component: bool = Field(description="Indication of whether it is an ML component or not")


class Milestone(DescriptorModel):
    """A development or integration milestone."""

    milestone: str = Field(description="Milestone name")
    milestone_date: date = Field(description="Milestone date")


class DevelopmentEnvironment(Descriptor):
    """Schema for the Development Environment ML-enabled system element, which comprises
    attributes such as details for upstream and downstream components, as well as available
    computing resources, which are important for avoiding trained model integration problems."""

    kind: ClassVar[DescriptorKind] = "development_environment"
    title: ClassVar[str] = "Development Environment"

    programming_languages: list[str] = Field(
        min_length=1, description="Programming languages supported in the development environment"
    )
    ml_frameworks: list[str] = Field(
        min_length=1, description="ML frameworks supported by the development environment"
    )
    upstream_components: list[UpstreamComponent] = Field(
        description="Specifications/APIs for how data comes in from upstream components"
    )
    downstream_components: list[DownstreamComponent] = Field(
        description="Specifications/APIs for how data is consumed by downstream components"
    )
    milestones: list[Milestone] = Field(
        description=(
            "Development and integration milestones for integration of trained model into the "
            "larger system"
        )
    )
    computing_resources: ComputingResources = Field(
        description=(
            "Computing resources available in the development environment, such as CPU, GPU, "
            "memory and storage"
        )
    )
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
