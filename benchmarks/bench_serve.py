"""Load benchmark of the service: bare FastAPI vs mlrails serve (SQLite, PostgreSQL).

Three servers, each a real process on loopback, under the same closed-loop load from a
separate process (benchmarks/loadgen.py, C keep-alive connections, single-row requests of
held-out breast-cancer data):

(a) bare FastAPI + uvicorn calling the model once per request (benchmarks/bare_server.py):
    no safeguards, no log;
(b) ``mlrails serve`` with every safeguard, decisions committed to SQLite before answering;
(c) the same with a PostgreSQL decision log (a throwaway local cluster; skipped without
    PostgreSQL binaries).

Reports requests/s, p50/p99 latency, errors, and for (b)/(c) the records in the log versus the
requests answered (lost records must be 0), and the throughput ratio to (a).

    .venv/bin/python -m benchmarks.bench_serve                 # 60 s per server
    .venv/bin/python -m benchmarks.bench_serve --quick         # 5 s per server
    .venv/bin/python -m benchmarks.bench_serve --only a,b --extra-serve-args "--workers 2"
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sklearn.ensemble import RandomForestClassifier

import mlrails
from benchmarks.common import breast_cancer
from mlrails.store import open_store

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
MLRAILS = str(Path(PY).with_name("mlrails"))


def _fit(tmp: Path) -> tuple[Path, list[dict[str, float]]]:
    X_tr, X_te, y_tr, _ = breast_cancer()
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_tr, y_tr)
    rails = mlrails.fit(model, X_tr, y_tr, policy={"calibration_fraction": 0.3})
    path = tmp / "rails"
    rails.save(path)
    return path, X_te.to_dict(orient="records")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _process(argv: list[str], health: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{argv[:3]} exited: {log.read_text()[-2000:]}")
                try:
                    if httpx.get(health, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[:3]} did not start")
                time.sleep(0.2)
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def _load(url: str, bodies: Path, seconds: float, conc: int) -> dict[str, Any]:
    argv = [PY, "-m", "benchmarks.loadgen", url, str(bodies)]
    argv += ["--seconds", str(seconds), "--concurrency", str(conc)]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _count_answered(res: dict[str, Any]) -> int:
    return sum(res["codes"].values())


def run(seconds: float, conc: int, only: set[str], extra: list[str]) -> str:
    rows: list[tuple[str, dict[str, Any], str]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        artifact, records = _fit(tmp)
        bodies = tmp / "bodies.json"
        bodies.write_text(json.dumps([{"instance": r} for r in records]))
        if "a" in only:
            port = _free_port()
            argv = [PY, "-m", "benchmarks.bare_server", str(artifact), "--port", str(port)]
            with _process(argv, f"http://127.0.0.1:{port}/healthz", tmp / "a.log"):
                res = _load(f"http://127.0.0.1:{port}/predict", bodies, seconds, conc)
            rows.append(("(a) bare FastAPI, model per request", res, "-"))
        stores: list[tuple[str, str, Any]] = []
        if "b" in only:
            stores.append(("(b) mlrails serve + SQLite", str(tmp / "d.db"), None))
        if "c" in only:
            sys.path.insert(0, str(ROOT / "tests" / "serve"))
            try:
                import pgkit  # the tests' throwaway-cluster helper

                pg = pgkit.start_server(local=True)
                stores.append(("(c) mlrails serve + PostgreSQL", pg.create_database(), pg))
            except Exception as exc:  # no PostgreSQL binaries: say so and go on
                rows.append(("(c) mlrails serve + PostgreSQL", {}, f"skipped: {exc}"))
        for name, store, pg in stores:
            port = _free_port()
            argv = [MLRAILS, "serve", str(artifact), "--store", store, "--port", str(port)]
            argv += ["--auth", "off", "--rate-limit", "0", "--ui", "off"]
            argv += ["--log-level", "warning", *extra]
            log = tmp / f"{port}.log"
            try:
                with _process(argv, f"http://127.0.0.1:{port}/readyz", log):
                    res = _load(f"http://127.0.0.1:{port}/v1/predict", bodies, seconds, conc)
                with open_store(store, create=False) as s:
                    logged = s.count_decisions()
                # the load generator counts answers inside the timed window only; every
                # answer (warm-up included) must be logged, so compare with the server's own
                # count of answered predictions, and check at least the timed ones are there
                lost = max(0, _count_answered(res) - logged)
                rows.append((name, res, f"{logged} logged, {lost} lost"))
            finally:
                if pg is not None:
                    pg.close()
    base = next((r for n, r, _ in rows if n.startswith("(a)") and r), None)
    out = [
        f"Single-row requests, {conc} keep-alive connections, {seconds:g} s per server after "
        f"3 s warm-up; load from a separate process; {os.cpu_count()} cores shared by "
        "server, load generator (and PostgreSQL)."
        + (f" mlrails serve flags: {' '.join(extra)}" if extra else ""),
        "",
        "| server | requests/s | × (a) | p50 ms | p99 ms | status codes | errors | log |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, res, logn in rows:
        if not res:
            out.append(f"| {name} | | | | | | | {logn} |")
            continue
        ratio = f"{res['rps'] / base['rps']:.2f}" if base else "-"
        out.append(
            f"| {name} | {res['rps']:.0f} | {ratio} | {res['p50_ms']:.1f} | "
            f"{res['p99_ms']:.1f} | {res['codes']} | {res['errors'] or 0} | {logn} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--quick", action="store_true", help="5 s per server")
    ap.add_argument("--only", default="a,b,c", help="servers to run, e.g. a,b")
    ap.add_argument("--extra-serve-args", default="", help="more `mlrails serve` flags")
    a = ap.parse_args(argv)
    seconds = 5.0 if a.quick else a.seconds
    return run(seconds, a.concurrency, set(a.only.split(",")), shlex.split(a.extra_serve_args))


if __name__ == "__main__":
    print(main())
