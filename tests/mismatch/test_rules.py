"""Each cross-descriptor rule: silent on a consistent system, fires on one planted mismatch."""

from __future__ import annotations

import pytest
from mismatch_system import (
    consistent,
    descriptor_set,
    development_environment,
    production_data,
    production_environment,
    system_context,
    trained_model,
    training_data,
    with_,
)

from mlrails.descriptors.common import ComputingResources, InferenceTime
from mlrails.descriptors.system_context import SystemContext
from mlrails.mismatch.check import check_descriptors
from mlrails.mismatch.findings import Finding
from mlrails.mismatch.rules import RULES, canonical_metric, norm_name, rule, type_compatibility


def _run(rule_id: str, **replacements: object) -> list[Finding]:
    ds = with_(**replacements)  # type: ignore[arg-type]
    return RULES[rule_id].fn(ds)


def test_consistent_system_has_no_error_or_warning() -> None:
    report = check_descriptors(with_())
    assert [f for f in report.findings if f.severity != "info"] == []
    assert not report.skipped_rules
    assert set(report.checked_rules) == set(RULES)
    assert report.exit_code("warning") == 0


def test_every_rule_is_documented() -> None:
    for r in RULES.values():
        assert r.rule_id.startswith("MM-") and len(r.doc) > 40, r.rule_id


def test_a_rule_id_is_registered_once() -> None:
    language = RULES["MM-LANGUAGE"]
    assert rule("MM-LANGUAGE", language.title, *language.requires)(language.fn) is language.fn
    assert RULES["MM-LANGUAGE"] is language  # the same function again: nothing changes
    with pytest.raises(ValueError, match="MM-LANGUAGE"):
        rule("MM-LANGUAGE", "another check")(lambda ds: [])
    assert RULES["MM-LANGUAGE"] is language


def test_names() -> None:
    assert norm_name("torch>=2.1") == norm_name("PyTorch") == "pytorch"
    assert norm_name("sklearn") == "scikit-learn"
    assert canonical_metric("FNR below 2%") == canonical_metric("False Negative Rate")
    assert type_compatibility("string", "integer") == "incompatible"
    assert type_compatibility("float", "integer") == "lossy"
    assert type_compatibility("integer", "number") == "ok"
    assert type_compatibility("Other", "integer") == "unknown"


def test_framework_missing_from_dev_env() -> None:
    found = _run(
        "MM-FRAMEWORK",
        trained_model=trained_model(frameworks=("torch==2.1", "sklearn")),
        development_environment=development_environment(frameworks=("scikit-learn",)),
    )
    assert len(found) == 1
    f = found[0]
    assert f.severity == "error" and f.numbers["normalized"] == "pytorch"
    assert "trained_model:$.ml_frameworks[0]" in f.fields
    assert set(f.roles) == {"data scientist", "software engineer"}
    assert f.fix_hint


def test_inference_time_converted() -> None:
    tm = trained_model().model_copy(
        update={"inference_time": InferenceTime(time=250, unit="Milliseconds")}
    )
    pe = production_environment(required_ms=0, unit="Seconds").model_copy(
        update={"required_inference_time": InferenceTime.model_construct(time=0.1, unit="Seconds")}  # type: ignore[arg-type]
    )
    found = _run("MM-INFERENCE-TIME", trained_model=tm, production_environment=pe)
    assert len(found) == 1
    assert found[0].numbers["observed_ms"] == 250.0
    assert found[0].numbers["required_ms"] == pytest.approx(100.0)
    assert found[0].numbers["ratio"] == pytest.approx(2.5)
    # 250 ms against 1 s passes
    pe_ok = production_environment(required_ms=1, unit="Seconds")
    assert _run("MM-INFERENCE-TIME", trained_model=tm, production_environment=pe_ok) == []


def test_resources_exceeded_in_production() -> None:
    tm = trained_model().model_copy(
        update={"computing_resource_reqs": ComputingResources(gpu=1, cpu=1, memory=8, storage=1)}
    )
    found = _run("MM-RESOURCES-PROD", trained_model=tm)
    assert {f.numbers["resource"] for f in found} == {"gpu", "memory"}
    assert all(f.severity == "error" for f in found)
    assert _run("MM-RESOURCES-DEV", trained_model=tm) == []


def test_production_type_string_vs_training_integer() -> None:
    found = _run("MM-SCHEMA-TYPE", production_data=production_data(age_type="string"))
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].numbers["produced_type"] == "string"
    assert found[0].numbers["consumed_type"] == "integer"


def test_schema_mapping_to_missing_field() -> None:
    td = training_data()
    schema = [f.model_copy() for f in td.data_schema]
    schema[0] = schema[0].model_copy(update={"mapping_production_data": "age_years"})
    found = _run("MM-SCHEMA-MAP", training_data=td.model_copy(update={"data_schema": schema}))
    assert [f.severity for f in found if f.severity == "error"] == ["error"]
    assert any(f.numbers.get("production_field") == "age_years" for f in found)


