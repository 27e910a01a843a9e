"""Closed-loop HTTP load from its own process: C keep-alive connections, each sending the next
request as soon as the previous answer arrived, for a fixed time after a warm-up.

A minimal asyncio HTTP/1.1 client (fixed request bytes, Content-Length framing) keeps the
load generator's own CPU cost far below the servers' on a 2-core machine; an httpx client
costs several times more per request (``--client httpx`` to compare). Prints one JSON line:
requests, seconds, latencies (ms) percentiles, status counts, errors; ``answered`` and
``answered_codes`` count *every* answer, warm-up and window edges included (what the
server must have logged); ``cpu`` gives the cores used over the timed window by this
process, by the server's process group (``--server-pgid``, read from ``/proc``) and by the
whole machine (``/proc/stat``; Linux only, zeros elsewhere).

    .venv/bin/python -m benchmarks.loadgen URL BODY_FILE --seconds 60 --concurrency 32 \
        [--server-pgid PID] [--client raw|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    start_at: float,
    stop_at: float,
    lat: list[float],
    codes: Counter[int],
    errors: Counter[str],
    answered: Counter[int],
) -> None:
    loop = asyncio.get_running_loop()
    i = offset
    reader = writer = None
    while loop.time() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            t0 = loop.time()
            writer.write(requests[i % len(requests)])
            i += 1
            status_line = await reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            code = int(status_line.split()[1])
            length = 0
            close = False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                lname = name.strip().lower()
                if lname == b"content-length":
                    length = int(value)
                elif lname == b"connection" and value.strip().lower() == b"close":
                    close = True
            await reader.readexactly(length)
            t1 = loop.time()
            answered[code] += 1
            if t0 >= start_at and t1 <= stop_at:
                lat.append(t1 - t0)
                codes[code] += 1
            if close:
                writer.close()
                writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            if loop.time() >= start_at:
                errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def _httpx_connection(
    client: Any,
    url: str,
    bodies: list[bytes],
    offset: int,
    start_at: float,
    stop_at: float,
    lat: list[float],
    codes: Counter[int],
    errors: Counter[str],
    answered: Counter[int],
) -> None:
    """The same closed loop through a shared ``httpx.AsyncClient`` (for comparison)."""
    loop = asyncio.get_running_loop()
    headers = {"content-type": "application/json"}
    i = offset
    while loop.time() < stop_at:
        t0 = loop.time()
        try:
            r = await client.post(url, content=bodies[i % len(bodies)], headers=headers)
        except Exception as exc:  # httpx.TransportError and friends
            if loop.time() >= start_at:
                errors[type(exc).__name__] += 1
            await asyncio.sleep(0.01)
            continue
        finally:
            i += 1
        t1 = loop.time()
        answered[r.status_code] += 1
        if t0 >= start_at and t1 <= stop_at:
            lat.append(t1 - t0)
            codes[r.status_code] += 1


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _group_cpu_s(pgid: int | None) -> float:
    """CPU seconds (user + system) of the live processes of process group ``pgid``."""
    if pgid is None:
        return 0.0
    ticks = 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0.0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2 :].split()  # from field 3 (state) on
        if int(rest[2]) == pgid:  # field 5: pgrp; 14, 15: utime, stime
            ticks += int(rest[11]) + int(rest[12])
    return ticks / _TICK


def _machine_busy_s() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores."""
    try:
        v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    return (sum(v) - v[3] - v[4]) / _TICK


def _cpu(pgid: int | None) -> tuple[float, float, float]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime, _group_cpu_s(pgid), _machine_busy_s()


async def _run(
    url: str,
    bodies: list[bytes],
    seconds: float,
    warmup: float,
    conc: int,
    client: str = "raw",
    server_pgid: int | None = None,
) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    requests = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(b)}\r\n\r\n"
        ).encode()
        + b
        for b in bodies
    ]
    loop = asyncio.get_running_loop()
    start_at = loop.time() + warmup
    stop_at = start_at + seconds
    lat: list[float] = []
    codes: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    answered: Counter[int] = Counter()
    cpu: list[tuple[float, float, float]] = []

    async def sample() -> None:
        for at in (start_at, stop_at):
            await asyncio.sleep(max(0.0, at - loop.time()))
            cpu.append(_cpu(server_pgid))

    sampler = asyncio.create_task(sample())
    if client == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        async with httpx.AsyncClient(limits=limits, timeout=60.0) as hc:
            await asyncio.gather(
                *(
                    _httpx_connection(
                        hc, url, bodies, k * 7, start_at, stop_at, lat, codes, errors, answered
                    )
                    for k in range(conc)
                )
            )
    else:
        await asyncio.gather(
            *(
                _connection(
                    host, port, requests, k * 7, start_at, stop_at, lat, codes, errors, answered
                )
                for k in range(conc)
            )
        )
    await sampler
    (c0, s0, m0), (c1, s1, m1) = cpu
    ms = np.asarray(lat) * 1000.0
    return {
        "requests": len(lat),
        "seconds": seconds,
        "rps": len(lat) / seconds,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None,
        "codes": {str(k): v for k, v in sorted(codes.items())},
        "errors": dict(errors),
        "answered": sum(answered.values()),
        "answered_codes": {str(k): v for k, v in sorted(answered.items())},
        "client": client,
        "cpu": {  # cores busy on average over the timed window
            "client": (c1 - c0) / seconds,
            "server": (s1 - s0) / seconds,
            "machine": (m1 - m0) / seconds,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url", help="full URL of the endpoint, e.g. http://127.0.0.1:8000/v1/predict")
    ap.add_argument("bodies", help="JSON file: a list of request bodies (sent round-robin)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--client", choices=["raw", "httpx"], default="raw")
    ap.add_argument("--server-pgid", type=int, default=None, help="server's process group")
    a = ap.parse_args()
    with open(a.bodies, encoding="utf-8") as f:
        bodies = [json.dumps(b).encode() for b in json.load(f)]
    t0 = time.perf_counter()
    out = asyncio.run(
        _run(a.url, bodies, a.seconds, a.warmup, a.concurrency, a.client, a.server_pgid)
    )
    out["wall_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
