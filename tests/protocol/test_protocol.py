"""Protocol: the status-code table and RFC 9457 problem documents."""

from __future__ import annotations

from mlrails.protocol import DEFAULT_CODES, PROBLEM_TYPES, Outcome, Problem, StatusTable


def test_default_table_is_designs_table() -> None:
    expected = {
        "ok": 200,
        "not_authoritative": 203,
        "mixed": 207,
        "invalid_input": 400,
        "unauthorized": 401,
        "adversarial": 403,
        "out_of_distribution": 422,
        "rate_limited": 429,
        "model_error": 500,
        "upstream_error": 502,  # proxy mode (the service issue): the upstream model failed
        "unavailable": 503,
        "timeout": 504,
    }
    assert {o.value: c for o, c in DEFAULT_CODES.items()} == expected
    table = StatusTable()
    assert all(table.code(o) == c for o, c in DEFAULT_CODES.items())


def test_every_problem_type_has_a_distinct_uri_and_a_non_200_outcome() -> None:
    uris = [p.uri for p in PROBLEM_TYPES.values()]
    assert len(set(uris)) == len(uris)
    assert all(u.startswith("https://") for u in uris)
    assert all(p.outcome is not Outcome.OK for p in PROBLEM_TYPES.values())


def test_problem_document_has_rfc9457_members_and_extensions() -> None:
    p = Problem(
        type=PROBLEM_TYPES["out-of-distribution"].uri,
        title="t",
        status=422,
        detail="d",
        instance="/v1/predict/1",
        extensions={"safeguards": []},
    )
    doc = p.to_dict()
    assert list(doc)[:5] == ["type", "title", "status", "detail", "instance"]
    assert doc["safeguards"] == [] and doc["status"] == 422
