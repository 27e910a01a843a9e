"""A fitted classifier whose every prediction takes ``delay_s`` longer (a slow model).

Pickled by the lifecycle tests and served with ``mlrails serve --model slow.pkl --trust``; the
server process imports this module to unpickle it (the tests put this folder on its path).
"""

from __future__ import annotations

import time
from typing import Any


class SlowModel:
    """``model`` (a fitted scikit-learn classifier) behind a fixed delay per call."""

    def __init__(self, model: Any, delay_s: float) -> None:
        self.model = model
        self.delay_s = delay_s

    @property
    def classes_(self) -> Any:
        return self.model.classes_

    def predict_proba(self, X: Any) -> Any:
        time.sleep(self.delay_s)
        return self.model.predict_proba(X)

    def predict(self, X: Any) -> Any:
        time.sleep(self.delay_s)
        return self.model.predict(X)
