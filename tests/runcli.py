"""The ``mlrails`` command as a real subprocess, for the CLI tests of every part."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MLRAILS = Path(sys.executable).with_name("mlrails")


def run_cli(
    *args: object, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``mlrails ARGS`` to completion with plain, wide output (no colours)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )
