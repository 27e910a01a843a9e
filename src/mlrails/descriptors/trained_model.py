"""Trained Model descriptor: the model's components, inputs/outputs, evaluation and run-time needs.

The v1.2 schema lists ``error_handling`` as required but never defines it (a known defect of the
schema). mlrails always writes it, as free text describing how the model reports errors (``""``
when unknown); on reading, any JSON value is accepted and kept, and a missing one becomes ``""``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field, JsonValue

from mlrails.descriptors.common import (
    ComponentMapping,
    ComputingResources,
    Descriptor,
    DescriptorKind,
    DescriptorModel,
    Documentation,
    InferenceTime,
    ItemSpecification,
    ItemType,
)

Algorithm = Literal[
    "Recurring Neural Network (RNN)",
    "Convolutional Neural Network (CNN)",
    "Gradient Boosting Tree (GBT)",
    "Linear Regression",
    "Bayesian Network",
    "Random Forest",
    "Support Vector Machine (SVM)",
    "Logistic Regression",
    "K-Nearest Neighbors (KNN)",
    "Naive Bayes Classifier",
    "Other",
]
PerformanceMetric = Literal[
    "Accuracy",
    "False Positive Rate",
    "False Negative Rate",
    "Positive Predictive Value (PPV)",
    "Negative Predictive Value (NPV)",
    "F1 Score",
    "Other",
]
ThresholdOperator = Literal[
    "greater than",
    "greater or equal than",
    "less than",
    "less or equal than",
    "equal to",
    "different than",
]


class LearningAlgorithm(DescriptorModel):
    """Learning algorithm of a model component; ``other_algorithm`` names one not listed."""

    algorithm: Algorithm = Field(description="Learning algorithm")
    other_algorithm: str = Field(
        description="Name of learning algorithm if previous field is Other"
    )


class HyperParameter(DescriptorModel):
    """A non-default hyper-parameter, value as text."""

    parameter_name: str = Field(description="Hyperparameter name")
    parameter_value: str = Field(description="Hyperparameter value")


class ModelComponent(DescriptorModel):
    """One component of the trained model (several for an ensemble)."""

    learning_algorithm: LearningAlgorithm = Field(
        description="Implemented learning algorithm/model type such as RNN, CNN, GBT, LR, etc."
    )
    hyper_parameters: list[HyperParameter] = Field(
        description="Non-default hyper-parameters for model component"
    )
    programming_languages: list[str] = Field(
        min_length=1,
        description="Programming languages used in model component development",
    )


class OutputItem(DescriptorModel):
    """One output item of the model and the downstream item it feeds."""

    item_name: str = Field(description="Data item name")
    item_description: str = Field(description="Data item description")
    item_type: ItemType = Field(description="Data item type, (e.g., integer, float, string, image)")
    item_specification: ItemSpecification | None = Field(
        default=None, description="Specific specification for the data type of the item"
    )
    component_mapping: ComponentMapping = Field(
        description=(
            "How trained model outputs map to downstream components in production system, as "
            "defined in the Development Environment descriptor"
        )
    )


class EvaluationDataset(DescriptorModel):
    """The held-out split used for model evaluation."""

    name: str = Field(description="Name of evaluation dataset")
    holdout_percentage: float = Field(
        ge=0, le=100, description="Percentage of data held out for evaluation"
    )
    seed: int = Field(description="Seed for random number generation (if applicable)")
    algorithm: str = Field(description="Name of algorithm being used for data split")
    file: str = Field(
        description="File or folder containing evaluation dataset (if it is being saved) (URI)"
    )


class MetricResult(DescriptorModel):
    """A performance measure and its result; ``other_metric`` names one not listed."""

    metric: PerformanceMetric = Field(description="Evaluation or test metric")
    other_metric: str = Field(description="Name of metric if previous field is Other")
    result: float = Field(description="Result obtained for metric")


class TestDataset(DescriptorModel):
    """A test dataset (test or integration test) and a summary of the results on it."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    name: str = Field(description="Name of test dataset")
    test_results: str = Field(
        description="High-level description of the results from running trained model with it"
    )
    file: str = Field(description="File or folder containing test dataset and results (URI)")


class MonitoredMetric(DescriptorModel):
    """A metric to capture at run time, its alert threshold and the goal it serves."""

    metric: str = Field(description="Metric")
    operator: ThresholdOperator = Field(description="Operator for threshold")
    threshold: float = Field(description="Threshold for notification")
    goal_mapping: str = Field(description="Identifier of mapped goal in System Context descriptor")


class Feedback(DescriptorModel):
    """User or system feedback to capture at run time."""

    short_name: str = Field(description="Short name for feedback")
    details: str = Field(description="Details of required user and system feedback")


class LogData(DescriptorModel):
    """Data to log at run time, its format and how much history to keep."""

    log: str = Field(description="Data to log")
    log_data_format: str = Field(description="Preferred log data format")
    history: str = Field(
        description="How much log history is necessary for troubleshooting and retraining"
    )


