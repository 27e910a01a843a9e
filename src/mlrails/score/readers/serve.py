"""The **serve_settings** source: JSON or YAML of :class:`~mlrails.serve.settings.ServeSettings`."""

from __future__ import annotations

from pathlib import Path

from mlrails.score.facts import ServeFacts
from mlrails.score.readers.common import Unusable


def read_serve_settings(path: Path) -> ServeFacts:
    """Validate a JSON or YAML file of :class:`ServeSettings` fields."""
    import yaml
    from pydantic import ValidationError

    from mlrails.serve.settings import ServeSettings

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise Unusable(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Unusable(f"{path}: not valid YAML/JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise Unusable(f"{path}: expected a mapping of serve settings (auth, rate_limit_rps, ...)")
    try:
        s = ServeSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise Unusable(f"{path}: {problems}") from None
    return ServeFacts(
        path=str(path),
        auth=s.auth,
        rate_limit_rps=s.rate_limit_rps,
        max_body_bytes=s.max_body_bytes,
        max_batch_rows=s.max_batch_rows,
        model_timeout_s=s.model_timeout_s,
        log_mode=s.log_mode,
        drift_every_s=s.drift_every_s,
        drift_webhook=s.drift_webhook is not None,
        ui=s.ui,
        cors_origins=tuple(s.cors_origins),
    )
