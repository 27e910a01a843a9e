"""Closed-loop HTTP load from its own process: C keep-alive connections, each sending the next
request as soon as the previous answer arrived, for a fixed time after a warm-up.

A minimal asyncio HTTP/1.1 client (fixed request bytes, Content-Length framing) keeps the
load generator's own CPU cost far below the servers' on a 2-core machine; an httpx client
costs several times more per request. Prints one JSON line: requests, seconds, latencies
(ms) percentiles, status counts, errors.

    .venv/bin/python -m benchmarks.loadgen URL PATH BODY_FILE --seconds 60 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
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


async def _run(url: str, bodies: list[bytes], seconds: float, warmup: float, conc: int) -> dict:
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
    await asyncio.gather(
        *(
            _connection(host, port, requests, k * 7, start_at, stop_at, lat, codes, errors)
            for k in range(conc)
        )
    )
    ms = np.asarray(lat) * 1000.0
    return {
        "requests": len(lat),
        "seconds": seconds,
        "rps": len(lat) / seconds,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else None,
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else None,
        "codes": {str(k): v for k, v in sorted(codes.items())},
        "errors": dict(errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("url", help="full URL of the endpoint, e.g. http://127.0.0.1:8000/v1/predict")
    ap.add_argument("bodies", help="JSON file: a list of request bodies (sent round-robin)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()
    with open(a.bodies, encoding="utf-8") as f:
        bodies = [json.dumps(b).encode() for b in json.load(f)]
    t0 = time.perf_counter()
    out = asyncio.run(_run(a.url, bodies, a.seconds, a.warmup, a.concurrency))
    out["wall_s"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
