"""The Open Inference Protocol v2 (KServe "V2") over the guard: tensors in, verdicts out.

An inference request carries ``inputs``, a list of tensors ``{name, shape, datatype, data}``
(``data`` flat or nested, row-major). Two forms are accepted for tables:

* one tensor per contract column, shape ``[n]`` or ``[n, 1]``; numeric columns as
  ``FP16/FP32/FP64/INT*/UINT*``, boolean columns as ``BOOL``, categorical columns as
  ``BYTES`` (or integers);
* one tensor (any name that is not a column) of shape ``[n, n_columns]`` in the contract's
  column order, when every column takes its datatype (all numeric: a numeric datatype; all
  boolean: ``BOOL``; never with a categorical column), see :func:`matrix_datatypes`.

Image-like contracts take one tensor of shape ``[n, *sample_shape]``. A ``null`` element of
any datatype is a missing value (JSON has no NaN): a nullable column takes it, any other
column makes that row the guard's ``missing_value`` 400. A tensor whose shape, datatype or
data disagree, or a datatype the column cannot hold, raises
:class:`~mlrails.serve.payload.PayloadError` (answered 400); when the fault is a value's type
(a ``BOOL`` tensor for a numeric column, a JSON boolean or string among an ``FP64`` tensor's
numbers, a number in a ``BOOL`` one), its ``violations`` list each column concerned as the
guard's ``wrong_type``: JSON booleans are not numbers (nor numbers booleans) on either
route, and a tensor has one datatype, so the whole request is refused. Everything the
contract itself promises (ranges, categories, missing values) stays the guard's business, so
one row gets the same verdict through ``/v1/predict`` and through ``/v2/.../infer``.

The outputs are tensors of valid elements, one per row: ``predict``, ``probabilities``
(classification), ``status`` (``INT32``, each row's code), ``problem`` (``BYTES``, the row's
problem type URI, ``""`` when it passed) and ``answered`` (``BOOL``, whether the row has a
prediction). A row without a prediction (400, 403, 422) holds the *fill* value in
``predict`` and ``probabilities`` (see :func:`fill_value`; advertised as the tensor parameter
``mlrails_fill`` in the model metadata), never ``null``, which no numeric tensor can hold.
The response's ``parameters`` hold the verdicts. OIP parameter values are scalars (string,
number, boolean), so the per-row verdicts travel as one JSON-encoded string,
``mlrails_verdicts``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from mlrails._json import dumps, jsonable
from mlrails.contract import InputContract
from mlrails.contract.spec import FieldSpec
from mlrails.contract.validate import WRONG_TYPE, Violation, contract_columns
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.serve.payload import PayloadError, PredictPayload

#: integer datatypes and their ranges
INT_RANGES: dict[str, tuple[int, int]] = {
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
}
FLOATS = ("FP16", "FP32", "FP64")
DATATYPES = ("BOOL", *INT_RANGES, *FLOATS, "BYTES")
NUMERIC = (*INT_RANGES, *FLOATS)
#: which datatypes a column of each contract kind accepts
ACCEPTED: dict[str, tuple[str, ...]] = {
    "numeric": NUMERIC,
    "integer": NUMERIC,
    "boolean": ("BOOL",),
    "categorical": ("BYTES", *INT_RANGES),
}
#: the datatype advertised in the model metadata for each contract kind
ADVERTISED = {"numeric": "FP64", "integer": "INT64", "boolean": "BOOL", "categorical": "BYTES"}
_REQUEST_KEYS = {"id", "parameters", "inputs", "outputs"}
_MAX_SHOWN = 8


@dataclass(frozen=True)
class InferPayload(PredictPayload):
    """The rows of an inference request, plus what the OIP request asked for."""

    id: str | None = None
    explain: bool | None = None
    outputs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class _Tensor:
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]  # flat, row-major


# -- the request ---------------------------------------------------------------------------
def parse_infer(body: Any, contract: InputContract, output_names: Sequence[str]) -> InferPayload:
    """Rows of an OIP inference request (see module docstring); PayloadError if malformed."""
    if not isinstance(body, dict):
        raise PayloadError("the body must be a JSON object with 'inputs'")
    unknown = sorted(set(body) - _REQUEST_KEYS)
    if unknown:
        raise PayloadError(f"unknown field(s) {unknown}; an inference request has {_keys()}")
    req_id = body.get("id")
    if req_id is not None and (not isinstance(req_id, str) or len(req_id) > 256):
        raise PayloadError("'id' must be a string of at most 256 characters")
    explain = _explain(body.get("parameters"))
    outputs = _requested_outputs(body.get("outputs"), output_names)
    raw_inputs = body.get("inputs")
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise PayloadError("'inputs' must be a non-empty array of tensors")
    matrix = len(raw_inputs) == 1  # one tensor may hold every column
    tensors = [_tensor(t, i, contract, matrix) for i, t in enumerate(raw_inputs)]
    names = [t.name for t in tensors]
    dupes = sorted(n for n, c in Counter(names).items() if c > 1)
    if dupes:
        raise PayloadError(f"input(s) {dupes} sent more than once")
    if contract.layout == "image":
        rows = _image_rows(tensors, contract)
    elif len(tensors) == 1 and tensors[0].name not in contract.columns:
        rows = _matrix_rows(tensors[0], contract)
    else:
        rows = _column_rows(tensors, contract)
    return InferPayload(rows, single=len(rows) == 1, id=req_id, explain=explain, outputs=outputs)


def _keys() -> str:
    return "'inputs' and optionally 'id', 'parameters', 'outputs'"


def _explain(params: Any) -> bool | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        raise PayloadError("'parameters' must be an object")
    explain = params.get("explain")
    if explain is not None and not isinstance(explain, bool):
        raise PayloadError("parameter 'explain' must be true or false")
    return explain


def _requested_outputs(outputs: Any, known: Sequence[str]) -> tuple[str, ...] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise PayloadError("'outputs' must be an array of {name}")
    names = []
    for i, o in enumerate(outputs):
        if not isinstance(o, dict) or not isinstance(o.get("name"), str):
            raise PayloadError(f"outputs[{i}] must be an object with a string 'name'")
        if o["name"] not in known:
            raise PayloadError(f"unknown output {o['name']!r}; this model has {list(known)}")
        names.append(o["name"])
    return tuple(names)


def _tensor(t: Any, i: int, contract: InputContract, matrix: bool) -> _Tensor:
    where = f"inputs[{i}]"
    if not isinstance(t, dict):
        raise PayloadError(f"{where} must be a tensor object {{name, shape, datatype, data}}")
    name = t.get("name")
    if not isinstance(name, str) or not name:
        raise PayloadError(f"{where} needs a 'name' (string)")
    where = f"input {name!r}"
    shape = t.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(type(d) is int and d >= 0 for d in shape)
    ):
        raise PayloadError(f"{where}: 'shape' must be a non-empty array of non-negative integers")
    datatype = t.get("datatype")
    if datatype not in DATATYPES:
        raise PayloadError(f"{where}: unknown datatype {datatype!r}; one of {list(DATATYPES)}")
    if "data" not in t:
        raise PayloadError(f"{where} has no 'data'")
    data = _flatten(t["data"], where)
    size = math.prod(shape)
    if len(data) != size:
        raise PayloadError(
            f"{where}: shape {shape} holds {size} element(s), 'data' has {len(data)}"
        )
    faults = [(j, v, p) for j, v in enumerate(data) if (p := _element_problem(datatype, v))]
    tensor = _Tensor(name, shape, datatype, data)
    if faults:
        j, _, problem = faults[0]
        column = _columns_of(contract, tensor, matrix)(j)
        place = "" if column is None or column == name else f" (column {column!r})"
        raise PayloadError(
            f"{where} is {datatype} but element {j} {problem}{place}",
            _element_violations(contract, tensor, faults, matrix),
        )
    return tensor


#: what an element of each datatype is
_ELEMENT = {
    "BOOL": "true or false",
    "BYTES": "a string",
    **dict.fromkeys(FLOATS, "a number"),
    **dict.fromkeys(INT_RANGES, "an integer"),
}


def _element_violations(
    contract: InputContract, t: _Tensor, faults: list[tuple[int, Any, str]], matrix: bool
) -> list[Violation]:
    """``wrong_type`` for each contract column holding an element of another type than the
    tensor's (its first such element); an integer outside its datatype's range is no type
    fault, and elements of no column (image tensors, unknown inputs) are listed in none."""
    expected = f"{_ELEMENT[t.datatype]} (an element of the {t.datatype} tensor {t.name!r})"
    column_of = _columns_of(contract, t, matrix)
    found: dict[str, Violation] = {}
    for j, v, _ in faults:
        if t.datatype in INT_RANGES and type(v) is int:
            continue  # out of range
        field = column_of(j)
        if field is not None:
            found.setdefault(field, Violation(field, WRONG_TYPE, jsonable(v), expected))
    return list(found.values())


def _columns_of(contract: InputContract, t: _Tensor, matrix: bool) -> Callable[[int], str | None]:
    """The contract column each element of ``t`` is a value of, by its index: the tensor's
    own column, or in the one tensor of all columns (``matrix``, shape ``[n, n_columns]``)
    the index's column; ``None`` for image tensors and unknown inputs."""
    cols = [] if contract.layout == "image" else contract_columns(contract)
    if t.name in cols:
        return lambda j: t.name
    if matrix and cols and len(t.shape) == 2 and t.shape[1] == len(cols):
        return lambda j: cols[j % len(cols)]
    return lambda j: None


