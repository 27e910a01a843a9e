"""Production Environment descriptor: what the serving environment provides and can capture."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from mlrails.descriptors.common import (
    ComputingResources,
    Descriptor,
    DescriptorKind,
    DescriptorModel,
    Documentation,
    InferenceTime,
)


class MetricImplementation(DescriptorModel):
    """A metric the production environment is ready to capture, and how."""

    metric: str = Field(
        description=(
            "Metric (for algorithm and business metrics: one defined in the Trained Model "
            "descriptor)"
        )
    )
    implementation: str = Field(description="Implementation details")


class FeedbackImplementation(DescriptorModel):
    """User or system feedback the production environment is ready to capture, and how."""

    feedback: str = Field(description="Feedback")
    implementation: str = Field(description="Implementation details")


class LogImplementation(DescriptorModel):
    """A log the production environment is ready to capture, and how."""

    log: str = Field(description="Logged data")
    implementation: str = Field(description="Implementation details")


class ProductionEnvironment(Descriptor):
    """Schema for the Production Environment ML-enabled system element, which comprises
    attributes such as implemented metrics, as well as available computing resources, to
    understand its readiness for properly serving the trained model."""

    kind: ClassVar[DescriptorKind] = "production_environment"
    title: ClassVar[str] = "Production Environment"

    required_inference_time: InferenceTime = Field(
        description=("Required model inference time (e.g., time for the model to produce a result)")
    )
    computing_resources: ComputingResources = Field(
        description=(
            "Computing resources available in the production environment, such as CPU, GPU, "
            "memory and storage"
        )
    )
    deployment_platform: str | None = Field(
        default=None,
        description=(
            "Platform on which the trained model will be deployed (e.g., local server, cloud, "
            "embedded platform)"
        ),
    )
    deployment_mechanism: str | None = Field(
        default=None,
        description=(
            "Deployment mechanism for the capability provided by the trained model (e.g., API, "
            "user-facing, output to system component)"
        ),
    )
    algorithm_metrics: list[MetricImplementation] = Field(
        description=(
            "Algorithm metrics that the production environment is ready to capture (map to "
            "metrics defined in the Trained Model descriptor)"
        )
    )
    business_metrics: list[MetricImplementation] = Field(
        description=(
            "Business metrics that the production environment is ready to capture (map to "
            "metrics defined in the Trained Model descriptor)"
        )
    )
    other_metrics: list[MetricImplementation] = Field(
        description=(
            "Other system and model metrics that production environment is ready to capture and "
            "have not been defined for the Trained Model"
        )
    )
    user_system_feedback: list[FeedbackImplementation] = Field(
        description=(
            "User and system feedback that the production environment is ready to capture "
            "(mapping to Trained Model feedback)"
        )
    )
    model_logs: list[LogImplementation] = Field(
        description=(
            "Logs for troubleshooting and retraining that the production environment is ready "
            "to capture (mapping to Trained Model log data requirements)"
        )
    )
    other_logs: list[LogImplementation] = Field(
        description=(
            "Other system and model logs that the production environment is ready to capture"
        )
    )
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")
