#!/usr/bin/env python3
"""Bounded HTTP load generator: counts every request sent through the load balancer.

Runs until a stop file appears, or until --max-seconds or --max-requests is reached, whichever
comes first; always stops by itself. Each worker keeps one persistent HTTP/1.1 connection (as a
client behind a load balancer does) and reconnects after an error. Writes a JSON summary:
requests sent, failed (any answer but 200, or no answer), error kinds, latency percentiles, and how
many requests each node served (from the X-IDM-Node-Id response header).

Usage: loadgen.py --url http://127.0.0.1/openidm/info/ping --out result.json --stop-file /tmp/stop
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse
from collections import Counter

HEADERS = {
    "X-OpenIDM-Username": "anonymous",
    "X-OpenIDM-Password": "anonymous",
    "X-OpenIDM-NoSession": "true",
}


class Stats:
    """Thread-safe counters shared by the workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent = 0
        self.failed = 0
        self.errors: Counter[str] = Counter()
        self.served_by: Counter[str] = Counter()
        self.latencies: list[float] = []

    def record(self, latency: float, node: str | None, error: str | None) -> None:
        with self.lock:
            self.sent += 1
            self.latencies.append(latency)
            if error:
                self.failed += 1
                self.errors[error] += 1
            else:
                self.served_by[node or "unknown"] += 1


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def worker(url: urllib.parse.SplitResult, stats: Stats, should_stop, timeout: float) -> None:
    connection: http.client.HTTPConnection | None = None
    path = url.path + (f"?{url.query}" if url.query else "")
    while not should_stop():
        if connection is None:
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
        start = time.monotonic()
        node, error = None, None
        try:
            connection.request("GET", path, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            node = response.getheader("X-IDM-Node-Id")
            if response.status != 200:
                error = f"http {response.status}"
        except (OSError, http.client.HTTPException) as exc:
            error = type(exc).__name__
        stats.record(time.monotonic() - start, node, error)
        if error:
            connection.close()
            connection = None
    if connection is not None:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()

    stats = Stats()
    started = time.monotonic()

    def should_stop() -> bool:
        return (
            os.path.exists(args.stop_file)
            or time.monotonic() - started > args.max_seconds
            or stats.sent >= args.max_requests
        )

    url = urllib.parse.urlsplit(args.url)
    threads = [
        threading.Thread(target=worker, args=(url, stats, should_stop, args.timeout), daemon=True)
        for _ in range(args.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.monotonic() - started
    summary = {
        "url": args.url,
        "concurrency": args.concurrency,
        "sent": stats.sent,
        "failed": stats.failed,
        "errors": dict(stats.errors),
        "served_by": dict(stats.served_by),
        "duration_s": round(duration, 2),
        "requests_per_s": round(stats.sent / duration, 1) if duration else None,
        "latency_ms": {
            "p50": round(1000 * (percentile(stats.latencies, 0.50) or 0), 2),
            "p99": round(1000 * (percentile(stats.latencies, 0.99) or 0), 2),
            "max": round(1000 * max(stats.latencies, default=0), 2),
        },
        "stopped_by": "stop file" if os.path.exists(args.stop_file) else "bound",
    }
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main()
