"""How one prediction API speaks: request body → rows, verdicts → response.

``/v1/predict`` (mlrails' own JSON) and the Open Inference Protocol's ``infer`` share one
pipeline (``Service.run`` in service.py: body size limit, JSON, batch limit, guard under the time
limit, decision log committed before the answer); only their dialects differ.
"""

from __future__ import annotations

from typing import Any, Protocol

from starlette.responses import Response

from mlrails.guard.verdict import Verdict
from mlrails.serve.decisions import RequestContext
from mlrails.serve.payload import PredictPayload
from mlrails.serve.problems import ServeError


class Dialect(Protocol):
    """One request's protocol adapter (a fresh object per request)."""

    #: attach SHAP explanations (None: the policy decides); read after :meth:`parse`
    explain: bool | None

    def parse(self, body: Any) -> PredictPayload:
        """The rows of the decoded JSON body; PayloadError (400) or ServeError otherwise."""
        ...

    def answer(
        self,
        ctx: RequestContext,
        payload: PredictPayload,
        verdicts: list[Verdict],
        outputs: list[Any],
    ) -> Response:
        """The response for committed verdicts (``outputs``: their logged JSON form)."""
        ...

    def refusal(self, err: ServeError) -> ServeError:
        """``err`` as this API answers it (may add members); called before it is logged."""
        ...
