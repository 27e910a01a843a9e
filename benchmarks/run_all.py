"""Run every benchmark and print Markdown (paste into benchmarks/RESULTS.md).

.venv/bin/python benchmarks/run_all.py        # or: make bench
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    bench_attacks,
    bench_batch_shift,
    bench_detection,
    bench_drift,
    bench_error_score,
    bench_explain,
    bench_grid,
    bench_guard_quality,
    bench_monitor,
    bench_overhead,
    bench_reproduce,
    bench_serve,
    bench_silent,
)


def main() -> None:
    print(f"machine: {platform.platform()}, Python {platform.python_version()}\n")
    for mod in (bench_overhead, bench_detection, bench_silent):
        print(mod.main())
        print()
    print(bench_serve.main([]))
    print()
    print(bench_grid.main())
    print()
    print(bench_attacks.main([]))
    print()
    print(bench_reproduce.main())
    print()
    print(bench_drift.main())
    print()
    print(bench_monitor.main())
    print()
    print(bench_explain.main(baseline_rows=10))
    print()
    print(bench_guard_quality.main([]))
    print()
    print(bench_error_score.main())
    print()
    bench_batch_shift.main()  # prints its own tables


if __name__ == "__main__":
    main()
