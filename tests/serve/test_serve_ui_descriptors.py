"""The web UI's descriptor viewer/editor and mismatch page, in headless Chromium against uvicorn.

Every test works on its own copy of a descriptor directory (written by the library from the
mismatch tests' consistent system), never on the repository's files; what the pages show is
compared with what the library reads and checks in the same directory.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from servekit import Served, ServerFactory

from mlrails.descriptors import (
    DESCRIPTOR_KINDS,
    Descriptor,
    TrainedModel,
    descriptor_filename,
    read_descriptor,
    read_descriptor_dir,
    write_descriptor,
    write_descriptor_dir,
)
from mlrails.mismatch.check import check_descriptors
from mlrails.serve import KeyRing
from mlrails.serve.ui.descriptor_routes import MAX_DESCRIPTOR_FORM_BYTES
from mlrails.serve.ui.descriptor_view import form_values
from mlrails.serve.ui.session import COOKIE_NAME, issue_session

PAYLOAD = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
NAV = [
    ("/ui", "Dashboard"),
    ("/ui/drift", "Drift"),
    ("/ui/descriptors", "Descriptors"),
    ("/ui/mismatch", "Mismatch"),
]


def _system() -> ModuleType:
    """tests/mismatch/mismatch_system.py: a small, consistent set of the eight descriptors."""
    folder = str(Path(__file__).resolve().parents[1] / "mismatch")
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module("mismatch_system")


system = _system()


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def desc_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("descriptors")


@pytest.fixture(scope="module")
def desc(make_server: ServerFactory, desc_root: Path) -> Served:
    """Auth on, descriptors in ``desc_root`` (reset by ``ddir`` before each test)."""
    return make_server(descriptors_dir=str(desc_root))


@pytest.fixture
def ddir(desc_root: Path) -> Iterator[Path]:
    """The server's descriptor directory, holding the consistent eight descriptors."""
    shutil.rmtree(desc_root)
    write_descriptor_dir(system.consistent().values(), desc_root)
    yield desc_root


@pytest.fixture(scope="module")
def no_dir(make_server: ServerFactory) -> Served:
    return make_server()


def _cookie(served: Served) -> dict[str, str]:
    """A UI session cookie of a fresh key (what signing in in a browser gives)."""
    issued = KeyRing(served.store).create("ui-descriptors")
    value, _ = issue_session(issued.record)
    return {"Cookie": f"{COOKIE_NAME}={value}"}


def _sign_in(page: Any, served: Served) -> None:
    page.goto(served.url + "/ui/descriptors")
    assert page.url == served.url + "/ui/login"
    page.fill("#key", served.token)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/ui")


def _text(s: str) -> str:
    return " ".join(s.split())


def _post_form(served: Served, kind: str, form: dict[str, str], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{served.url}/ui/descriptors/{kind}",
        data=form,
        headers={**_cookie(served), **headers},
        follow_redirects=False,
    )


def _form_of(descriptor: Descriptor, path: Path) -> dict[str, str]:
    """The form a browser would send for ``descriptor``, edited from the file at ``path``."""
    import hashlib

    form = form_values(descriptor.kind, descriptor.to_document())
    form["_base"] = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"
    return form


def _assert_security_headers(r: httpx.Response) -> None:
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-frame-options"] == "DENY"


