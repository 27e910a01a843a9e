"""A small, consistent set of the eight descriptors for the mismatch tests (built in Python)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from mlrails.descriptors import (
    DataPipeline,
    Descriptor,
    DescriptorKind,
    DescriptorSet,
    DevelopmentEnvironment,
    FieldStatistics,
    ProductionData,
    ProductionEnvironment,
    RawData,
    SystemContext,
    TrainedModel,
    TrainingData,
)
from mlrails.descriptors.common import (
    ComponentMapping,
    ComputingResources,
    InferenceTime,
    ItemSpecification,
    LabelShare,
)
from mlrails.descriptors.data_pipeline import InputErrorHandling, PipelineInput
from mlrails.descriptors.development_environment import (
    ComponentItem,
    DownstreamComponent,
    UpstreamComponent,
)
from mlrails.descriptors.production_data import ProductionDataField
from mlrails.descriptors.production_environment import (
    FeedbackImplementation,
    LogImplementation,
    MetricImplementation,
)
from mlrails.descriptors.raw_data import DataSource, RawDataField, RawDataMetadata
from mlrails.descriptors.statistics import Histogram
from mlrails.descriptors.system_context import Goal, MlProblemType, Risks
from mlrails.descriptors.trained_model import (
    EvaluationDataset,
    Feedback,
    LearningAlgorithm,
    LogData,
    MetricResult,
    ModelComponent,
    MonitoredMetric,
    OutputItem,
)
from mlrails.descriptors.trained_model import TestDataset as HeldOut
from mlrails.descriptors.training_data import TrainingDataField, TrainingLabelShare

EDGES = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
TRAIN_AGE = [100, 200, 400, 200, 100]
TRAIN_COLOR = {"red": 500, "green": 300, "blue": 200}


def numeric_stats(field: str, counts: list[int], edges: list[float] = EDGES) -> FieldStatistics:
    """Statistics of a numeric field from a histogram (mean/std from bin midpoints)."""
    mid = (np.array(edges[:-1]) + np.array(edges[1:])) / 2
    w = np.array(counts, dtype=float)
    mean = float((mid * w).sum() / w.sum())
    std = float(np.sqrt((w * (mid - mean) ** 2).sum() / (w.sum() - 1)))
    return FieldStatistics(
        field=field,
        count=int(w.sum()),
        missing_rate=0.0,
        mean=mean,
        std=std,
        minimum=edges[0],
        maximum=edges[-1],
        histogram=Histogram(edges=list(edges), counts=list(counts)),
    )


def categorical_stats(field: str, freq: dict[str, int]) -> FieldStatistics:
    return FieldStatistics(
        field=field, count=sum(freq.values()), missing_rate=0.0, frequencies=dict(freq)
    )


def _spec(lo: float, hi: float) -> ItemSpecification:
    return ItemSpecification.for_number(lo, hi)


def system_context() -> SystemContext:
    return SystemContext(
        task="Score loan applications",
        ml_problem_type=MlProblemType(ml_problem="Classification", other_problem=""),
        goals=[Goal(id="G1", goal="Few missed defaults", metric="FNR", baseline="below 5%")],
        available_data="applications 2020-2023",
        usage_context="analysts review high scores",
        data_rights_policies="internal",
        risks=Risks(risk_fp="extra review", risk_fn="loss", risk_other="none"),
        documentation=[],
    )


def raw_data() -> RawData:
    return RawData(
        dataset_identifier="loans-raw",
        dataset_version="1",
        dataset_name="loans",
        dataset_description="raw applications",
        data_sources=[DataSource(data_source="Enterprise Data", other_source="")],
        instance_type="application",
        number_of_instances=1250,
        labels_distribution=[
            LabelShare(label="default", percentage=20.0),
            LabelShare(label="ok", percentage=80.0),
        ],
        schema=[
            RawDataField(
                field_name=n,
                field_description=n,
                field_type=t,
                expected_values="any",
                interpret_missing="null",
                interpret_special="none",
            )
            for n, t in (("age", "integer"), ("color", "string"), ("default", "string"))
        ],
        metadata=RawDataMetadata(
            collection_date=date(2023, 1, 1),
            geographic_location="EU",
            timeframe="2020-2023",
            known_issues="none",
        ),
        restrictions="none",
        anonymization="none",
        proxy_data="none",
        documentation=[],
    )


def data_pipeline() -> DataPipeline:
    def item(name: str, typ: str, spec: ItemSpecification) -> PipelineInput:
        return PipelineInput(
            item_name=name,
            item_description=name,
            item_type=typ,  # type: ignore[arg-type]
            item_specification=spec,
            error_handling=InputErrorHandling(error_type="Return error code", error_code_value=400),
            component_mapping=ComponentMapping(component="crm", data_item=name),
        )

    text = _spec(0, 0).model_copy(update={"numeric": False, "max_length": 10})
    return DataPipeline(
        pipeline_identifier="loans-pipe",
        pipeline_version="1",
        pipeline_description="validate",
        input_spec=[item("age", "Integer", _spec(0, 120)), item("color", "String", text)],
        test_cases=[],
        pipeline_steps=[],
        pipeline_code="https://example.org/p",
        documentation=[],
    )


def training_data() -> TrainingData:
    return TrainingData(
        dataset_identifier="loans-train",
        dataset_name="train",
        dataset_version="1",
        dataset_description="train split",
        raw_data_identifier="loans-raw",
        schema=[
            TrainingDataField(
                field_name=n,
                label_field=lab,
                field_description=n,
                field_type=t,
                expected_values="any",
                missing_values="none",
                mapping_production_data=n if not lab else "",
            )
            for n, t, lab in (
                ("age", "integer", False),
                ("color", "string", False),
                ("default", "string", True),
            )
        ],
        statistics=[numeric_stats("age", TRAIN_AGE), categorical_stats("color", TRAIN_COLOR)],
        distribution=[
            TrainingLabelShare(label="default", percentage=20.0, mapping_production_data="bad"),
            TrainingLabelShare(label="ok", percentage=80.0, mapping_production_data="good"),
        ],
        preparation_process=[],
        preparation_code="https://example.org/prep",
        documentation=[],
    )


def trained_model(frameworks: tuple[str, ...] = ("sklearn>=1.5",)) -> TrainedModel:
    out = OutputItem(
        item_name="score",
        item_description="default probability",
        item_type="Float",
        item_specification=_spec(0.0, 1.0),
        component_mapping=ComponentMapping(component="review", data_item="risk"),
    )
    held = HeldOut(name="t", test_results="ok", file="https://example.org/t")
    monitored = MonitoredMetric(
        metric="mean score", operator="less than", threshold=1, goal_mapping="G1"
    )
    return TrainedModel(
        model_name="m",
        model_version="1",
        model_description="forest",
        training_date=date(2024, 1, 1),
        ensemble=False,
        model_components=[
            ModelComponent(
                learning_algorithm=LearningAlgorithm(algorithm="Random Forest", other_algorithm=""),
                hyper_parameters=[],
                programming_languages=["Python3"],
            )
        ],
        model_composition_details="",
        ml_frameworks=list(frameworks),
        data_pipeline_identifier="loans-pipe",
        training_data_identifier="loans-train",
        output_spec=[out],
        post_processing=False,
        post_processing_process=[],
        final_output_spec=[],
        error_handling="raises ValueError",
        evaluation_dataset=EvaluationDataset(
            name="e", holdout_percentage=20, seed=0, algorithm="split", file="https://example.org/e"
        ),
        evaluation_metrics=[MetricResult(metric="Accuracy", other_metric="", result=0.9)],
        test_dataset=held,
        integration_test_dataset=held,
        test_metrics=[MetricResult(metric="False Negative Rate", other_metric="", result=0.04)],
        model_output_interpretation="probability of default",
        default_model_output="none",
        algorithm_metrics=[monitored],
        business_metrics=[
            MonitoredMetric(
                metric="reviews per day", operator="greater than", threshold=10, goal_mapping="G1"
            )
        ],
        user_system_feedback=[Feedback(short_name="analyst verdict", details="agree/disagree")],
        log_data=[LogData(log="inputs and outputs", log_data_format="JSON", history="90 days")],
        data_buffering_reqs="none",
        decisions_assumptions=["none"],
        computing_resource_reqs=ComputingResources(gpu=0, cpu=1, memory=0.5, storage=1),
        inference_time=InferenceTime(time=20, unit="Milliseconds"),
        system_dependencies=["scikit-learn"],
        model_training_code="https://example.org/train",
        trained_model_code="https://example.org/model",
        documentation=[],
    )


def development_environment(
    frameworks: tuple[str, ...] = ("scikit-learn",),
) -> DevelopmentEnvironment:
    return DevelopmentEnvironment(
        programming_languages=["python"],
        ml_frameworks=list(frameworks),
        upstream_components=[
            UpstreamComponent(
                component_name="crm",
                output_spec=[
                    ComponentItem(
                        item_name="age",
                        item_description="age",
                        item_type="integer",
                        expected_values="[18, 99]",
                    ),
                    ComponentItem(
                        item_name="color",
                        item_description="c",
                        item_type="string",
                        expected_values="red, green, blue",
                    ),
                ],
                ml_component=False,
            )
        ],
        downstream_components=[
            DownstreamComponent(
                component_name="review",
                input_spec=[
                    ComponentItem(
                        item_name="risk",
                        item_description="risk",
                        item_type="number",
                        expected_values="[0, 1]",
                    )
                ],
                ml_component=False,
            )
        ],
        milestones=[],
        computing_resources=ComputingResources(gpu=1, cpu=8, memory=32, storage=100),
        documentation=[],
    )


def production_environment(
    required_ms: int = 100, unit: str = "Milliseconds"
) -> ProductionEnvironment:
    return ProductionEnvironment(
        required_inference_time=InferenceTime(time=required_ms, unit=unit),  # type: ignore[arg-type]
        computing_resources=ComputingResources(gpu=0, cpu=2, memory=4, storage=10),
        deployment_platform="cloud",
        deployment_mechanism="API",
        algorithm_metrics=[MetricImplementation(metric="Mean_Score", implementation="gauge")],
        business_metrics=[MetricImplementation(metric="reviews per day", implementation="sql")],
        other_metrics=[],
        user_system_feedback=[
            FeedbackImplementation(feedback="analyst-verdict", implementation="ui")
        ],
        model_logs=[LogImplementation(log="inputs and outputs", implementation="db")],
        other_logs=[],
        documentation=[],
    )


def production_data(
    age: list[int] | None = None, color: dict[str, int] | None = None, age_type: str = "integer"
) -> ProductionData:
    return ProductionData(
        data_sources="crm",
        data_rates="about 50 per second",
        schema=[
            ProductionDataField(
                field_name="age",
                field_description="age",
                field_type=age_type,
                expected_values="any",
            ),
            ProductionDataField(
                field_name="color",
                field_description="c",
                field_type="string",
                expected_values="any",
            ),
        ],
        statistics=[
            numeric_stats("age", age or [105, 195, 405, 195, 100]),
            categorical_stats("color", color or {"red": 495, "green": 305, "blue": 200}),
        ],
        distribution=[
            LabelShare(label="bad", percentage=21.0),
            LabelShare(label="good", percentage=79.0),
        ],
        documentation=[],
    )


def consistent() -> dict[DescriptorKind, Descriptor]:
    """All eight descriptors, agreeing with each other."""
    built: list[Descriptor] = [
        system_context(),
        raw_data(),
        data_pipeline(),
        training_data(),
        trained_model(),
        development_environment(),
        production_environment(),
        production_data(),
    ]
    return {d.kind: d for d in built}


def descriptor_set(
    descriptors: dict[DescriptorKind, Descriptor], directory: Path = Path(".")
) -> DescriptorSet:
    ds = DescriptorSet(directory)
    ds.descriptors.update(descriptors)
    return ds


def with_(**replacements: Descriptor) -> DescriptorSet:
    """The consistent set with some descriptors replaced (keyword = kind)."""
    d = consistent()
    for kind, descriptor in replacements.items():
        d[kind] = descriptor  # type: ignore[index]
    return descriptor_set(d)
