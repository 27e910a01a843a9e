"""The two readiness rubrics as data: every item's id, section, question and scale.

* **ML System Robustness Score**: 6 categories, 22 sub-categories, each scored 0–4; total out
  of 88; bands: below 25 not ready, 25–40 adequate (failure points appear as it scales), 40 and
  above robust, above 60 best in class.
* **ML Test Score** (Breck, Cai, Nielsen, Salib, Sculley: "The ML Test Score: A Rubric for ML
  Production Readiness and Technical Debt Reduction", IEEE Big Data 2017): 28 tests in four
  sections of seven; each test scores 0, 0.5 (run manually, results documented and shared) or
  1 (run automatically and repeatedly); the final score is the minimum of the section sums.

Item ids are stable (``robustness.<category>.<sub>``, ``mltest.<section>.<n>``): answers
files and the stored history refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RubricName = Literal["robustness", "mltest"]


@dataclass(frozen=True)
class Item:
    """One scored item of a rubric."""

    id: str
    rubric: RubricName
    section: str
    title: str
    question: str
    max_score: float

    @property
    def allowed(self) -> tuple[float, ...]:
        """The scores an answer may give."""
        if self.rubric == "mltest":
            return (0.0, 0.5, 1.0)
        return (0.0, 1.0, 2.0, 3.0, 4.0)


@dataclass(frozen=True)
class Section:
    """A category (robustness) or section (ML Test Score)."""

    id: str
    rubric: RubricName
    title: str
    items: tuple[Item, ...]


def _robustness(cat: str, title: str, subs: list[tuple[str, str, str]]) -> Section:
    items = tuple(
        Item(f"robustness.{cat}.{sid}", "robustness", cat, stitle, question, 4.0)
        for sid, stitle, question in subs
    )
    return Section(cat, "robustness", title, items)


def _mltest(sec: str, title: str, tests: list[tuple[str, str]]) -> Section:
    items = tuple(
        Item(f"mltest.{sec}.{i}", "mltest", sec, ttitle, question, 1.0)
        for i, (ttitle, question) in enumerate(tests, start=1)
    )
    return Section(sec, "mltest", title, items)


ROBUSTNESS: tuple[Section, ...] = (
    _robustness(
        "data",
        "Data quality and preparation",
        [
            (
                "quality",
                "Quality and integrity",
                "Is the data accurate, complete, sufficient and consistent, and is that checked?",
            ),
            (
                "privacy",
                "Privacy and security of the data",
                "Are personal and sensitive data identified, minimised and protected, with the "
                "rights to use them documented?",
            ),
            (
                "bias",
                "Bias and fairness",
                "Is the data representative of the population served and diverse enough for "
                "edge cases, and is that measured?",
            ),
        ],
    ),
    _robustness(
        "training",
        "Model training and performance",
        [
            (
                "metrics",
                "Metrics aligned with business requirements",
                "Are the model's metrics mapped to the business goals, with targets and baselines?",
            ),
            (
                "selection",
                "Model selection and tuning",
                "Were alternatives and hyperparameters compared systematically on held-out data?",
            ),
            (
                "stability",
                "Stability and reproducibility over time",
                "Does re-running training or evaluation give the same numbers, and is that "
                "verified?",
            ),
        ],
    ),
    _robustness(
        "evaluation",
        "Model evaluation and interpretability",
        [
            (
                "interpretability",
                "Interpretability of outputs",
                "Can a user tell how far to trust an output (calibrated confidence, prediction "
                "sets)?",
            ),
            (
                "importance",
                "Feature importance and contribution",
                "Can the contribution of each feature to a prediction be shown?",
            ),
            (
                "representative",
                "Evaluation data and environment representative of production",
                "Is the model evaluated on data and conditions like production (perturbations, "
                "shift, attacks), and is production compared with training?",
            ),
            (
                "counterfactual",
                "Counterfactual explanations",
                "Can the system say what would have to change for a different outcome?",
            ),
        ],
    ),
    _robustness(
        "deployment",
        "Model deployment and monitoring",
        [
            (
                "infrastructure",
                "Scalable and reliable deployment infrastructure",
                "Does serving have limits, timeouts, readiness checks and durable logging?",
            ),
            (
                "rollout",
                "A/B testing and smooth roll-out",
                "Can a new model be rolled out gradually and compared with the current one?",
            ),
            (
                "monitoring",
                "Logging, monitoring and alerting",
                "Is every decision logged, are metrics exported and does drift raise an alert?",
            ),
            (
                "updates",
                "Model updates as new data arrives",
                "Is there a process to retrain and re-validate when data changes?",
            ),
        ],
    ),
    _robustness(
        "operations",
        "Infrastructure and operations",
        [
            (
                "resources",
                "Resource allocation and cost",
                "Are the model's compute needs measured and matched to the production machines?",
            ),
            (
                "containers",
                "Containerisation and orchestration",
                "Is the service packaged reproducibly and run by an orchestrator?",
            ),
            (
                "cicd",
                "Continuous integration and deployment",
                "Do tests, benchmarks and readiness gates run automatically before deployment?",
            ),
            (
                "impact",
                "Measurement of business impact",
                "Is the model's effect on the business goals measured in production?",
            ),
        ],
    ),
    _robustness(
        "security",
        "Security, failure handling and compliance",
        [
            (
                "access",
                "Access control and authorisation",
                "Is access to the model and its logs authenticated, with keys stored safely?",
            ),
            (
                "compliance",
                "Regulatory compliance",
                "Are the applicable regulations identified and their requirements evidenced?",
            ),
            (
                "failures",
                "Error handling and recovery from failures and drift",
                "Are bad inputs, model errors and drift answered explicitly (never silently) "
                "and recovered from?",
            ),
            (
                "encryption",
                "Protection and encryption of sensitive data in transit and at rest",
                "Is data encrypted in transit and at rest, and are unsafe formats refused?",
            ),
        ],
    ),
)

MLTEST: tuple[Section, ...] = (
    _mltest(
        "data",
        "Tests for features and data",
        [
            (
                "Feature expectations are captured in a schema",
                "Are expectations about each feature (type, range, distribution) written in a "
                "schema and checked against the data?",
            ),
            (
                "All features are beneficial",
                "Has each feature been shown to add predictive value (ablation or importance), "
                "and are unhelpful ones removed?",
            ),
            (
                "No feature's cost is too much",
                "Is each feature's cost (latency, memory, upstream dependencies, upkeep) "
                "weighed against its benefit?",
            ),
            (
                "Features adhere to meta-level requirements",
                "Are features checked against project-level requirements (e.g. no personal "
                "data, approved sources only)?",
            ),
            (
                "The data pipeline has appropriate privacy controls",
                "Is access to raw and derived data controlled, and privacy-sensitive data "
                "handled as required?",
            ),
            (
                "New features can be added quickly",
                "Can a new feature go from idea to production in a short, known time?",
            ),
            ("All input feature code is tested", "Is the code that creates features unit tested?"),
        ],
    ),
    _mltest(
        "model",
        "Tests for model development",
        [
            (
                "Model specs are reviewed and submitted",
                "Is every change of model specification (code, configuration) reviewed and "
                "version controlled?",
            ),
            (
                "Offline and online metrics correlate",
                "Has the relation between offline metrics and online (business) impact been "
                "measured, e.g. by an A/B test?",
            ),
            (
                "All hyperparameters have been tuned",
                "Were the hyperparameters tuned systematically (grid, random or Bayesian search)?",
            ),
            (
                "The impact of model staleness is known",
                "Has the loss of quality as the model ages been measured, to set a retraining "
                "schedule?",
            ),
            (
                "A simpler model is not better",
                "Has the model been compared with a simpler baseline (linear model, fewer "
                "features), and does it win?",
            ),
            (
                "Model quality is sufficient on important data slices",
                "Has quality been checked on important slices of the data (per class, region, "
                "segment), not only overall?",
            ),
            (
                "The model is tested for considerations of inclusion",
                "Has the model been checked for fairness across groups of users (inclusion)?",
            ),
        ],
    ),
    _mltest(
        "infrastructure",
        "Tests for ML infrastructure",
        [
            (
                "Training is reproducible",
                "Does training twice on the same data give (nearly) identical models and "
                "metrics, and is that checked?",
            ),
            (
                "Model specs are unit tested",
                "Are the model's code and configuration covered by unit tests?",
            ),
            (
                "The ML pipeline is integration tested",
                "Is the whole pipeline, from data to serving, exercised by an automated "
                "integration test?",
            ),
            (
                "Model quality is validated before serving",
                "Is a new model checked against quality thresholds and the current model "
                "automatically before it serves?",
            ),
            (
                "The model is debuggable",
                "Can a single prediction be traced step by step (input, safeguard scores, "
                "explanation)?",
            ),
            (
                "Models are canaried before serving",
                "Does a new model serve a small share of traffic first, with checks before full"
                " roll-out?",
            ),
            (
                "Serving models can be rolled back",
                "Can the serving model be rolled back to the previous one quickly and safely?",
            ),
        ],
    ),
    _mltest(
        "monitoring",
        "Monitoring tests for ML",
        [
            (
                "Dependency changes result in notification",
                "Are owners notified when an upstream data source, library or other dependency "
                "changes?",
            ),
            (
                "Data invariants hold for inputs",
                "Are the schema's invariants checked on the inputs served, with violations "
                "logged and alerted on?",
            ),
            (
                "Training and serving are not skewed",
                "Are the inputs and outputs seen in serving compared with training "
                "(training/serving skew)?",
            ),
            (
                "Models are not too stale",
                "Is the model's age monitored, with an alert when it is older than staleness "
                "tests allow?",
            ),
            (
                "Models are numerically stable",
                "Are NaNs, infinities and other numerical failures of the model detected and "
                "refused, not served?",
            ),
            (
                "Computing performance has not regressed",
                "Are serving latency, throughput and resource use monitored for regressions?",
            ),
            (
                "Prediction quality has not regressed",
                "Is the quality of predictions measured against labelled outcomes over time "
                "(realised accuracy, a regression gate on labelled data)? Prediction drift "
                "alone does not answer it.",
            ),
        ],
    ),
)

#: every item by id
ITEMS: dict[str, Item] = {
    item.id: item for sections in (ROBUSTNESS, MLTEST) for s in sections for item in s.items
}

#: the robustness rubric's maximum: the sum of its items' maxima (88)
ROBUSTNESS_MAX = float(sum(i.max_score for s in ROBUSTNESS for i in s.items))
#: the ML Test Score's maximum: its final score is the minimum of the section sums (7)
MLTEST_MAX = float(min(sum(i.max_score for i in s.items) for s in MLTEST))


def robustness_band(total: float) -> str:
    """The band of a robustness total (out of :data:`ROBUSTNESS_MAX`)."""
    if total < 25:
        return "not ready"
    if total < 40:
        return "adequate: failure points appear as it scales"
    if total <= 60:
        return "robust"
    return "best in class"
