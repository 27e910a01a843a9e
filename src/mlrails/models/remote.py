"""Adapter for a model served elsewhere, called over HTTP (``mlrails serve --upstream``).

:class:`RemoteModel` sends the rows to an upstream model server and reads its answer. Every
upstream failure raises :class:`~mlrails.errors.ModelUnavailable` with a one-line detail that
names the upstream (its URL without credentials or query) and what went wrong: the guard then
fails the whole call (502, or 504 for ``timeout=True``) instead of blaming the rows.

Two protocols:

``"oip"`` (default)
    The Open Inference Protocol v2 (KServe "V2", Triton, MLServer, ``mlrails serve``):
    ``POST {url}/v2/models/{name}/infer``. A table goes as one tensor per column, shape
    ``[n]``: ``FP64`` for numeric columns (integers included), ``BOOL`` for boolean ones,
    ``BYTES`` for everything else (categories, as strings); the request carries the parameter
    ``content_type: "pd"`` (MLServer's hint to rebuild a table). An array without column names
    goes as one tensor ``input`` of the array's shape. The request names the one output it
    reads (``outputs: [{"name": ...}]``): ``output`` if given, else ``predict_proba`` for a
    classifier and ``predict`` for a regressor (MLServer's names: asked for nothing, a stock
    MLServer answers the labels). A named ``output`` must be in the answer; the default one
    may be missing from the answer of a server that ignores the request (KServe's ``output-0``):
    then the first of ``probabilities``, ``predict_proba``, ``proba`` present (regression:
    ``predict``, ``predictions``, ``values``) is read, else the only output. Shape ``[n, K]``
    (regression ``[n]`` or ``[n, 1]``), ``data`` flat row-major or nested. If ``url`` itself
    ends in ``/v2/models/NAME``, the server's base URL and the model name are taken from it.
``"json"``
    ``POST {url}`` with ``{"instances": [{column: value, ...}, ...]}`` (rows as lists when
    the array has no column names); the answer is ``{"probabilities": [[p0, p1, ...], ...]}``
    or ``{"predictions": ...}`` of that shape for a classifier (``probabilities`` wins when
    both are there), ``{"predictions": [v, ...]}`` for a regressor.

An answer outside 2xx is a :class:`~mlrails.errors.ModelUnavailable` that quotes the
upstream's OIP ``error`` (first line, 200 characters), e.g. an output it does not have.
Answers are validated: one row per input row, finite numbers, and for a classifier rows of
non-negative probabilities summing to 1 (within ``proba_atol``, loose enough for float32
models) with one column per class. Missing or non-finite inputs travel as ``null``.

One pooled, thread-safe ``httpx.Client`` per adapter; ``timeout`` bounds each phase of a call
(connecting, sending, waiting for the answer). :meth:`RemoteModel.ping` is the cheap health
probe behind the service's ``/readyz``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails._json import jsonable
from mlrails.errors import ModelUnavailable
from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.callable import (
    PROBA_ATOL_FLOAT32,
    check_probabilities,
    check_task,
    check_values,
    n_rows,
)

Protocol = Literal["oip", "json"]
PROTOCOLS: tuple[str, ...] = ("oip", "json")
#: OIP output names searched for the probabilities (classification), in this order
PROBA_OUTPUTS: tuple[str, ...] = ("probabilities", "predict_proba", "proba")
#: OIP output names searched for the values (regression), in this order
VALUE_OUTPUTS: tuple[str, ...] = ("predict", "predictions", "values")
#: the OIP output requested when none is named (MLServer's names)
DEFAULT_OUTPUTS: dict[str, str] = {"classification": "predict_proba", "regression": "predict"}
#: the health probe never waits longer than this
PING_TIMEOUT_S = 2.0
_OIP_PATH = re.compile(r"^(?P<base>.*?)/v2/models/(?P<name>[^/]+)(?:/.*)?$")


class RemoteModel(ModelAdapter):
    """A model behind an HTTP endpoint, seen through the adapter interface.

    ``url``: the upstream (``http(s)://[user:password@]host[:port][/path]``; credentials in
    it are sent as HTTP basic auth and never shown). ``protocol``: ``"oip"`` or ``"json"``
    (see the module docstring). ``model_name``: the OIP model name; default: taken from a URL
    ending in ``/v2/models/NAME``, else the URL's last path segment, else ``"model"``.
    ``task`` and ``classes`` describe the model (``mlrails.load`` fills in the classes from the
    artifact when they are not given; :func:`mlrails.serve.launch.remote_model_for` takes both
    from it). ``timeout``:
    seconds for each phase of one call. ``output``: the OIP output tensor to request and read
    (default: ``predict_proba``, regression ``predict``; see the module docstring).
    ``headers``: extra HTTP headers (e.g. an ``Authorization``).
    """

    def __init__(
        self,
        url: str,
        *,
        task: Task | str = "classification",
        classes: Sequence[Any] | NDArray[Any] | None = None,
        protocol: Protocol | str = "oip",
        model_name: str | None = None,
        timeout: float = 5.0,
        output: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 32,
        proba_atol: float = PROBA_ATOL_FLOAT32,
    ) -> None:
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx comes with the serve extra
            raise ImportError("RemoteModel needs httpx: pip install 'mlrails[serve]'") from None
        self.task = check_task(task)
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be 'oip' or 'json', got {protocol!r}")
        self.protocol: Protocol = "oip" if protocol == "oip" else "json"
        if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections}")
        if output is not None and (not isinstance(output, str) or not output.strip()):
            raise ValueError(f"output must be the name of an OIP output tensor, got {output!r}")
        self.output = output
        #: the OIP output the requests name
        self.requested_output = output or DEFAULT_OUTPUTS[self.task]
        self.proba_atol = float(proba_atol)
        if classes is not None:
            if self.task != "classification":
                raise ValueError("classes only apply to a classification model")
            self.classes_ = np.asarray(classes)
            if self.classes_.ndim != 1 or len(self.classes_) < 2:
                raise ValueError("classes must be a 1-D sequence of at least two labels")

        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        #: the upstream URL without credentials, query or fragment: safe to show and log
        self.url = f"{parts.scheme}://{host}{parts.path.rstrip('/')}"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            given = url.replace(parts.password, "***") if parts.password else url
            raise ValueError(
                f"upstream URL must be http:// or https:// and name a host, got {given!r}"
            )
        self._secret = parts.password or ""
        try:
            target = httpx.URL(url)
        except Exception:
            raise ValueError(f"upstream URL {self.url} is not a valid URL") from None
        path = parts.path.rstrip("/")
        if self.protocol == "oip":
            m = _OIP_PATH.match(path)
            named = unquote(m.group("name")) if m else None
            if model_name is not None and named is not None and model_name != named:
                raise ValueError(
                    f"model name {model_name!r} differs from the one in the URL ({named!r})"
                )
            base = m.group("base") if m else path
            last = unquote(path.rsplit("/", 1)[-1]) if path else ""
            self.model_name = model_name or named or last or "model"
            infer_path = f"{base}/v2/models/{quote(self.model_name, safe='')}/infer"
            self._endpoint = target.copy_with(path=infer_path)
            self._health = target.copy_with(path=f"{base}/v2/health/ready")
        else:
            self.model_name = model_name or ""
            self._endpoint = target
            self._health = target
        shown = urlsplit(str(self._endpoint))
        #: the endpoint called, as shown in error messages (no credentials, no query)
        self.endpoint = f"{shown.scheme}://{host}{shown.path}"
        self._client = httpx.Client(
            headers=dict(headers or {}),
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"RemoteModel({self.url!r}, protocol={self.protocol!r}, task={self.task!r})"

    # -- the adapter interface --------------------------------------------------------------
    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        if self.task != "classification":
            raise TypeError("predict_proba is only available for a classification model")
        k = None if self.classes_ is None else len(self.classes_)
        n = n_rows(X)
        if n == 0:
            return np.zeros((0, k or 0), dtype=np.float64)
        out = self._call(X)
        try:
            return check_probabilities(
                out, n, k, atol=self.proba_atol, source=f"upstream {self.endpoint}"
            )
        except ValueError as exc:
            raise ModelUnavailable(str(exc)) from None

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        if self.task != "regression":
            raise TypeError("predict_values is only available for a regression model")
        n = n_rows(X)
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        source = f"upstream {self.endpoint}"
        try:
            values = check_values(self._call(X), n, source=source)
        except ValueError as exc:
            raise ModelUnavailable(str(exc)) from None
        if not np.all(np.isfinite(values)):
            raise ModelUnavailable(f"{source} returned non-finite values (NaN or inf)")
        return values

    def info(self) -> ModelInfo:
        return ModelInfo(
            framework="remote",
            framework_version=self.protocol,
            model_class=self.url,
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    # -- health and lifetime ----------------------------------------------------------------
    def ping(self) -> bool:
        """Whether the upstream answers: OIP ``GET /v2/health/ready`` is 200 (and not
        ``{"ready": false}``); JSON: a ``GET`` of the URL answers below 500 (a POST-only
        endpoint answers 405). Never raises; waits at most ``min(timeout, 2 s)``."""
        try:
            r = self._client.get(self._health, timeout=min(self.timeout, PING_TIMEOUT_S))
            if self.protocol == "json":
                return r.status_code < 500
            if r.status_code != 200:
                return False
            try:
                doc = r.json()
            except ValueError:
                return True  # e.g. Triton answers an empty 200
            return not (isinstance(doc, dict) and doc.get("ready", True) is False)
        except Exception:
            return False

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> RemoteModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the call ---------------------------------------------------------------------------
    def _call(self, X: Any) -> Any:
        """The upstream's raw answer for ``X`` (the array of probabilities or values)."""
        if self.protocol == "oip":
            return self._read_oip(self._post(self._oip_request(X)))
        return self._read_json(self._post({"instances": _instances(X)}))

    def _post(self, body: dict[str, Any]) -> Any:
        import httpx

        content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
        try:
            r = self._client.post(
                self._endpoint, content=content, headers={"Content-Type": "application/json"}
            )
        except httpx.TimeoutException as exc:
            raise ModelUnavailable(
                f"upstream {self.endpoint} did not answer within {self.timeout:g} s "
                f"({type(exc).__name__})",
                timeout=True,
            ) from None
        except httpx.ConnectError as exc:
            raise ModelUnavailable(
                f"upstream {self.endpoint} cannot be reached ({self._describe(exc)})"
            ) from None
        except httpx.HTTPError as exc:
            raise ModelUnavailable(
                f"the call to upstream {self.endpoint} failed ({self._describe(exc)})"
            ) from None
        if not 200 <= r.status_code < 300:
            said = f"upstream {self.endpoint} answered HTTP {r.status_code} {r.reason_phrase}"
            error = self._error_text(r)
            raise ModelUnavailable(f"{said.rstrip()}: {error}" if error else said.rstrip())
        try:
            return r.json()
        except ValueError:
            kind = r.headers.get("content-type", "").split(";")[0].strip() or "no content type"
            raise ModelUnavailable(
                f"upstream {self.endpoint} answered something that is not JSON ({kind})"
            ) from None

    def _error_text(self, r: Any) -> str:
        """The OIP ``error`` of a failed answer (first line, at most 200 characters), or ""."""
        try:
            doc = r.json()
        except ValueError:
            return ""
        error = doc.get("error") if isinstance(doc, dict) else None
        if not isinstance(error, str):
            return ""
        text = (error.strip().splitlines() or [""])[0][:200]
        return text.replace(self._secret, "***") if self._secret else text

    def _describe(self, exc: BaseException) -> str:
        text = (str(exc).strip().splitlines() or [""])[0][:200]
        if self._secret:
            text = text.replace(self._secret, "***")
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _bad(self, problem: str) -> ModelUnavailable:
        return ModelUnavailable(f"upstream {self.endpoint} {problem}")

    # -- Open Inference Protocol v2 ---------------------------------------------------------
    def _oip_request(self, X: Any) -> dict[str, Any]:
        body: dict[str, Any]
        if isinstance(X, pd.DataFrame):
            inputs = []
            for col in X.columns:
                datatype, data = _column(X[col])
                inputs.append(
                    {"name": str(col), "shape": [len(X)], "datatype": datatype, "data": data}
                )
            body = {"parameters": {"content_type": "pd"}, "inputs": inputs}
        else:
            arr = np.asarray(X)
            datatype, data = _flat(arr)
            body = {
                "inputs": [
                    {"name": "input", "shape": list(arr.shape), "datatype": datatype, "data": data}
                ]
            }
        body["outputs"] = [{"name": self.requested_output}]
        return body

    def _read_oip(self, doc: Any) -> Any:
        outputs = doc.get("outputs") if isinstance(doc, dict) else None
        if not isinstance(outputs, list) or not outputs:
            raise self._bad("answered no 'outputs' (not an inference response)")
        by_name: dict[str, Any] = {}
        for o in outputs:
            if not isinstance(o, dict) or not isinstance(o.get("name"), str):
                raise self._bad("answered an output tensor without a name")
            by_name[o["name"]] = o
        names = list(by_name)
        if self.output is not None:
            if self.output not in by_name:
                raise self._bad(f"answered no output {self.output!r} (outputs: {names})")
            chosen = by_name[self.output]
        elif self.requested_output in by_name:
            chosen = by_name[self.requested_output]
        else:
            wanted = PROBA_OUTPUTS if self.task == "classification" else VALUE_OUTPUTS
            found = next((by_name[w] for w in wanted if w in by_name), None)
            if found is None and len(names) == 1:
                found = by_name[names[0]]
            if found is None:
                raise self._bad(
                    f"answered outputs {names}; none is named {' / '.join(wanted)} "
                    "(name the output to read)"
                )
            chosen = found
        return self._tensor_array(chosen)

    def _tensor_array(self, t: dict[str, Any]) -> NDArray[np.float64]:
        name, shape, data = t["name"], t.get("shape"), t.get("data")
        if (
            not isinstance(shape, list)
            or not shape
            or not all(type(d) is int and d >= 0 for d in shape)
        ):
            raise self._bad(f"answered output {name!r} without a valid 'shape'")
        if not isinstance(data, list):
            raise self._bad(f"answered output {name!r} without 'data'")
        try:
            arr = np.asarray(data, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise self._bad(f"answered output {name!r} with non-numeric or ragged data") from None
        if arr.size != math.prod(shape):
            raise self._bad(f"answered output {name!r} of shape {shape} with {arr.size} element(s)")
        return arr.reshape(shape)

    # -- plain JSON -------------------------------------------------------------------------
    def _read_json(self, doc: Any) -> Any:
        keys = (
            ("probabilities", "predictions") if self.task == "classification" else ("predictions",)
        )
        if isinstance(doc, dict):
            for key in keys:
                if key in doc:
                    try:
                        return np.asarray(doc[key], dtype=np.float64)
                    except (TypeError, ValueError):
                        raise self._bad(f"answered non-numeric or ragged {key!r}") from None
        wanted = " or ".join(repr(k) for k in keys)
        raise self._bad(f"answered no {wanted} (expected a JSON object with one)")


# -- encoding the rows -------------------------------------------------------------------------
def _missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _floats(arr: NDArray[Any]) -> list[Any]:
    """Float64 values as (nested) lists, non-finite ones as ``None`` (JSON has no NaN)."""
    f = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(f)
    if finite.all():
        out: list[Any] = f.tolist()
        return out
    obj = f.astype(object)
    obj[~finite] = None
    held: list[Any] = obj.tolist()
    return held


def _column(s: pd.Series) -> tuple[str, list[Any]]:
    """OIP datatype and JSON values of one table column."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return "BOOL", [None if _missing(v) else bool(v) for v in s.tolist()]
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "FP64", _floats(s.to_numpy(dtype=np.float64, na_value=np.nan))
    values = s.tolist()
    present = [v for v in values if not _missing(v)]
    if present and all(isinstance(v, bool | np.bool_) for v in present):
        return "BOOL", [None if _missing(v) else bool(v) for v in values]
    if present and all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
        for v in present
    ):
        return "FP64", [
            None if _missing(v) or not math.isfinite(float(v)) else float(v) for v in values
        ]
    return "BYTES", [None if _missing(v) else str(v) for v in values]


def _flat(arr: NDArray[Any]) -> tuple[str, list[Any]]:
    """OIP datatype and flat row-major data of an array without column names."""
    if arr.dtype == bool:
        return "BOOL", arr.reshape(-1).tolist()
    try:
        return "FP64", _floats(arr.reshape(-1))
    except (TypeError, ValueError):
        return "BYTES", [None if _missing(v) else str(v) for v in arr.reshape(-1).tolist()]


def _instances(X: Any) -> list[Any]:
    """The rows as JSON instances: objects keyed by column for a table, else lists."""
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        columns = [_column(X[c])[1] for c in X.columns]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    arr = np.asarray(X)
    if arr.dtype == bool:
        rows: list[Any] = arr.tolist()
        return rows
    try:
        return _floats(arr)
    except (TypeError, ValueError):
        rows = jsonable(arr.tolist())
        return rows