# -- access --------------------------------------------------------------------------------
def test_pages_need_a_session_and_posts_must_be_same_origin(desc: Served, ddir: Path) -> None:
    path = ddir / "trained_model.json"
    before = path.read_bytes()
    for url in ("/ui/descriptors", "/ui/descriptors/trained_model", "/ui/mismatch"):
        r = httpx.get(desc.url + url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/ui/login", url
        _assert_security_headers(r)
        # an API key is not a UI session
        bearer = httpx.get(desc.url + url, headers={"Authorization": f"Bearer {desc.token}"})
        assert bearer.status_code == 303 and bearer.headers["location"] == "/ui/login"
    edited = system.trained_model().model_copy(update={"model_name": "changed"})
    form = _form_of(edited, path)
    anonymous = httpx.post(desc.url + "/ui/descriptors/trained_model", data=form)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/ui/login"
    cross = _post_form(desc, "trained_model", form, Origin="https://evil.example")
    assert cross.status_code == 403 and "Cross-site" in cross.text
    _assert_security_headers(cross)
    fetch_meta = _post_form(desc, "trained_model", form, **{"Sec-Fetch-Site": "cross-site"})
    assert fetch_meta.status_code == 403
    null_origin = _post_form(desc, "trained_model", form, Origin="null")
    assert null_origin.status_code == 403
    assert path.read_bytes() == before
    # the same form from this site saves
    ok = _post_form(desc, "trained_model", form, Origin=desc.url)
    assert ok.status_code == 303
    assert ok.headers["location"] == "/ui/descriptors/trained_model?saved=1"
    _assert_security_headers(ok)
    assert read_descriptor(path).model_name == "changed"  # type: ignore[attr-defined]


def test_unknown_kinds_are_404_and_never_touch_the_disk(desc: Served, ddir: Path) -> None:
    cookie = _cookie(desc)
    listing = sorted(p.name for p in ddir.parent.rglob("*"))
    for kind in ("passwords", "Trained_Model", "..%2Ftrained_model", "trained_model.json"):
        r = httpx.get(f"{desc.url}/ui/descriptors/{kind}", headers=cookie)
        assert r.status_code == 404, kind
        if "%2F" not in kind:  # (an encoded slash matches no UI route: the API's 404)
            _assert_security_headers(r)
            assert "is not one of the eight descriptors" in r.text
            assert all(k in r.text for k in DESCRIPTOR_KINDS)
        posted = httpx.post(
            f"{desc.url}/ui/descriptors/{kind}",
            data={"model_name": "x", "_base": "absent"},
            headers=cookie,
        )
        assert posted.status_code == 404, kind
    assert sorted(p.name for p in ddir.parent.rglob("*")) == listing


def test_without_a_descriptor_directory_the_pages_say_how_to_enable_them(
    no_dir: Served, page: Any
) -> None:
    cookie = _cookie(no_dir)
    for url in ("/ui/descriptors", "/ui/descriptors/trained_model", "/ui/mismatch"):
        r = httpx.get(no_dir.url + url, headers=cookie)
        assert r.status_code == 404, url
        assert "mlrails serve --descriptors DIR" in r.text
        _assert_security_headers(r)
    posted = httpx.post(
        no_dir.url + "/ui/descriptors/trained_model", data={"_base": "absent"}, headers=cookie
    )
    assert posted.status_code == 404
    _sign_in(page, no_dir)
    response = page.goto(no_dir.url + "/ui/mismatch")
    assert response.status == 404
    assert "mlrails serve --descriptors DIR" in page.locator("#notice pre.command").inner_text()
    assert page.locator("nav.pages a[aria-current=page]").inner_text() == "Mismatch"
    assert page.problems == []


def test_forms_larger_than_the_limit_are_413(desc: Served, ddir: Path) -> None:
    path = ddir / "system_context.json"
    before = path.read_bytes()
    form = _form_of(system.system_context(), path)
    form["task"] = "x" * (MAX_DESCRIPTOR_FORM_BYTES + 1)
    r = _post_form(desc, "system_context", form)
    assert r.status_code == 413
    _assert_security_headers(r)
    assert path.read_bytes() == before


# -- the descriptor list -------------------------------------------------------------------
def test_list_and_mismatch_show_present_missing_and_unreadable_files(
    desc: Served, ddir: Path, page: Any
) -> None:
    (ddir / "production_data.json").unlink()
    (ddir / "trained_model.json").write_text('{"version": "1.2", "model_name": ', "utf-8")
    doc = json.loads((ddir / "raw_data.json").read_text("utf-8"))
    doc["number_of_instances"] = "many"
    (ddir / "raw_data.json").write_text(json.dumps(doc), "utf-8")
    ds = read_descriptor_dir(ddir)
    assert set(ds.errors) == {"trained_model", "raw_data"} and ds.missing == ["production_data"]

    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors")
    rows = page.locator("#descriptors tbody tr").all()
    assert [r.get_attribute("data-kind") for r in rows] == list(DESCRIPTOR_KINDS)
    states = {r.get_attribute("data-kind"): r.get_attribute("data-state") for r in rows}
    want = {k: "present" for k in DESCRIPTOR_KINDS}
    want.update(trained_model="unreadable", raw_data="unreadable", production_data="missing")
    assert states == want
    for kind, error in ds.errors.items():
        row = page.locator(f"#descriptors tr[data-kind={kind}]")
        items = row.locator("ul.issues li").all()
        assert len(items) == len(error.issues)
        for item, issue in zip(items, error.issues, strict=True):
            assert item.locator(".file").inner_text() == descriptor_filename(kind)
            assert item.locator(".path").inner_text() == issue.path
            assert item.locator(".problem").inner_text() == issue.problem
    assert "not valid JSON" in page.locator("#descriptors tr[data-kind=trained_model]").inner_text()
    assert "$.number_of_instances" in page.locator("tr[data-kind=raw_data]").inner_text()
    # each unreadable file opens in the editor with its problems (and its text, kept)
    page.click("#descriptors tr[data-kind=trained_model] a")
    page.wait_for_url(desc.url + "/ui/descriptors/trained_model")
    assert page.locator("#unreadable").is_visible()
    (general,) = ds.errors["trained_model"].issues
    assert page.locator("#problems ul.issues .problem").inner_text() == general.problem
    raw = (ddir / "trained_model.json").read_text("utf-8")
    assert page.locator("#raw-file pre").text_content() == raw
    page.goto(desc.url + "/ui/descriptors/raw_data")
    (bad,) = ds.errors["raw_data"].issues
    field = page.locator("#field-number_of_instances ul.field-errors li")
    assert field.locator(".path").inner_text() == bad.path == "$.number_of_instances"
    assert field.locator(".problem").inner_text() == bad.problem
    assert page.input_value("#in-number_of_instances") == '"many"'

    # the mismatch page reports the same files, and what it could still check
    report = check_descriptors(read_descriptor_dir(ddir))
    page.goto(desc.url + "/ui/mismatch")
    problems = page.locator("#unreadable li").all()
    assert len(problems) == len(report.descriptor_problems) == 2
    for item, p in zip(problems, report.descriptor_problems, strict=True):
        assert item.locator(".file").inner_text() == Path(p.file).name
        assert item.locator(".path").inner_text() == p.path
        assert item.locator(".problem").inner_text() == p.problem
    skipped = [r.get_attribute("data-rule") for r in page.locator("#skipped tbody tr").all()]
    assert skipped == [s.rule_id for s in report.skipped_rules] and skipped
    assert "trained_model.json" in page.locator("#skipped").inner_text()
    assert _text(page.locator("#checked").inner_text()) == _text(
        "Rules checked: " + ", ".join(report.checked_rules)
    )
    assert page.problems == []


# -- viewer and editor ---------------------------------------------------------------------
def test_viewer_shows_every_field_with_its_schema_description(
    desc: Served, ddir: Path, page: Any
) -> None:
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/trained_model")
    fields = [f.get_attribute("data-field") for f in page.locator("form .field").all()]
    model_fields = TrainedModel.model_fields
    assert fields == [info.alias or name for name, info in model_fields.items()]
    for name, info in model_fields.items():
        box = page.locator(f".field[data-field={name}]")
        assert _text(box.locator("p.description").first.inner_text()) == _text(
            info.description or ""
        )
    want = system.trained_model()
    assert page.input_value("#in-model_name") == want.model_name
    assert page.input_value("#in-training_date") == "2024-01-01"
    assert page.input_value("#in-ensemble") == "false"
    shown = json.loads(page.input_value("#in-model_components"))
    assert shown == want.to_document()["model_components"]
    # nested objects: their fields and descriptions are listed under the field
    nested = page.locator("#field-model_components details.structure")
    nested.locator("summary").click()
    algo = nested.locator("li[data-field=algorithm]")
    assert "Learning algorithm" in algo.inner_text()
    assert "Random Forest" in algo.locator(".type").first.inner_text()  # the allowed values
    assert page.locator("#field-model_name .req").inner_text() == "required"
    # statistics are shown in the format's rows (property, field, value), as in the file
    page.goto(desc.url + "/ui/descriptors/training_data")
    rows = json.loads(page.input_value("#in-statistics"))
    assert rows == json.loads((ddir / "training_data.json").read_text("utf-8"))["statistics"]
    stats = page.locator("#field-statistics details.structure li[data-field=property]")
    assert "Statistical property" in stats.text_content()
    assert page.locator("script").count() == 0
    assert page.problems == []


def test_editing_in_the_browser_rewrites_the_file(desc: Served, ddir: Path, page: Any) -> None:
    path = ddir / "trained_model.json"
    multiline = system.trained_model().model_copy(update={"model_description": "one\ntwo"})
    write_descriptor(multiline, path)
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/trained_model")
    page.fill("#in-model_name", "loan-forest")
    page.select_option("#in-ensemble", "true")
    page.fill("#in-ml_frameworks", '["sklearn>=1.5",\n "numpy"]')
    long_text = "a probability of default: <b>not bold</b> & more. " * 3
    page.fill("#in-model_output_interpretation", long_text)
    # a multi-line text is edited in a textarea (whose line breaks the browser sends as CRLF)
    assert page.locator("#in-model_description").evaluate("e => e.tagName") == "TEXTAREA"
    assert page.input_value("#in-model_description") == "one\ntwo"
    page.fill("#in-model_description", "one\ntwo\nthree")
    inference = json.loads(page.input_value("#in-inference_time"))
    inference["time"] = 35
    page.fill("#in-inference_time", json.dumps(inference))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save")
    assert posted.value.status == 303
    page.wait_for_url(desc.url + "/ui/descriptors/trained_model?saved=1")
    assert "Saved" in page.locator("#saved").inner_text()

    saved = read_descriptor(path)
    assert isinstance(saved, TrainedModel)
    assert saved.model_name == "loan-forest"
    assert saved.ensemble is True
    assert saved.ml_frameworks == ["sklearn>=1.5", "numpy"]
    assert saved.model_output_interpretation == long_text
    assert saved.model_description == "one\ntwo\nthree"
    assert saved.inference_time is not None and saved.inference_time.time == 35
    # everything not edited is unchanged, and the file is the library's v1.2 text
    untouched = system.trained_model().model_copy(
        update={
            "model_name": "loan-forest",
            "ensemble": True,
            "ml_frameworks": ["sklearn>=1.5", "numpy"],
            "model_output_interpretation": long_text,
            "model_description": "one\ntwo\nthree",
            "inference_time": saved.inference_time,
        }
    )
    assert saved == untouched
    assert json.loads(path.read_text("utf-8"))["version"] == "1.2"
    assert sorted(p.name for p in ddir.iterdir()) == sorted(
        descriptor_filename(k) for k in DESCRIPTOR_KINDS
    )  # no temporary file left behind
    # the viewer shows the new values
    assert page.input_value("#in-model_name") == "loan-forest"
    assert page.input_value("#in-model_output_interpretation") == long_text
    assert page.input_value("#in-model_description") == "one\ntwo\nthree"
    assert page.problems == []


def test_invalid_edits_are_422_at_their_fields_and_leave_the_file_alone(
    desc: Served, ddir: Path, page: Any
) -> None:
    path = ddir / "trained_model.json"
    before = path.read_bytes()
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/trained_model")
    page.fill("#in-inference_time", '{"time": "fast", "unit": "Milliseconds"}')
    page.fill("#in-ml_frameworks", '["sklearn", ')  # not JSON
    page.fill("#in-training_date", "last spring")
    page.fill("#in-model_name", "renamed")  # valid, but nothing is saved with the rest
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save")
    assert posted.value.status == 422
    assert path.read_bytes() == before

    def errors(name: str) -> list[tuple[str, str]]:
        items = page.locator(f"#field-{name} ul.field-errors li").all()
        return [
            (i.locator(".path").inner_text(), i.locator(".problem").inner_text()) for i in items
        ]

    (time_error,) = errors("inference_time")
    assert time_error[0] == "$.inference_time.time" and "integer" in time_error[1]
    (json_error,) = errors("ml_frameworks")
    assert json_error[0] == "$.ml_frameworks" and json_error[1].startswith("not valid JSON")
    (date_error,) = errors("training_date")
    assert date_error[0] == "$.training_date" and "last spring" in date_error[1]
    assert errors("model_name") == []
    assert "3 problems; nothing was saved" in _text(page.locator("#problems h3").inner_text())
    jump = [a.inner_text() for a in page.locator("#problems ul.jump a").all()]
    assert set(jump) == {"inference_time", "ml_frameworks", "training_date"}
    # what was typed is kept, so it can be fixed
    assert page.input_value("#in-ml_frameworks") == '["sklearn", '
    assert page.input_value("#in-model_name") == "renamed"
    assert page.input_value("#in-training_date") == "last spring"
    # fixing them saves
    page.fill("#in-inference_time", '{"time": 15, "unit": "Milliseconds"}')
    page.fill("#in-ml_frameworks", '["sklearn"]')
    page.fill("#in-training_date", "2024-02-29")
    page.click("#save")
    page.wait_for_url("**/ui/descriptors/trained_model?saved=1")
    saved = read_descriptor(path)
    assert isinstance(saved, TrainedModel)
    assert saved.ml_frameworks == ["sklearn"] and str(saved.training_date) == "2024-02-29"
    assert saved.model_name == "renamed"
    assert page.problems == []


def test_a_wrong_type_posted_directly_is_422_with_its_path(desc: Served, ddir: Path) -> None:
    path = ddir / "raw_data.json"
    before = path.read_bytes()
    form = _form_of(system.raw_data(), path)
    form["number_of_instances"] = "12.5e"
    r = _post_form(desc, "raw_data", form)
    assert r.status_code == 422
    _assert_security_headers(r)
    assert "$.number_of_instances" in r.text and "valid integer" in r.text
    form["number_of_instances"] = "1.5"
    r = _post_form(desc, "raw_data", form)
    assert r.status_code == 422 and "$.number_of_instances" in r.text
    assert path.read_bytes() == before


def test_a_missing_descriptor_is_created_from_the_editor(
    desc: Served, ddir: Path, page: Any
) -> None:
    path = ddir / "production_environment.json"
    path.unlink()
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/production_environment")
    assert "does not exist yet" in page.locator("#missing").inner_text()
    # the starting document spells out what is required
    start = json.loads(page.input_value("#in-computing_resources"))
    assert start == {"gpu": 0, "cpu": 0, "memory": 0.0, "storage": 0.0}
    page.fill("#in-required_inference_time", '{"time": 100}')
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save")
    assert posted.value.status == 422
    assert not path.exists()
    problems = page.locator("#field-required_inference_time ul.field-errors").inner_text()
    assert "$.required_inference_time.unit" in problems and "required field is missing" in problems
    # fill in every field as the library writes them, then save
    want = system.production_environment()
    for name, value in form_values("production_environment", want.to_document()).items():
        control = page.locator(f"#in-{name}")
        if control.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)
    page.click("#save")
    page.wait_for_url("**/ui/descriptors/production_environment?saved=1")
    assert read_descriptor(path) == want
    assert page.locator("#missing").count() == 0
    assert page.problems == []