class TrainedModel(Descriptor):
    """Schema for the Trained Model ML-enabled system element, which comprises evaluation data,
    API/Specifications, evaluation metrics, system configuration requirements, and other trained
    model attributes that are important for proper integration, deployment, and monitoring."""

    kind: ClassVar[DescriptorKind] = "trained_model"
    title: ClassVar[str] = "Trained Model"

    model_name: str = Field(description="Trained model name")
    model_version: str = Field(description="Trained model version")
    model_description: str = Field(description="Description of trained model")
    training_date: date = Field(description="Date on which model was trained")
    ensemble: bool = Field(description="Indication of whether the trained model is an ensemble")
    model_components: list[ModelComponent] = Field(
        min_length=1, description="Model components in the trained model"
    )
    model_composition_details: str = Field(
        description=(
            "If the model is an ensemble, details on how the model components fit together and "
            "how the output is generated"
        )
    )
    ml_frameworks: list[str] = Field(
        min_length=1, description="ML frameworks used for model development and training"
    )
    data_pipeline_identifier: str = Field(
        description=(
            "Data pipeline identifier as defined in the corresponding Data Pipeline descriptor, "
            "which includes the definition of model inputs (links to Data Pipeline)"
        )
    )
    training_data_identifier: str = Field(
        description=(
            "Training data identifier as defined in the corresponding Training Data descriptor "
            "(links to Training Data)"
        )
    )
    output_spec: list[OutputItem] = Field(
        min_length=1, description="Specification for model output"
    )
    post_processing: bool = Field(
        description="Indication of whether the there is post-processing done on the model output"
    )
    post_processing_process: list[str] = Field(
        description="Steps followed to post-process model output"
    )
    final_output_spec: list[OutputItem] = Field(
        description=(
            "Final specification for trained model output (only required if there is "
            "post-processing of model output)"
        )
    )
    error_handling: JsonValue = Field(
        default="",
        description=(
            "How the trained model reports errors (required but left undefined by the v1.2 "
            "schema; mlrails writes free text)"
        ),
    )
    evaluation_dataset: EvaluationDataset = Field(
        description="Dataset used for model evaluation (should be a split of the training dataset)"
    )
    evaluation_metrics: list[MetricResult] = Field(
        min_length=1,
        description=(
            "Model performance measures obtained with evaluation dataset (e.g., FPR, FNR, accuracy)"
        ),
    )
    test_dataset: TestDataset = Field(
        description="Test dataset (should be a split of the training dataset and used only once)"
    )
    integration_test_dataset: TestDataset = Field(
        description=(
            "Additional test dataset for integration testing in case of post-processing of "
            "model output"
        )
    )
    test_metrics: list[MetricResult] = Field(
        min_length=1,
        description=(
            "Model performance measures obtained with test dataset (e.g., FPR, FNR, accuracy)"
        ),
    )
    model_output_interpretation: str = Field(
        description=(
            "Information necessary to interpret model output (i.e., inference, prediction)  "
            "including  meaning, uncertainty, confidence, etc."
        )
    )
    default_model_output: str = Field(
        description=(
            "Output returned by the trained model when the models fails to run or produce a result"
        )
    )
    algorithm_metrics: list[MonitoredMetric] = Field(
        min_length=1,
        description=(
            "Algorithm metrics to capture at run time to detect changes in prediction behavior "
            "and inform model troubleshooting and retraining."
        ),
    )
    business_metrics: list[MonitoredMetric] = Field(
        min_length=1,
        description=(
            "Business metrics to capture at run time for model troubleshooting and retraining, "
            "or problem reevaluation."
        ),
    )
    user_system_feedback: list[Feedback] = Field(
        min_length=1,
        description=(
            "Additional user and system feedback to capture at run time for model "
            "troubleshooting and retraining"
        ),
    )
    log_data: list[LogData] = Field(
        min_length=1,
        description=(
            "Data to log at run time for model troubleshooting and retraining, such as all "
            "input-output pairs, unexpected inputs, etc."
        ),
    )
    data_buffering_reqs: str = Field(
        description=(
            "Data buffering or time window requirements that would indicate to a developer that "
            "data has to be delivered in 'chunks' instead of streamed (if applicable)"
        )
    )
    decisions_assumptions: list[str] = Field(
        min_length=1,
        description=(
            "Decisions, assumptions, limitations and constraints related to the trained model "
            "that will have effect on its integration and deployment"
        ),
    )
    computing_resource_reqs: ComputingResources = Field(
        description=(
            "Computing resources required to serve the model, such as CPU, GPU, memory and storage"
        )
    )
    inference_time: InferenceTime = Field(
        description="Observed inference time based on computing resource requirements"
    )
    system_dependencies: list[str] = Field(
        min_length=1,
        description=(
            "System dependencies required for trained model to execute, such as libraries, "
            "tools, configuration scripts, and other dependencies"
        ),
    )
    model_training_code: str = Field(description="URI for model training code")
    trained_model_code: str = Field(description="URI for trained model code")
    documentation: list[Documentation] = Field(description="Links to any supporting documentation")

    def to_document(self) -> dict[str, Any]:
        """The v1.2 document; ``error_handling`` is always present (the schema requires it)."""
        document = super().to_document()
        document["error_handling"] = self.error_handling
        return document