def _flatten(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise PayloadError(f"{where}: 'data' must be an array (flat or nested, row-major)")
    if not any(isinstance(v, list) for v in data):
        return data
    out: list[Any] = []
    stack: list[Any] = [iter(data)]
    while stack:  # iterative: nesting depth is the client's choice, not the call stack's
        for v in stack[-1]:
            if isinstance(v, list):
                stack.append(iter(v))
                break
            out.append(v)
        else:
            stack.pop()
    return out


def _element_problem(datatype: str, v: Any) -> str | None:
    """Why ``v`` is not an element of ``datatype`` (None when it is; ``null``, a missing
    value, is an element of every datatype)."""
    if v is None:
        return None
    if datatype == "BYTES":
        return None if isinstance(v, str) else f"is {_kind(v)}, not a string"
    if datatype == "BOOL":
        return None if isinstance(v, bool) else f"is {_kind(v)}, not true/false"
    if datatype in FLOATS:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        return None if ok else f"is {_kind(v)}, not a number"
    if type(v) is not int:
        return f"is {_kind(v)}, not an integer"
    lo, hi = INT_RANGES[datatype]
    return None if lo <= v <= hi else f"({v}) is outside [{lo}, {hi}]"


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return f"a number ({v!r})"
    if isinstance(v, str):
        return f"a string ({v[:20]!r})"
    return "an object"


def _matrix_rows(t: _Tensor, contract: InputContract) -> list[dict[str, Any]]:
    cols = contract.columns
    where = f"input {t.name!r}"
    categorical = [f.name for f in contract.fields if f.kind == "categorical"]
    if categorical:
        raise PayloadError(
            f"{where} is not a column of the contract, and one tensor for all columns needs "
            f"numeric columns; {_shown(categorical)} are categorical: send one tensor per "
            "column (BYTES for categorical ones)"
        )
    accepted = matrix_datatypes(contract)
    if not accepted:
        raise PayloadError(
            f"{where} is not a column of the contract, and one tensor for all columns needs "
            "columns of one kind (numeric or boolean): send one tensor per column"
        )
    if t.datatype not in accepted:
        kinds = {f.kind for f in contract.fields}
        raise PayloadError(
            f"{where} is {t.datatype}; one tensor for all columns must be "
            f"{'numeric' if 'boolean' not in kinds else 'BOOL'} "
            f"(accepted: {', '.join(accepted)})",
            [_datatype_violation(f, t) for f in contract.fields],
        )
    if len(t.shape) != 2 or t.shape[1] != len(cols):
        raise PayloadError(
            f"{where} has shape {t.shape}; expected [n, {len(cols)}] (the contract's "
            f"{len(cols)} columns in order: {_shown(cols)}), or one tensor per column"
        )
    k = len(cols)
    return [dict(zip(cols, t.data[i * k : (i + 1) * k], strict=True)) for i in range(t.shape[0])]


def matrix_datatypes(contract: InputContract) -> tuple[str, ...]:
    """The datatypes of one tensor holding every column: those all columns take (none when a
    column is categorical, or numeric and boolean columns are mixed)."""
    kinds = {f.kind for f in contract.fields}
    if not kinds or "categorical" in kinds:
        return ()
    return tuple(d for d in DATATYPES if all(d in ACCEPTED[k] for k in kinds))


def _datatype_violation(spec: FieldSpec, t: _Tensor) -> Violation:
    """``wrong_type`` for a column sent as a tensor of a datatype its kind cannot hold."""
    return Violation(
        spec.name,
        WRONG_TYPE,
        t.datatype,
        f"a {spec.kind} column: {ADVERTISED[spec.kind]} (accepted: "
        f"{', '.join(ACCEPTED[spec.kind])})",
    )


def _column_rows(tensors: list[_Tensor], contract: InputContract) -> list[dict[str, Any]]:
    fields: dict[str, FieldSpec] = {f.name: f for f in contract.fields}
    unknown = [t.name for t in tensors if t.name not in fields]
    if unknown and not contract.allow_extra_columns:
        raise PayloadError(
            f"unknown input(s) {_shown(unknown)}; the inputs are the contract's columns "
            f"({_shown(contract.columns)}), or one tensor of shape [n, {len(fields)}]"
        )
    lengths = set()
    for t in tensors:
        if len(t.shape) > 2 or (len(t.shape) == 2 and t.shape[1] != 1):
            raise PayloadError(f"input {t.name!r} has shape {t.shape}; a column is [n] or [n, 1]")
        lengths.add(t.shape[0])
    mistyped = [
        (t, fields[t.name])
        for t in tensors
        if t.name in fields and t.datatype not in ACCEPTED[fields[t.name].kind]
    ]
    if mistyped:
        t, spec = mistyped[0]
        more = f" ({len(mistyped) - 1} more column(s) mistyped)" if len(mistyped) > 1 else ""
        raise PayloadError(
            f"input {t.name!r} is {t.datatype}, but column {t.name!r} is {spec.kind}: send "
            f"{ADVERTISED[spec.kind]} (accepted: {', '.join(ACCEPTED[spec.kind])}){more}",
            [_datatype_violation(spec, t) for t, spec in mistyped],
        )
    if len(lengths) != 1:
        raise PayloadError(f"the inputs have different lengths {sorted(lengths)}")
    n = lengths.pop()
    names = [t.name for t in tensors]
    columns = [t.data for t in tensors]
    return [{c: col[i] for c, col in zip(names, columns, strict=True)} for i in range(n)]


def _image_rows(tensors: list[_Tensor], contract: InputContract) -> list[Any]:
    assert contract.image is not None
    sample = list(contract.image.shape)
    if len(tensors) != 1:
        raise PayloadError(f"send one tensor of shape [n, {', '.join(map(str, sample))}]")
    t = tensors[0]
    if t.shape[1:] != sample:
        raise PayloadError(
            f"input {t.name!r} has shape {t.shape}; expected [n, {', '.join(map(str, sample))}]"
        )
    if t.datatype not in NUMERIC:
        raise PayloadError(f"input {t.name!r} is {t.datatype}; an image tensor is numeric")
    arr = np.asarray(t.data, dtype=np.float64).reshape(t.shape)
    return [a.tolist() for a in arr]


def _shown(names: Sequence[str]) -> str:
    extra = f" ... ({len(names)} in all)" if len(names) > _MAX_SHOWN else ""
    return str(list(names[:_MAX_SHOWN]))[:-1] + extra + "]"


# -- the model's tensors -------------------------------------------------------------------
def input_tensors(contract: InputContract) -> list[dict[str, Any]]:
    """The metadata of the inputs: one tensor per column (or the image tensor)."""
    if contract.layout == "image" and contract.image is not None:
        return [{"name": "input", "datatype": "FP64", "shape": [-1, *contract.image.shape]}]
    return [
        {"name": f.name, "datatype": ADVERTISED[f.kind], "shape": [-1]} for f in contract.fields
    ]


def classes(rails: Rails) -> list[Any] | None:
    """The class labels (classification), in the order of the probabilities."""
    labels = rails.adapter.classes_ if rails.adapter is not None else None
    if labels is None:
        labels = rails.manifest.get("classes")
    return None if labels is None else [jsonable(c) for c in np.asarray(labels).tolist()]


def prediction_datatype(rails: Rails) -> str:
    labels = classes(rails)
    if rails.task != "classification" or labels is None:
        return "FP64"
    if all(isinstance(c, bool) for c in labels):
        return "BOOL"
    if all(isinstance(c, int) and not isinstance(c, bool) for c in labels):
        return "INT64"
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in labels):
        return "FP64"
    return "BYTES"


