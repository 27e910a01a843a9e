"""Policy: defaults from DESIGN.md, YAML/TOML files, one-line errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlrails.errors import PolicyError
from mlrails.guard.policy import POLICY_TEMPLATE, Policy, load_policy
from mlrails.protocol import DEFAULT_CODES, Outcome


def test_defaults_follow_design() -> None:
    p = Policy()
    assert p.validation.mode == p.ood.mode == p.adversarial.mode == "block"
    assert p.ood.target_fpr == p.adversarial.target_fpr == 0.01
    assert p.ood.detector == "ensemble"
    for outcome, code in DEFAULT_CODES.items():
        assert p.status_codes.code(outcome) == code
    assert p.status_codes.code(Outcome.OUT_OF_DISTRIBUTION) == 422


def test_template_is_the_default_policy(tmp_path: Path) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text(POLICY_TEMPLATE)
    assert load_policy(f) == Policy()
    assert Policy.model_validate(yaml.safe_load(POLICY_TEMPLATE)) == Policy()


def test_toml_and_yaml_give_the_same_policy(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[ood]\nmode = "warn"\ntarget_fpr = 0.05\n[status_codes]\nout_of_distribution = 409\n'
    )
    (tmp_path / "p.yaml").write_text(
        "ood: {mode: warn, target_fpr: 0.05}\nstatus_codes: {out_of_distribution: 409}\n"
    )
    a, b = load_policy(tmp_path / "p.toml"), load_policy(tmp_path / "p.yaml")
    assert a == b
    assert a.ood.mode == "warn" and a.status_codes.code(Outcome.OUT_OF_DISTRIBUTION) == 409


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "ood: {mode: sometimes}", "ood.mode"),
        ("bad.yaml", "ood: [unclosed", "not valid YAML"),
        ("bad.toml", "ood = = 1", "not valid TOML"),
        ("bad.yaml", "oodd: {mode: warn}", "oodd"),
        ("bad.yaml", "ood: {target_fpr: 1.5}", "target_fpr"),
        ("bad.yaml", "- a list", "mapping"),
        ("bad.json", "{}", ".yaml, .yml or .toml"),
    ],
)
def test_bad_policy_files_give_one_line_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(PolicyError) as info:
        load_policy(f)
    msg = str(info.value)
    assert message in msg and str(f) in msg and "\n" not in msg


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_coerce_accepts_dicts_paths_and_none(tmp_path: Path) -> None:
    assert Policy.coerce(None) == Policy()
    assert (
        Policy.coerce({"reliability": {"calibration": "isotonic"}}).reliability.calibration
        == "isotonic"
    )
    f = tmp_path / "p.yml"
    f.write_text("explanation: {when: non200}")
    assert Policy.coerce(str(f)).explanation.when == "non200"
    with pytest.raises(PolicyError, match=r"reliability\.coverage"):
        Policy.coerce({"reliability": {"coverage": 2}})


def test_constant_training_feature_is_open_unless_the_policy_says_strict() -> None:
    """An always-0 digits pixel in training does not 400 a clean row whose pixel is 3."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    import mlrails

    X, y = load_digits(return_X_y=True)
    X = X.copy()
    X[:1000, 5] = 0.0  # training rows: pixel 5 always 0
    model = LogisticRegression(max_iter=300).fit(X[:600] / 16, y[:600])
    clean = X[:5].copy()  # rows the contract was learnt from, but pixel 5 lit
    clean[:, 5] = 3.0
    fast = {"ood": {"mode": "off"}, "adversarial": {"mode": "off"}, "drift": {"reference": False}}
    args = (model, X[:600] / 16, y[:600], X[600:1000] / 16, y[600:1000])
    default = mlrails.fit(*args, policy=fast)
    assert all(v.status != 400 for v in default.check(clean / 16))
    assert default.check(-clean / 16)[0].status == 400  # the sign of a count is kept
    strict = mlrails.fit(*args, policy={**fast, "validation": {"constant_features": "strict"}})
    assert all(v.status == 400 for v in strict.check(clean / 16))
    assert all("x5" in (v.detail or "") for v in strict.check(clean / 16))