def test_a_stale_form_does_not_overwrite_a_newer_file(desc: Served, ddir: Path, page: Any) -> None:
    path = ddir / "system_context.json"
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/system_context")
    newer = system.system_context().model_copy(update={"task": "changed elsewhere"})
    write_descriptor(newer, path)
    page.fill("#in-task", "changed in the browser")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#save")
    assert posted.value.status == 409
    assert "changed on disk" in page.locator("#notice").inner_text()
    assert read_descriptor(path) == newer
    assert page.input_value("#in-task") == "changed in the browser"


# -- the mismatch page ---------------------------------------------------------------------
def test_mismatch_page_lists_exactly_the_library_findings(
    desc: Served, ddir: Path, page: Any
) -> None:
    write_descriptor(system.trained_model(("tensorflow",)), ddir)
    write_descriptor(system.production_environment(10), ddir)
    write_descriptor(system.production_data(age=[10, 10, 10, 400, 500]), ddir)
    report = check_descriptors(read_descriptor_dir(ddir))
    want = report.sorted_findings()
    assert {"MM-FRAMEWORK", "MM-INFERENCE-TIME", "MM-STAT-DRIFT"} <= {f.rule_id for f in want}

    _sign_in(page, desc)
    page.goto(desc.url + "/ui/mismatch")
    rows = page.locator("#findings tr.finding").all()
    assert [r.get_attribute("data-rule") for r in rows] == [f.rule_id for f in want]
    assert [r.get_attribute("data-severity") for r in rows] == [f.severity for f in want]
    counts = page.locator("#counts")
    for severity, n in report.counts().items():
        assert int(counts.get_attribute(f"data-{severity}")) == n
    for row, f in zip(rows, want, strict=True):
        cells = row.locator("td").all()
        assert cells[2].inner_text() == f.message
        assert cells[3].inner_text().split() == list(f.descriptors)
        assert cells[4].inner_text().split("\n") == list(f.fields)
        assert cells[6].inner_text() == ", ".join(f.roles)
        assert cells[7].inner_text() == f.fix_hint
    latency = page.locator("#findings tr[data-rule=MM-INFERENCE-TIME] .numbers").inner_text()
    assert "observed_ms = 20" in latency and "required_ms = 10" in latency
    assert page.locator("#statistics tbody tr").count() == len(report.statistics)
    page.click("#findings tr[data-rule=MM-FRAMEWORK] a >> text=trained_model")
    page.wait_for_url(desc.url + "/ui/descriptors/trained_model")
    assert page.problems == []