def fill_value(rails: Rails) -> Any:
    """What ``predict`` holds for a row without a prediction (see :func:`predict_fill`)."""
    return predict_fill(prediction_datatype(rails), classes(rails))


def predict_fill(datatype: str, labels: Sequence[Any] | None) -> Any:
    """The fill of a ``predict`` tensor of ``datatype``: ``-1`` for integer labels (when
    ``-1`` is a label, the smallest label minus one, else an unused INT64 value), ``""`` for
    string labels, ``false`` for boolean ones, ``0.0`` for numbers (regression). The output
    ``answered`` says which rows hold a prediction."""
    if datatype == "INT64":
        used = sorted({int(c) for c in labels or []})
        lo, hi = INT_RANGES["INT64"]
        for candidate in (-1, used[0] - 1 if used else -1, used[-1] + 1 if used else -1):
            if lo <= candidate <= hi and candidate not in used:
                return candidate
        return next(a + 1 for a, b in pairwise(used) if b - a > 1)
    return {"BYTES": "", "BOOL": False}.get(datatype, 0.0)


#: what ``probabilities`` holds for a row without a prediction (a row of zeros: no distribution)
PROBABILITY_FILL = 0.0


def output_tensors(rails: Rails) -> list[dict[str, Any]]:
    """The metadata of the outputs: ``predict``, ``probabilities`` (classification),
    ``status``, ``problem``, ``answered``; the fill values as tensor parameters."""
    out: list[dict[str, Any]] = [
        {
            "name": "predict",
            "datatype": prediction_datatype(rails),
            "shape": [-1],
            "parameters": {"mlrails_fill": fill_value(rails)},
        }
    ]
    labels = classes(rails)
    if rails.task == "classification" and labels is not None:
        out.append(
            {
                "name": "probabilities",
                "datatype": "FP64",
                "shape": [-1, len(labels)],
                "parameters": {"mlrails_fill": PROBABILITY_FILL},
            }
        )
    out.append({"name": "status", "datatype": "INT32", "shape": [-1]})
    out.append({"name": "problem", "datatype": "BYTES", "shape": [-1]})
    out.append({"name": "answered", "datatype": "BOOL", "shape": [-1]})
    return out


