"""Filled-in descriptors of the breast-cancer random forest, and the reference schemas' location."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mlrails.descriptors import (
    DataPipeline,
    Descriptor,
    DescriptorKind,
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
    Documentation,
    InferenceTime,
    ItemSpecification,
    LabelShare,
    ProcessingStep,
)
from mlrails.descriptors.data_pipeline import InputErrorHandling, PipelineInput, PipelineTestCase
from mlrails.descriptors.development_environment import (
    ComponentItem,
    DownstreamComponent,
    Milestone,
    UpstreamComponent,
)
from mlrails.descriptors.production_data import ProductionDataField
from mlrails.descriptors.production_environment import (
    FeedbackImplementation,
    LogImplementation,
    MetricImplementation,
)
from mlrails.descriptors.raw_data import DataSource, RawDataField, RawDataMetadata
from mlrails.descriptors.system_context import Goal, MlProblemType, Risks
from mlrails.descriptors.trained_model import (
    EvaluationDataset,
    Feedback,
    HyperParameter,
    LearningAlgorithm,
    LogData,
    MetricResult,
    ModelComponent,
    MonitoredMetric,
    OutputItem,
)
from mlrails.descriptors.trained_model import TestDataset as HeldOutDataset
from mlrails.descriptors.training_data import TrainingDataField, TrainingLabelShare

DOCS = [Documentation(description="mlrails design", location="https://example.org/mlrails/design")]
UCI = "https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic"


def _system_context() -> SystemContext:
    return SystemContext(
        task="Classify a breast mass as malignant or benign from a fine-needle aspirate image",
        ml_problem_type=MlProblemType(ml_problem="Classification", other_problem=""),
        goals=[
            Goal(
                id="G1",
                goal="Flag malignant masses for a second reading",
                metric="False Negative Rate",
                baseline="At most 2% (radiologist double reading)",
            )
        ],
        available_data="569 digitized FNA images described by 30 real-valued features",
        usage_context="Decision support for pathologists; every positive is read again",
        data_rights_policies="Public data (UCI), CC BY 4.0",
        risks=Risks(
            risk_fp="Unneeded second reading",
            risk_fn="Missed malignancy, delayed treatment",
            risk_other="Out-of-distribution images from other scanners",
        ),
        documentation=DOCS,
    )


def _raw_data(columns: list[str]) -> RawData:
    return RawData(
        dataset_identifier="wdbc",
        dataset_version="1995-11",
        dataset_name="Breast Cancer Wisconsin (Diagnostic)",
        dataset_description="Features computed from digitized images of breast-mass FNAs",
        data_sources=[DataSource(data_source="Public Data Source", other_source="")],
        instance_type="patient record (one FNA image)",
        number_of_instances=569,
        labels_distribution=[
            LabelShare(label="benign", percentage=62.74),
            LabelShare(label="malignant", percentage=37.26),
        ],
        schema=[
            RawDataField(
                field_name=c,
                field_description=f"{c} of the cell nuclei",
                field_type="number",
                expected_values="range",
                interpret_missing="never missing",
                interpret_special="none",
            )
            for c in columns
        ],
        metadata=RawDataMetadata(
            collection_date=date(1995, 11, 1),
            geographic_location="Madison, Wisconsin, USA",
            timeframe="1989 to 1995",
            known_issues="none known",
        ),
        restrictions="none",
        data_rights="CC BY 4.0",
        anonymization="No personal data",
        proxy_data="Not applicable",
        documentation=[Documentation(description="UCI page", location=UCI)],
    )


def _data_pipeline(columns: list[str], cancer: Any) -> DataPipeline:
    return DataPipeline(
        pipeline_identifier="wdbc-pipeline",
        pipeline_version="1.0.0",
        pipeline_description="Columns passed through unchanged after contract validation",
        input_spec=[
            PipelineInput(
                item_name=c,
                item_description=f"{c} of the cell nuclei",
                item_type="Float",
                item_specification=ItemSpecification.for_number(
                    float(cancer.X_train[c].min()), float(cancer.X_train[c].max())
                ),
                error_handling=InputErrorHandling(
                    error_type="Return error code", error_code_value=400
                ),
                component_mapping=ComponentMapping(component="image-analysis", data_item=c),
            )
            for c in columns
        ],
        test_cases=[
            PipelineTestCase(
                test_case_name="out of range",
                tested_property="values beyond the training range are refused",
                file="https://example.org/mlrails/tests/contract",
            )
        ],
        pipeline_steps=[
            ProcessingStep(
                data_processing_step="validate", data_processing_detail="input contract check"
            )
        ],
        pipeline_code="https://example.org/mlrails/pipeline.py",
        documentation=DOCS,
    )


def _training_data(columns: list[str], cancer: Any) -> TrainingData:
    frame = cancer.X_train
    return TrainingData(
        dataset_identifier="wdbc-train",
        dataset_name="wdbc training split",
        dataset_version="1",
        dataset_description="70% stratified split of wdbc (random_state=0)",
        raw_data_identifier="wdbc",
        schema=[
            TrainingDataField(
                field_name=c,
                label_field=False,
                field_description=f"{c} of the cell nuclei",
                field_type="number",
                expected_values="range",
                missing_values="never missing",
                mapping_production_data=c,
            )
            for c in columns
        ],
        statistics=[FieldStatistics.from_series(frame[c]) for c in columns],
        distribution=[
            TrainingLabelShare(label="benign", percentage=62.8, mapping_production_data="1"),
            TrainingLabelShare(label="malignant", percentage=37.2, mapping_production_data="0"),
        ],
        preparation_process=[
            ProcessingStep(
                data_processing_step="split",
                data_processing_detail="train_test_split(test_size=0.3, stratify=y)",
            )
        ],
        preparation_code="https://example.org/mlrails/prepare.py",
        documentation=DOCS,
    )


def _trained_model() -> TrainedModel:
    output = OutputItem(
        item_name="malignant_probability",
        item_description="Probability that the mass is malignant",
        item_type="Float",
        item_specification=ItemSpecification.for_number(0.0, 1.0),
        component_mapping=ComponentMapping(component="review-queue", data_item="score"),
    )
    return TrainedModel(
        model_name="wdbc-forest",
        model_version="1.0.0",
        model_description="Random forest on the 30 wdbc features",
        training_date=date(2024, 5, 1),
        ensemble=True,
        model_components=[
            ModelComponent(
                learning_algorithm=LearningAlgorithm(algorithm="Random Forest", other_algorithm=""),
                hyper_parameters=[
                    HyperParameter(parameter_name="n_estimators", parameter_value="50"),
                    HyperParameter(parameter_name="random_state", parameter_value="0"),
                ],
                programming_languages=["Python"],
            )
        ],
        model_composition_details="Majority of 50 trees, averaged probabilities",
        ml_frameworks=["scikit-learn"],
        data_pipeline_identifier="wdbc-pipeline",
        training_data_identifier="wdbc-train",
        output_spec=[output],
        post_processing=False,
        post_processing_process=[],
        final_output_spec=[output],
        error_handling="Raises ValueError on inputs violating the contract; the service says 400",
        evaluation_dataset=EvaluationDataset(
            name="wdbc-test",
            holdout_percentage=30,
            seed=0,
            algorithm="stratified train_test_split",
            file="https://example.org/data/wdbc-test.csv",
        ),
        evaluation_metrics=[
            MetricResult(metric="Accuracy", other_metric="", result=0.959),
            MetricResult(metric="Other", other_metric="Brier score", result=0.031),
        ],
        test_dataset=HeldOutDataset(
            name="wdbc-test",
            test_results="accuracy 0.959",
            file="https://example.org/data/wdbc-test.csv",
        ),
        integration_test_dataset=HeldOutDataset(
            name="wdbc-integration", test_results="all 200", file="https://example.org/int"
        ),
        test_metrics=[MetricResult(metric="False Negative Rate", other_metric="", result=0.047)],
        model_output_interpretation="Probability of malignancy; 0.5 is the decision threshold",
        default_model_output="none (HTTP 500 with a problem document)",
        algorithm_metrics=[
            MonitoredMetric(
                metric="mean confidence", operator="less than", threshold=0.8, goal_mapping="G1"
            )
        ],
        business_metrics=[
            MonitoredMetric(
                metric="second readings per day",
                operator="greater than",
                threshold=40,
                goal_mapping="G1",
            )
        ],
        user_system_feedback=[Feedback(short_name="pathology", details="biopsy outcome")],
        log_data=[LogData(log="inputs and verdicts", log_data_format="JSON", history="90 days")],
        data_buffering_reqs="none; one request per image",
        decisions_assumptions=["Images come from the same scanner model as the training data"],
        computing_resource_reqs=ComputingResources(gpu=0, cpu=1, memory=0.5, storage=0.1),
        inference_time=InferenceTime(time=5, unit="Milliseconds"),
        system_dependencies=["scikit-learn>=1.6", "numpy>=2.0"],
        model_training_code="https://example.org/mlrails/train.py",
        trained_model_code="https://example.org/mlrails/model.skops",
        documentation=DOCS,
    )


def _development_environment(columns: list[str]) -> DevelopmentEnvironment:
    return DevelopmentEnvironment(
        programming_languages=["Python"],
        ml_frameworks=["scikit-learn", "PyTorch"],
        upstream_components=[
            UpstreamComponent(
                component_name="image-analysis",
                output_spec=[
                    ComponentItem(
                        item_name=c,
                        item_description=f"{c} of the cell nuclei",
                        item_type="number",
                        expected_values="range",
                    )
                    for c in columns
                ],
                ml_component=False,
            )
        ],
        downstream_components=[
            DownstreamComponent(
                component_name="review-queue",
                input_spec=[
                    ComponentItem(
                        item_name="score",
                        item_description="malignancy score",
                        item_type="number",
                        expected_values="[0, 1]",
                    )
                ],
                ml_component=False,
            )
        ],
        milestones=[Milestone(milestone="pilot", milestone_date=date(2024, 9, 1))],
        computing_resources=ComputingResources(gpu=1, cpu=16, memory=128, storage=64),
        documentation=DOCS,
    )


def _production_environment() -> ProductionEnvironment:
    return ProductionEnvironment(
        required_inference_time=InferenceTime(time=100, unit="Milliseconds"),
        computing_resources=ComputingResources(gpu=0, cpu=2, memory=4, storage=20),
        deployment_platform="local server",
        deployment_mechanism="API",
        algorithm_metrics=[
            MetricImplementation(metric="mean confidence", implementation="Prometheus gauge")
        ],
        business_metrics=[
            MetricImplementation(metric="second readings per day", implementation="SQL query")
        ],
        other_metrics=[MetricImplementation(metric="latency p99", implementation="histogram")],
        user_system_feedback=[
            FeedbackImplementation(feedback="pathology", implementation="nightly import")
        ],
        model_logs=[LogImplementation(log="inputs and verdicts", implementation="SQLite log")],
        other_logs=[LogImplementation(log="access log", implementation="uvicorn")],
        documentation=DOCS,
    )


def _production_data(columns: list[str], cancer: Any) -> ProductionData:
    frame = cancer.X_test
    return ProductionData(
        data_sources="image-analysis service",
        data_rates="about 200 images per day",
        schema=[
            ProductionDataField(
                field_name=c,
                field_description=f"{c} of the cell nuclei",
                field_type="number",
                expected_values="range",
            )
            for c in columns
        ],
        statistics=[FieldStatistics.from_series(frame[c]) for c in columns],
        distribution=[
            LabelShare(label="benign", percentage=62.6),
            LabelShare(label="malignant", percentage=37.4),
        ],
        documentation=DOCS,
    )


@pytest.fixture(scope="session")
def descriptors(cancer: Any) -> dict[DescriptorKind, Descriptor]:
    """All eight descriptors, filled in for the breast-cancer forest."""
    columns = [str(c) for c in cancer.X_train.columns]
    built: list[Descriptor] = [
        _system_context(),
        _raw_data(columns),
        _data_pipeline(columns, cancer),
        _training_data(columns, cancer),
        _trained_model(),
        _development_environment(columns),
        _production_environment(),
        _production_data(columns, cancer),
    ]
    return {d.kind: d for d in built}
