#!/usr/bin/env python3
"""Measure the cluster_invariants filter on synthetic clusters; print JSON to stdout.

    .venv/bin/python bench/invariants.py [--sizes 100,1000,5000] [--repeat 5] [--budget 25]

Every size is a valid cluster (with live facts, as on the preflight's second pass); one more run
uses a cluster of --violations-size hosts where about one host in ten breaks a rule. Raw timings
are in seconds (wall clock; CPU time of this process alongside, which is steadier on a busy
machine). This is a measurement, not a test: nothing here asserts on time. The run stops
repeating once --budget seconds are spent (reported as "truncated").
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_filter() -> tuple[Callable[[object], list[dict[str, Any]]], Path]:
    """Import the filter from this checkout as ansible_collections.idm_automation.cluster."""
    base = Path(tempfile.mkdtemp(prefix="idm-bench-"))
    namespace = base / "ansible_collections" / "idm_automation"
    namespace.mkdir(parents=True)
    (namespace / "cluster").symlink_to(REPO_ROOT, target_is_directory=True)
    sys.path.insert(0, str(base))
    module = importlib.import_module(
        "ansible_collections.idm_automation.cluster.plugins.filter.cluster_invariants"
    )
    # The synthetic clusters come from the unit tests' builders (tests/unit/plugins).
    sys.path.insert(0, str(REPO_ROOT / "tests" / "unit" / "plugins"))
    return module.cluster_invariants, base


def cluster(size: int) -> dict[str, Any]:
    """A valid cluster of ``size`` nodes with facts from every node, a standalone instance on
    another repository and two load balancers: the unit tests' factory, made larger."""
    factory = importlib.import_module("idm_cluster_factory")
    desc = factory.make_cluster(size, facts=True)
    desc["others"] = {
        "dev1": {
            **factory.make_node(size),
            "repository": {"host": "pg9", "port": 5432, "database": "dev"},
        }
    }
    desc["loadbalancers"]["lb2"] = {"backends": list(desc["nodes"])}
    return desc


def broken(size: int) -> dict[str, Any]:
    """The valid cluster with about one host in ten breaking a rule (errors and warnings)."""
    desc = cluster(size)
    hosts = list(desc["nodes"])
    for step, host in enumerate(hosts[1::10]):
        spec, kind = desc["nodes"][host], step % 6
        if kind == 0:
            spec["node_id"] = "NODE1"
        elif kind == 1:
            spec["version"] = "8.0.0"
        elif kind == 2:
            spec["machine"] = desc["nodes"]["idm1"]["machine"]
        elif kind == 3:
            desc["facts"][host]["keystore_sha256"] = "e" * 64
        elif kind == 4:
            spec["tls"]["certificate_names"] = ["localhost"]
            desc["facts"][host]["certificate_names"] = ["localhost"]
        else:
            spec["cluster"]["instanceTimeout"] = 6000
    return desc


def measure(run: Callable[[object], list], desc: object, repeat: int, deadline: float) -> dict:
    timings: list[float] = []
    cpu: list[float] = []
    violations = 0
    for _ in range(repeat):
        if timings and time.perf_counter() > deadline:
            break
        start, start_cpu = time.perf_counter(), time.process_time()
        violations = len(run(desc))
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "repeat": len(timings),
        "truncated": len(timings) < repeat,
        "timings_s": [round(t, 6) for t in timings],
        "min_s": round(min(timings), 6),
        "median_s": round(statistics.median(timings), 6),
        "cpu_timings_s": [round(t, 6) for t in cpu],
        "violations": violations,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000", help="comma-separated host counts")
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per size")
    parser.add_argument("--violations-size", type=int, default=1000, help="hosts in the broken run")
    parser.add_argument("--budget", type=float, default=25.0, help="seconds before runs stop")
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if not args.sizes or min(args.sizes) < 1 or args.repeat < 1:
        parser.error("sizes and --repeat must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loadavg = os.getloadavg()
    run, base = load_filter()
    deadline = time.perf_counter() + args.budget
    try:
        runs = []
        plans = [(size, "valid", cluster) for size in args.sizes]
        plans.append((args.violations_size, "violations", broken))
        for size, kind, build in plans:
            result = measure(run, build(size), args.repeat, deadline)
            runs.append({"hosts": size, "kind": kind, **result})
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report = {
        "benchmark": "idm_automation.cluster.cluster_invariants",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(load, 2) for load in loadavg],
        "runs": runs,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