# -- the response --------------------------------------------------------------------------
def verdict_parameters(
    status: int, trace_id: str, artifact_hash: str, verdicts: Sequence[Verdict]
) -> dict[str, Any]:
    """The response ``parameters``: the summary as scalars, the per-row verdicts as JSON."""
    counts = Counter(str(v.status) for v in verdicts)
    rows = [
        {
            "row": v.row,
            "status": v.status,
            "problem": v.problem,
            "title": v.title,
            "detail": v.detail,
        }
        for v in verdicts
    ]
    return {
        "mlrails_status": status,
        "mlrails_trace_id": trace_id,
        "mlrails_artifact_hash": artifact_hash,
        "mlrails_status_counts": dumps(dict(sorted(counts.items()))),
        "mlrails_verdicts": dumps(rows),
    }


def outputs_of(
    rails: Rails, verdicts: Sequence[Verdict], wanted: tuple[str, ...] | None
) -> list[dict[str, Any]]:
    """The output tensors for these verdicts (one element per row, never ``null``); rows the
    guard answered without a prediction hold the fill values in ``predict`` and
    ``probabilities``: ``answered`` is false for them, ``status`` and ``problem`` say why."""
    n = len(verdicts)
    fill = fill_value(rails)
    out: list[dict[str, Any]] = []
    for meta in output_tensors(rails):
        name = meta["name"]
        if wanted is not None and name not in wanted:
            continue
        shape = [n]
        if name == "predict":
            data: list[Any] = [
                fill if v.prediction is None else jsonable(v.prediction) for v in verdicts
            ]
        elif name == "probabilities":
            keys = [str(c) for c in classes(rails) or []]
            data = []
            for v in verdicts:
                p = v.probabilities or {}
                data.extend(_probability(p.get(k)) for k in keys)
            shape = [n, len(keys)]
        elif name == "status":
            data = [v.status for v in verdicts]
        elif name == "problem":
            data = [v.problem or "" for v in verdicts]
        else:
            data = [v.prediction is not None for v in verdicts]
        out.append({"name": name, "datatype": meta["datatype"], "shape": shape, "data": data})
    return out


