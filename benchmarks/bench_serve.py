"""Load benchmark of the service: bare FastAPI vs mlrails serve (SQLite, PostgreSQL).

Three servers, each a real process on loopback, under the same closed-loop load from a
separate process (benchmarks/loadgen.py, C keep-alive connections, single-row requests of
held-out breast-cancer data):

(a) bare FastAPI + uvicorn calling the model once per request (benchmarks/bare_server.py):
    no safeguards, no log;
(b) ``mlrails serve`` with every safeguard, decisions committed to SQLite before answering;
(c) the same with a PostgreSQL decision log (a throwaway local cluster; skipped without
    PostgreSQL binaries).

Reports requests/s, p50/p99 latency, errors (connection errors and status codes other than
the expected ones: 200 for (a); 200/203/403/422, the guard's verdicts, for (b)/(c)), and for
(b)/(c) the records in the log versus every request answered, warm-up included (lost records
= answered − logged, must be 0), and the throughput ratio to (a). CPU columns: cores busy on
average over the timed window in the server's process group, in the load generator, and
everything else on the machine (PostgreSQL, other jobs).

    .venv/bin/python -m benchmarks.bench_serve                 # 60 s per server
    .venv/bin/python -m benchmarks.bench_serve --quick         # 5 s per server
    .venv/bin/python -m benchmarks.bench_serve --only a,b --extra-serve-args "--workers 2"
    .venv/bin/python -m benchmarks.bench_serve --quick --client httpx   # httpx load generator
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


#: status codes that are answers, not errors: (a) answers 200; mlrails answers a valid row
#: with its verdict (200 use, 203 review, 403 refused, 422 fall back)
EXPECTED_BARE = {200}
EXPECTED_GUARD = {200, 203, 403, 422}


def _load(
    url: str, bodies: Path, seconds: float, conc: int, pgid: int, client: str
) -> dict[str, Any]:
    argv = [PY, "-m", "benchmarks.loadgen", url, str(bodies)]
    argv += ["--seconds", str(seconds), "--concurrency", str(conc)]
    argv += ["--server-pgid", str(pgid), "--client", client]
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _errors(res: dict[str, Any], expected: set[int]) -> str:
    """Connection errors plus unexpected status codes in the timed window, with details."""
    bad = {k: v for k, v in res["codes"].items() if int(k) not in expected}
    detail = {**res["errors"], **bad}
    n = sum(detail.values())
    return f"{n} {detail}" if n else "0"


def run(seconds: float, conc: int, only: set[str], extra: list[str], client: str = "raw") -> str:
    rows: list[tuple[str, dict[str, Any], str]] = []
    clusters: list[Any] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        artifact, records = _fit(tmp)
        bodies = tmp / "bodies.json"
        bodies.write_text(json.dumps([{"instance": r} for r in records]))
        if "a" in only:
            port = _free_port()
            argv = [PY, "-m", "benchmarks.bare_server", str(artifact), "--port", str(port)]
            with _process(argv, f"http://127.0.0.1:{port}/healthz", tmp / "a.log") as proc:
                url = f"http://127.0.0.1:{port}/predict"
                res = _load(url, bodies, seconds, conc, proc.pid, client)
            res["errors_shown"] = _errors(res, EXPECTED_BARE)
            rows.append(("(a) bare FastAPI, model per request", res, "-"))
        stores: list[tuple[str, str]] = []
        try:
            if "b" in only:
                stores.append(("(b) mlrails serve + SQLite", str(tmp / "d.db")))
            if "c" in only:
                sys.path.insert(0, str(ROOT / "tests" / "serve"))
                try:
                    import pgkit  # the tests' throwaway-cluster helper

                    clusters.append(pgkit.start_server(local=True))
                    db = clusters[-1].create_database()
                    stores.append(("(c) mlrails serve + PostgreSQL", db))
                except Exception as exc:  # no PostgreSQL binaries: say so and go on
                    rows.append(("(c) mlrails serve + PostgreSQL", {}, f"skipped: {exc}"))
            for name, store in stores:
                port = _free_port()
                argv = [MLRAILS, "serve", str(artifact), "--store", store, "--port", str(port)]
                argv += ["--auth", "off", "--rate-limit", "0", "--ui", "off"]
                argv += ["--log-level", "warning", *extra]
                log = tmp / f"{port}.log"
                with _process(argv, f"http://127.0.0.1:{port}/readyz", log) as proc:
                    url = f"http://127.0.0.1:{port}/v1/predict"
                    res = _load(url, bodies, seconds, conc, proc.pid, client)
                # counted after the server's graceful exit (an async log flushes on exit);
                # every answer the load generator received, warm-up included, must be there
                with open_store(store, create=False) as s:
                    logged = s.count_decisions()
                answered = int(res["answered"])
                lost = max(0, answered - logged)
                note = f"{logged:,} logged / {answered:,} answered, {lost} lost"
                if logged > answered:  # processed but the answer never arrived (conn errors)
                    note += f", {logged - answered} logged unanswered"
                res["errors_shown"] = _errors(res, EXPECTED_GUARD)
                rows.append((name, res, note))
        finally:
            for pg in clusters:
                pg.close()
    base = next((r for n, r, _ in rows if n.startswith("(a)") and r), None)
    out = [
        f"Single-row requests, {conc} keep-alive connections, {seconds:g} s per server after "
        f"3 s warm-up; load from a separate process; {os.cpu_count()} cores shared by "
        f"server, load generator (and PostgreSQL); load generator client: {client}."
        + (f" mlrails serve flags: {' '.join(extra)}" if extra else ""),
        "",
        "| server | requests/s | × (a) | p50 ms | p99 ms | status codes | errors | log "
        "| CPU cores: server / loadgen / rest |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, res, logn in rows:
        if not res:
            out.append(f"| {name} | | | | | | | {logn} | |")
            continue
        ratio = f"{res['rps'] / base['rps']:.2f}" if base else "-"
        cpu = res["cpu"]
        rest = max(0.0, cpu["machine"] - cpu["server"] - cpu["client"])
        out.append(
            f"| {name} | {res['rps']:.0f} | {ratio} | {res['p50_ms']:.1f} | "
            f"{res['p99_ms']:.1f} | {res['codes']} | {res['errors_shown']} | {logn} | "
            f"{cpu['server']:.2f} / {cpu['client']:.2f} / {rest:.2f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--quick", action="store_true", help="5 s per server")
    ap.add_argument("--only", default="a,b,c", help="servers to run, e.g. a,b")
    ap.add_argument("--extra-serve-args", default="", help="more `mlrails serve` flags")
    ap.add_argument(
        "--client", choices=["raw", "httpx"], default="raw", help="load generator's HTTP client"
    )
    a = ap.parse_args(argv)
    seconds = 5.0 if a.quick else a.seconds
    only = set(a.only.split(","))
    return run(seconds, a.concurrency, only, shlex.split(a.extra_serve_args), a.client)


if __name__ == "__main__":
    print(main())
