"""Data Pipeline descriptor: how raw inputs become model inputs, in development and production."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mlrails.descriptors.common import (
    ComponentMapping,
    Descriptor,
    DescriptorKind,
    DescriptorModel,
    Documentation,
    ItemSpecification,
    ItemType,
    ProcessingStep,
)

ErrorType = Literal["Log to console", "Log to file", "Return error code", "Return none"]


class InputErrorHandling(DescriptorModel):
    """What the pipeline does with an incorrect value of an input item."""

    error_type: ErrorType = Field(
        description="Type of error that will be produced when data item is an incorrect value"
    )
    error_code_value: int = Field(description="Specifies the value of the error code, if returned")


class PipelineInput(DescriptorModel):
    """One input item of the data pipeline and the upstream item it comes from."""

    item_name: str = Field(description="Data item name")
    item_description: str = Field(description="Short data item description")
    item_type: ItemType = Field(description="Data item type, (e.g., integer, float, string, image)")
    item_specification: ItemSpecification = Field(
        description="Specific specification for the data type of the item"
    )
    error_handling: InputErrorHandling = Field(
        description=(
            "Specification of how error will be handled when data item is an incorrect value"
        )
    )
    component_mapping: ComponentMapping = Field(
        description=(
            "How data pipeline inputs map to upstream components in production system, as "
            "defined in the Development Environment descriptor"
        )
    )


class PipelineTestCase(DescriptorModel):
    """A test case for the pipeline inputs (success or failure case)."""

    test_case_name: str = Field(description="Test case name")
    tested_property: str = Field(
        description=(
            "Property tested in test case, such as correct input values or behavior for out of "
            "distribution values"
        )
    )
    file: str = Field(description="File or folder containing test case")


class DataPipeline(Descriptor):
    """Schema for the Data Pipeline that prepares data for processing by the Trained Model. The
    Data Pipeline component is used during the training, evaluation, and test of the ML model
    during model development. Once complete, the Data Pipeline is used to prepare data for the
    Trained Model in both model integration and model operations."""

    kind: ClassVar[DescriptorKind] = "data_pipeline"
    title: ClassVar[str] = "Data Pipeline"

    pipeline_identifier: str | None = Field(
        default=None, description="Short identifier or name for the pipeline"
    )
    pipeline_version: str = Field(description="Data pipeline version")
    pipeline_description: str = Field(description="High-level description of data pipeline")
    input_spec: list[PipelineInput] = Field(
        min_length=1, description="Specification for data pipeline input"
    )
    test_cases: list[PipelineTestCase] = Field(
        description=(
            "Test cases developed for the data pipeline inputs (both success and failure cases)"
        )
    )
    pipeline_steps: list[ProcessingStep] = Field(
        description="Steps followed to prepare data for Trained Model consumption"
    )
    pipeline_code: str = Field(description="URI for data pipeline code")
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