def _probability(p: Any) -> float:
    value = jsonable(p)
    return PROBABILITY_FILL if value is None else float(value)


# -- documents (responses, and the OpenAPI schemas) ----------------------------------------
class OipMetadataTensor(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, str | int | float | bool] | None = Field(
        None,
        description="outputs predict and probabilities: mlrails_fill, the value a row "
        "without a prediction holds (see the output answered)",
    )


class OipServerMetadata(BaseModel):
    """``GET /v2``."""

    name: str
    version: str
    extensions: list[str]


class OipModelMetadata(BaseModel):
    """``GET /v2/models/{name}``: the inputs derive from the input contract."""

    name: str
    versions: list[str]
    platform: str
    inputs: list[OipMetadataTensor]
    outputs: list[OipMetadataTensor]
    parameters: dict[str, str | int | float | bool] = Field(default_factory=dict)


class OipLive(BaseModel):
    live: bool


class OipReady(BaseModel):
    ready: bool


class OipModelReady(BaseModel):
    name: str
    ready: bool


class OipRequestTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str = Field(json_schema_extra={"enum": list(DATATYPES)})
    parameters: dict[str, Any] | None = None
    data: list[Any] = Field(description="row-major, flat or nested")


class OipRequestOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class OipInferenceRequest(BaseModel):
    """The body of ``POST /v2/models/{name}/infer``; ``parameters.explain`` (boolean)
    attaches SHAP explanations in the decision log."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[OipRequestTensor]
    outputs: list[OipRequestOutput] | None = None


class OipResponseTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    parameters: dict[str, Any] | None = None
    data: list[Any]


class OipInferenceResponse(BaseModel):
    """An inference answer (HTTP 200: every row of a batch, whatever its verdict; per-row
    outputs ``status``, ``problem``, ``answered``). A one-row request answered with another
    code gets a problem document that also has these members (and ``error``)."""

    model_name: str
    model_version: str | None = None
    id: str
    parameters: dict[str, str | int | float | bool] = Field(
        description="mlrails_status (the code /v1/predict answers: 207 for a mixed batch), "
        "mlrails_trace_id, mlrails_artifact_hash, "
        "mlrails_status_counts (JSON), mlrails_verdicts (JSON: row, status, problem, title, "
        "detail per row)"
    )
    outputs: list[OipResponseTensor]


OIP_MODELS: tuple[type[BaseModel], ...] = (
    OipServerMetadata,
    OipModelMetadata,
    OipLive,
    OipReady,
    OipModelReady,
    OipInferenceRequest,
    OipInferenceResponse,
)