def test_consistent_descriptors_give_no_findings(desc: Served, ddir: Path, page: Any) -> None:
    report = check_descriptors(read_descriptor_dir(ddir))
    assert report.findings == []
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/mismatch")
    assert page.locator("#no-findings").is_visible()
    assert page.locator("#unreadable").count() == 0
    assert _text(page.locator("#counts").inner_text()).startswith("0 errors, 0 warnings, 0 info")


# -- escaping and navigation ---------------------------------------------------------------
def test_injected_script_in_a_descriptor_is_shown_as_text(
    desc: Served, ddir: Path, page: Any
) -> None:
    write_descriptor(system.system_context().model_copy(update={"task": PAYLOAD}), ddir)
    write_descriptor(system.trained_model((PAYLOAD,)), ddir)
    _sign_in(page, desc)
    page.goto(desc.url + "/ui/descriptors/system_context")
    assert page.input_value("#in-task") == PAYLOAD
    page.goto(desc.url + "/ui/descriptors/trained_model")
    assert json.loads(page.input_value("#in-ml_frameworks")) == [PAYLOAD]
    page.goto(desc.url + "/ui/mismatch")
    message = page.locator("#findings tr[data-rule=MM-FRAMEWORK] .message").inner_text()
    assert PAYLOAD in message
    assert page.locator("main img").count() == 0 and page.locator("script").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []
    # saving it back keeps it as text
    page.goto(desc.url + "/ui/descriptors/system_context")
    page.click("#save")
    page.wait_for_url("**/ui/descriptors/system_context?saved=1")
    assert read_descriptor(ddir / "system_context.json").task == PAYLOAD  # type: ignore[attr-defined]
    assert page.evaluate("window.__pwned") is None