def test_goal_metric_and_goal_reference() -> None:
    tm = trained_model()
    tm = tm.model_copy(
        update={
            "test_metrics": [tm.evaluation_metrics[0]],
            "business_metrics": [tm.business_metrics[0].model_copy(update={"goal_mapping": "G9"})],
        }
    )
    assert [f.numbers["metric"] for f in _run("MM-GOAL-METRIC", trained_model=tm)] == [
        "false negative rate"
    ]
    monitor = _run("MM-GOAL-MONITOR", trained_model=tm)
    assert any(f.severity == "error" and f.numbers["goal"] == "G9" for f in monitor)


def test_output_mapping_and_type() -> None:
    tm = trained_model()
    out = tm.output_spec[0]
    bad_map = out.model_copy(
        update={"component_mapping": out.component_mapping.model_copy(update={"data_item": "x"})}
    )
    found = _run("MM-OUTPUT-MAP", trained_model=tm.model_copy(update={"output_spec": [bad_map]}))
    assert any(f.severity == "error" for f in found)  # output mapped to a missing input
    assert any(f.severity == "warning" for f in found)  # downstream 'risk' now unfed
    as_string = out.model_copy(update={"item_type": "String"})
    found = _run("MM-OUTPUT-TYPE", trained_model=tm.model_copy(update={"output_spec": [as_string]}))
    assert [f.severity for f in found] == ["error"]
    wide = out.model_copy(
        update={"item_specification": out.item_specification.model_copy(update={"max_value": 100})}  # type: ignore[union-attr]
    )
    found = _run("MM-OUTPUT-TYPE", trained_model=tm.model_copy(update={"output_spec": [wide]}))
    assert found[0].numbers["high"] == 100 and found[0].numbers["allowed_high"] == 1


def test_production_metrics_logs_feedback() -> None:
    pe = production_environment().model_copy(
        update={"algorithm_metrics": [], "model_logs": [], "user_system_feedback": []}
    )
    assert len(_run("MM-METRICS-PROD", production_environment=pe)) == 1
    assert len(_run("MM-LOGS-PROD", production_environment=pe)) == 1
    assert len(_run("MM-FEEDBACK-PROD", production_environment=pe)) == 1


def test_throughput_and_missing_info() -> None:
    pdd = production_data().model_copy(update={"data_rates": "5000 requests per second"})
    found = _run("MM-THROUGHPUT", production_data=pdd)
    assert found and found[0].numbers["capacity_per_s"] == pytest.approx(100.0)
    tm = trained_model().model_copy(update={"default_model_output": "TBD"})
    assert any(
        "$.default_model_output" in f.fields[0] for f in _run("MM-MISSING-INFO", trained_model=tm)
    )


def test_placeholders_are_missing_information_not_unmet_expectations() -> None:
    from mlrails.descriptors.placeholders import filled
    from mlrails.mismatch.rules.model_production import _expected_in_prod

    assert not filled("TO FILL") and not filled(" to fill ") and filled("accuracy")
    found = _expected_in_prod(
        "MM-METRICS-PROD",
        [("TO FILL", "$.algorithm_metrics[0].metric"), ("recall", "$.algorithm_metrics[1].metric")],
        ["accuracy"],
        "$.algorithm_metrics",
        [],
        "$.other_metrics",
        "algorithm metric",
        "hint",
    )
    assert [f.numbers["name"] for f in found] == ["recall"]


def _goals(*goals: tuple[str, str]) -> SystemContext:
    sc = system_context()
    base = sc.goals[0]
    return sc.model_copy(
        update={"goals": [base.model_copy(update={"id": gid, "metric": m}) for gid, m in goals]}
    )


@pytest.mark.parametrize(
    "spelling", ["reviews per day", "Reviews_Per_Day", " reviews-per-day ", "REVIEWS PER DAY"]
)
def test_goal_measured_by_a_metric_production_captures_is_evaluated(spelling: str) -> None:
    # G1 is mapped by the model's business metric; G2 is not mapped but production captures
    # its metric ("reviews per day" in production_environment.business_metrics)
    sc = _goals(("G1", "FNR"), ("G2", spelling))
    assert _run("MM-GOAL-METRIC", system_context=sc) == []
    assert _run("MM-GOAL-MONITOR", system_context=sc) == []


def test_goal_whose_metric_nobody_measures_is_reported() -> None:
    sc = _goals(("G1", "FNR"), ("G2", "customer churn"))
    (f,) = _run("MM-GOAL-METRIC", system_context=sc)
    assert f.numbers["goal"] == "G2" and f.numbers["metric"] == "customer churn"
    assert "nor does production capture it" in f.message and "reviews per day" in f.message
    assert "production_environment:$.business_metrics" in f.fields
    (m,) = _run("MM-GOAL-MONITOR", system_context=sc)
    assert m.severity == "warning" and m.numbers["goal"] == "G2"


def test_goal_metric_without_production_environment_is_not_evaluated() -> None:
    d = consistent()
    d["system_context"] = _goals(("G1", "reviews per day"))
    del d["production_environment"]
    (f,) = RULES["MM-GOAL-METRIC"].fn(descriptor_set(d))
    assert "no production environment descriptor" in f.message
    # the model itself monitors it (business metric mapped to G1): covered
    assert RULES["MM-GOAL-MONITOR"].fn(descriptor_set(d)) == []