def test_navigation_bar_on_every_page(
    make_server: ServerFactory, tmp_path: Path, page: Any
) -> None:
    write_descriptor_dir(system.consistent().values(), tmp_path)
    open_server = make_server(auth=False, descriptors_dir=str(tmp_path))
    pages = {
        "/ui": "Dashboard",
        "/ui/descriptors": "Descriptors",
        "/ui/descriptors/raw_data": "Descriptors",
        "/ui/mismatch": "Mismatch",
    }
    for url, current in pages.items():
        response = page.goto(open_server.url + url)
        assert response.status == 200, url
        links = page.locator("header nav.pages a").all()
        assert [(a.get_attribute("href"), a.inner_text()) for a in links] == NAV
        assert page.locator("nav.pages a[aria-current=page]").inner_text() == current
        assert page.locator("#auth-off").count() == 1  # auth off, and the page says so
    # with auth off a same-origin post from the page still saves
    page.goto(open_server.url + "/ui/descriptors/raw_data")
    page.fill("#in-number_of_instances", "1234")
    page.click("#save")
    page.wait_for_url("**/ui/descriptors/raw_data?saved=1")
    assert read_descriptor(tmp_path / "raw_data.json").number_of_instances == 1234  # type: ignore[attr-defined]
    assert page.problems == []
