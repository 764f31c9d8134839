#!/usr/bin/env python3
"""Benchmarks of idm_automation.cluster, side by side in one run; prints JSON.

Every cluster is made of fresh containers from the test image (PostgreSQL, N IDM stand-in nodes,
HAProxy), reached over SSH as an unprivileged user with sudo - the way operators run the
collection. Figures (each with the raw timing of every repetition):
  1. cold deploy of N=3 and N=6 nodes with site.yml, and with a baseline that follows the vendor
     page literally, node by node (bench/baseline/site-serial.yml), so that time(6)/time(3) of both
     comes out of one run;
  2. the idempotent re-run: changed count and time(rerun)/time(cold);
  3. rolling_restart.yml on 3 nodes under continuous load through HAProxy: requests, failures,
     latency;
  4. the cluster_invariants filter over 100, 1,000 and 5,000 synthetic hosts (bench/invariants.py);
  5. the ten slowest tasks of the cold deploy (ansible.posix.profile_tasks);
  6. cold deploy over SSH with and without pipelining;
  7. the physical limit of every cold deploy (DDL once + the bootstrap node's start + one
     parallel start of the others + the health checks, from the nodes' own journals:
     bench/physical.py) and time / limit; controller CPU seconds per node and per task; tasks
     executed per host, cold and re-run.
The nodes start with the product's realistic start-up time (--startup-delay, default 20 s, contract
row C15) instead of the scenarios' 2 s. `--nodes N` runs one cold deploy and re-run of N nodes
only (the scale run, e.g. 20), with --memory per container.
Every playbook run also records how busy the machine's CPUs were and the CPU seconds of
ansible-playbook itself: the controller and all containers share the same cores, which bounds
how flat time(6)/time(3) can be here.
Progress goes to stderr; the JSON to stdout and bench/results/latest.json. Timing is never
asserted: this is a measurement. Traffic goes only to the containers it creates.

  bench/run.py [--quick] [--repeat N] [--startup-delay S] [--nodes N --memory M]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import physical
import yaml

REPO = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("IDM_TEST_IMAGE", "idm-automation-test/debian12:current")
SHARED_VARS = REPO / "molecule/resources/inventory/group_vars/all/cluster.yml"
LB_DEFAULTS = REPO / "roles/loadbalancer/defaults/main.yml"
PREPARE_PG = REPO / "molecule/resources/playbooks/prepare-postgresql.yml"
BASELINE = REPO / "bench/baseline/site-serial.yml"
LOADGEN = REPO / "tests/load/loadgen.py"
LABEL = "org.idm-automation.test=bench"
RECAP = re.compile(
    r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
    r"(?:\s+skipped=(\d+))?(?:\s+rescued=(\d+))?(?:\s+ignored=(\d+))?"
)
DDL_TASK = "Create the repository schema unless it exists"
PROFILE_ENV = {
    "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
    "PROFILE_TASKS_TASK_OUTPUT_LIMIT": "all",
}
PROFILE = re.compile(r"^(?P<task>.+?) -{2,} (?P<seconds>\d+\.\d+)s$")


def cpu_ticks() -> tuple[int, int]:
    """Busy and total CPU ticks of the whole machine since boot (first line of /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def sh(*argv: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, check=False, capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)[:200]} failed ({done.returncode}): {done.stderr[-500:]}"
        )
    return done


class Cluster:
    """PostgreSQL + N nodes + HAProxy in fresh containers on a network of their own (the nodes
    only, without PostgreSQL and HAProxy, when ``services`` is false)."""

    def __init__(
        self,
        nodes: int,
        octet: int,
        workdir: Path,
        key: Path,
        services: bool = True,
        memory: str | None = None,
        extra_vars: Path | None = None,
    ) -> None:
        self.name = f"bench{octet}"
        self.net = f"idmt-{self.name}"
        self.prefix = f"10.219.{octet}"
        self.workdir = workdir / self.name
        self.key = key
        self.memory = memory
        self.extra_vars = extra_vars
        roles = [(f"idm{i}", "node") for i in range(1, nodes + 1)]
        if services:
            roles = [("pg", "pg"), *roles, ("lb", "lb")]
        self.services = services
        self.hosts = {
            f"{self.name}-{n}": (role, f"{self.prefix}.{10 + i}")
            for i, (n, role) in enumerate(roles)
        }

    def create(self) -> None:
        sh(
            "docker",
            "network",
            "create",
            "--label",
            LABEL,
            "--subnet",
            f"{self.prefix}.0/24",
            self.net,
        )
        for host, (_, address) in self.hosts.items():
            sh(
                "docker",
                "run",
                "-d",
                "--name",
                host,
                "--hostname",
                host,
                "--label",
                LABEL,
                "--network",
                self.net,
                "--ip",
                address,
                "--cap-add",
                "SYS_ADMIN",
                "--security-opt",
                "seccomp=unconfined",
                "-v",
                "/sys/fs/cgroup:/sys/fs/cgroup:rw",
                "--tmpfs",
                "/run",
                "--tmpfs",
                "/run/lock",
                *(["--memory", self.memory] if self.memory else []),
                IMAGE,
                "/lib/systemd/systemd",
            )
        with concurrent.futures.ThreadPoolExecutor(len(self.hosts)) as pool:
            list(pool.map(self._login, self.hosts))
        self._write_inventory()
        if self.services:
            self.playbook(PREPARE_PG)

    def _login(self, host: str) -> None:
        # systemd needs a moment before its bus answers; wait (bounded) until it has booted.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = sh("docker", "exec", host, "systemctl", "is-system-running", check=False)
            if state.stdout.strip() in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"systemd did not finish booting in {host}")
        public = self.key.with_suffix(".pub").read_text()
        script = (
            "install -d -m 700 -o ansible -g ansible ~ansible/.ssh && "
            f"printf '%s' '{public.strip()}' > ~ansible/.ssh/authorized_keys && "
            "chown ansible: ~ansible/.ssh/authorized_keys && "
            "chmod 600 ~ansible/.ssh/authorized_keys && "
            "systemctl start ssh"
        )
        sh("docker", "exec", host, "sh", "-c", script)

    def _write_inventory(self) -> None:
        (self.workdir / "group_vars/all").mkdir(parents=True, exist_ok=True)
        shutil.copy(SHARED_VARS, self.workdir / "group_vars/all/cluster.yml")
        groups = {
            "pg": ["test_postgresql", "idm_repository"],
            "node": ["idm_nodes"],
            "lb": ["idm_loadbalancers"],
        }
        children: dict[str, dict] = {}
        for host, (role, address) in self.hosts.items():
            for group in groups[role]:
                children.setdefault(group, {"hosts": {}})["hosts"][host] = {"ansible_host": address}
        inventory = {
            "all": {
                "children": children,
                "vars": {
                    "ansible_user": "ansible",
                    "ansible_ssh_private_key_file": str(self.key),
                    # Fresh containers every time: their host keys are new by construction.
                    "ansible_ssh_common_args": (
                        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                    ),
                },
            }
        }
        (self.workdir / "hosts.yml").write_text(json.dumps(inventory, indent=2))

    def playbook(self, playbook: Path | str, *args: str, env: dict | None = None) -> dict:
        """Run a playbook against this cluster; return seconds, recap, output, return code."""
        command = ["ansible-playbook", "-i", str(self.workdir / "hosts.yml"), str(playbook), *args]
        if self.extra_vars:
            command += ["-e", f"@{self.extra_vars}"]
        busy0, total0 = cpu_ticks()
        controller0 = children_cpu_seconds()
        start = time.monotonic()
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, **(env or {})}
        )
        seconds = time.monotonic() - start
        busy1, total1 = cpu_ticks()
        recap = {
            m[1]: {
                "ok": int(m[2]),
                "changed": int(m[3]),
                "unreachable": int(m[4]),
                "failed": int(m[5]),
                "skipped": int(m[6] or 0),
            }
            for m in map(RECAP.match, done.stdout.splitlines())
            if m
        }
        result = {
            "seconds": round(seconds, 1),
            "rc": done.returncode,
            "recap": recap,
            "stdout": done.stdout,
            "stderr": done.stderr,
            # The controller and every container share this machine's cores: how busy they were,
            # and how much of it was ansible-playbook itself (with its ssh children).
            "cpu": {
                "machine_busy": round((busy1 - busy0) / max(1, total1 - total0), 3),
                "controller_cpu_s": round(children_cpu_seconds() - controller0, 1),
            },
        }
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
            raise RuntimeError(f"{playbook} failed on {self.name} (rc={done.returncode}):\n{tail}")
        return result

    @property
    def nodes(self) -> list[str]:
        return [h for h, (role, _) in self.hosts.items() if role == "node"]

    def starts(self) -> dict[str, list[physical.Start]]:
        """Every node's launches and readiness, from its own service journal."""
        found = {}
        for host in self.nodes:
            done = sh("docker", "exec", host, "journalctl", "-u", "openidm", "-o", "json")
            found[host] = physical.starts_from_journal(done.stdout.splitlines())
        return found

    @property
    def lb(self) -> str:
        return next(h for h, (role, _) in self.hosts.items() if role == "lb")

    def destroy(self) -> None:
        sh("docker", "rm", "-f", *self.hosts, check=False)
        sh("docker", "network", "rm", self.net, check=False)


def changed(run: dict) -> int:
    return sum(stats["changed"] for stats in run["recap"].values())


def profile_top(stdout: str, count: int = 10) -> list[dict]:
    rows = [m.groupdict() for m in map(PROFILE.match, stdout.splitlines()) if m]
    ranked = sorted(rows, key=lambda r: -float(r["seconds"]))[:count]
    return [{"task": r["task"].strip(), "seconds": float(r["seconds"])} for r in ranked]


def ddl_seconds(stdout: str) -> float:
    """The DDL task's time in a profile_tasks listing (0 when the schema already existed)."""
    for row in map(PROFILE.match, stdout.splitlines()):
        if row and row["task"].strip().endswith(DDL_TASK):
            return float(row["seconds"])
    raise RuntimeError(f"no '{DDL_TASK}' in the task profile")


def tasks_per_host(run: dict, hosts: list[str]) -> dict:
    """Task results per host from the recap (ok includes changed; skipped tasks still cost a
    round of the controller's work), and the controller CPU seconds per task result."""
    counts = [run["recap"][h]["ok"] + run["recap"][h]["skipped"] for h in hosts]
    total = sum(s["ok"] + s["skipped"] + s["failed"] for s in run["recap"].values())
    return {
        "per_node": {
            "min": min(counts),
            "max": max(counts),
            "mean": round(sum(counts) / len(counts), 1),
        },
        "all_hosts": total,
        "controller_cpu_s_per_task": round(run["cpu"]["controller_cpu_s"] / max(1, total), 4),
    }


def summary(values: list[float]) -> dict:
    return {"runs": values, "min": min(values), "median": statistics.median(values)}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="idm-bench-"))
        self.key = self.tmp / "id_ed25519"
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.key))
        (self.tmp / "ansible.cfg").write_text(
            "[defaults]\nforks = 20\ncallback_result_format = yaml\ninterpreter_python = "
            "/usr/bin/python3\n[ssh_connection]\npipelining = true\n"
            "ssh_args = -o ControlMaster=auto -o ControlPersist=120s\n"
        )
        os.environ["ANSIBLE_CONFIG"] = str(self.tmp / "ansible.cfg")
        self.octet = 50
        # The scenarios' shared variables with the product's realistic start-up time (C15).
        shared = yaml.safe_load(SHARED_VARS.read_text())
        boot = dict(shared.get("idm_boot_properties_extra") or {})
        boot["standin.startup.delay.seconds"] = args.startup_delay
        self.extra_vars = self.tmp / "bench-vars.json"
        self.extra_vars.write_text(json.dumps({"idm_boot_properties_extra": boot}))
        # The health wait: HAProxy marks a backend up after `rise` passing checks.
        lb_defaults = yaml.safe_load(LB_DEFAULTS.read_text())
        interval = shared.get("idm_lb_check_interval", lb_defaults["idm_lb_check_interval"])
        self.health_seconds = interval * lb_defaults["idm_lb_check_rise"] / 1000

    def cluster(self, nodes: int) -> Cluster:
        self.octet += 1
        cluster = Cluster(
            nodes,
            self.octet,
            self.tmp,
            self.key,
            memory=self.args.memory,
            extra_vars=self.extra_vars,
        )
        log(f"creating {cluster.name}: PostgreSQL, {nodes} nodes, HAProxy")
        try:
            cluster.create()
        except Exception:
            cluster.destroy()
            raise
        return cluster

    def cold(self, nodes: int, playbook: str, env: dict | None = None) -> tuple[dict, Cluster]:
        """A cold deploy on fresh containers, profiled, with its physical limit."""
        cluster = self.cluster(nodes)
        try:
            log(f"cold deploy of {nodes} nodes with {Path(playbook).name} {env or ''}")
            run = cluster.playbook(playbook, env={**PROFILE_ENV, **(env or {})})
            limit = physical.physical_limit(
                ddl_seconds(run["stdout"]), cluster.starts(), cluster.nodes[0], self.health_seconds
            )
            limit["time_over_limit"] = round(run["seconds"] / limit["limit_s"], 2)
            run["physical"] = limit
            run["tasks"] = tasks_per_host(run, cluster.nodes)
            run["cpu"]["controller_cpu_s_per_node"] = round(
                run["cpu"]["controller_cpu_s"] / nodes, 2
            )
            log(f"  {run['seconds']} s, {changed(run)} changes, cpu {run['cpu']}, limit {limit}")
            return run, cluster
        except Exception:
            cluster.destroy()
            raise

    def deploys(self, results: dict) -> None:
        sizes = [3] if self.args.quick else [3, 6]
        plays = {"ours": "idm_automation.cluster.site"}
        if not self.args.quick:
            plays["baseline_serial"] = str(BASELINE)
        for name, playbook in plays.items():
            for nodes in sizes:
                for repetition in range(self.args.repeat):
                    first = name == "ours" and nodes == 3 and repetition == 0
                    run, cluster = self.cold(nodes, playbook)
                    results["cold_deploy"].setdefault(name, {}).setdefault(str(nodes), []).append(
                        run["seconds"]
                    )
                    for key in ("physical", "tasks"):
                        results[f"cold_deploy_{key}"].setdefault(name, {}).setdefault(
                            str(nodes), []
                        ).append(run[key])
                    results["cold_deploy_cpu"].setdefault(name, {}).setdefault(
                        str(nodes), []
                    ).append(run["cpu"])
                    try:
                        if first:
                            results["profile_top10"] = profile_top(run["stdout"])
                            self.rerun_and_restart(cluster, run, results)
                    finally:
                        cluster.destroy()

    def rerun_and_restart(self, cluster: Cluster, cold: dict, results: dict) -> None:
        log("idempotent re-run")
        rerun = cluster.playbook("idm_automation.cluster.site", env=PROFILE_ENV)
        results["rerun"] = {
            "profile_top10": profile_top(rerun["stdout"]),
            "seconds": rerun["seconds"],
            "changed": changed(rerun),
            "cpu": rerun["cpu"],
            "tasks": tasks_per_host(rerun, cluster.nodes),
            "cold_seconds": cold["seconds"],
            "ratio_to_cold": round(rerun["seconds"] / cold["seconds"], 3),
        }
        log(f"  {rerun['seconds']} s, {changed(rerun)} changes")
        log("check mode on the converged cluster")
        check = cluster.playbook("idm_automation.cluster.site", "--check", "--diff")
        results["check_mode"] = {"seconds": check["seconds"], "changed": changed(check)}
        log("rolling restart under load")
        results["rolling_restart"] = self.rolling_restart(cluster)

    def rolling_restart(self, cluster: Cluster) -> dict:
        lb = cluster.lb
        sh("docker", "cp", str(LOADGEN), f"{lb}:/usr/local/bin/idm-loadgen")
        sh("docker", "exec", lb, "rm", "-f", "/tmp/bench-load.json", "/tmp/bench-load.stop")
        sh(
            "docker",
            "exec",
            "-d",
            lb,
            "python3",
            "/usr/local/bin/idm-loadgen",
            "--url",
            "http://127.0.0.1/openidm/info/ping",
            "--out",
            "/tmp/bench-load.json",
            "--stop-file",
            "/tmp/bench-load.stop",
            "--concurrency",
            "4",
            "--max-seconds",
            "600",
        )
        time.sleep(3)
        run = cluster.playbook("idm_automation.cluster.rolling_restart")
        time.sleep(3)
        sh("docker", "exec", lb, "touch", "/tmp/bench-load.stop")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = sh("docker", "exec", lb, "cat", "/tmp/bench-load.json", check=False)
            if done.returncode == 0:
                load = json.loads(done.stdout)
                load["restart_seconds"] = run["seconds"]
                log(f"  {load['sent']} requests, {load['failed']} failed, {run['seconds']} s")
                return load
            time.sleep(1)
        raise RuntimeError("the load generator did not write its result")

    def scale(self, results: dict) -> None:
        """One cold deploy and re-run of --nodes nodes (ours only): how the cost grows."""
        nodes = self.args.nodes
        run, cluster = self.cold(nodes, "idm_automation.cluster.site")
        try:
            log(f"idempotent re-run of {nodes} nodes")
            rerun = cluster.playbook("idm_automation.cluster.site")
        finally:
            cluster.destroy()
        results["scale"] = {
            "nodes": nodes,
            "memory_per_container": self.args.memory,
            "cold": {k: run[k] for k in ("seconds", "cpu", "physical", "tasks")},
            "cold_changed": changed(run),
            "rerun": {k: rerun[k] for k in ("seconds", "cpu")},
            "rerun_changed": changed(rerun),
            "rerun_tasks": tasks_per_host(rerun, cluster.nodes),
            "rerun_ratio_to_cold": round(rerun["seconds"] / run["seconds"], 3),
        }

    def pipelining(self, results: dict) -> None:
        for mode in ("true", "false"):
            run, cluster = self.cold(3, "idm_automation.cluster.site", {"ANSIBLE_PIPELINING": mode})
            cluster.destroy()
            results["ssh_cold_deploy_3"][f"pipelining_{mode}"] = run["seconds"]

    def invariants(self, results: dict) -> None:
        sizes = "100,1000" if self.args.quick else "100,1000,5000"
        log(f"invariants filter over {sizes} hosts")
        done = sh(
            sys.executable,
            str(REPO / "bench/invariants.py"),
            "--sizes",
            sizes,
            "--repeat",
            "3" if self.args.quick else "5",
        )
        results["invariants"] = json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 nodes only, no baseline")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions of each cold deploy")
    parser.add_argument(
        "--startup-delay",
        type=float,
        default=20.0,
        help="seconds each stand-in node takes to become ready (C15; default 20)",
    )
    parser.add_argument("--nodes", type=int, help="only the scale run: one cold deploy of N nodes")
    parser.add_argument("--memory", help="memory limit per container (docker run --memory)")
    args = parser.parse_args()
    if args.nodes is not None and args.nodes < 2:
        parser.error("--nodes needs at least 2")
    bench = Bench(args)
    started = time.monotonic()
    results: dict = {
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "ansible_core": sh("ansible", "--version").stdout.split("\n")[0],
        },
        "startup_delay_s": args.startup_delay,
        "cold_deploy": {},
        "cold_deploy_cpu": {},
        "cold_deploy_physical": {},
        "cold_deploy_tasks": {},
        "ssh_cold_deploy_3": {},
    }
    try:
        if args.nodes is not None:
            bench.scale(results)
        else:
            bench.invariants(results)
            bench.deploys(results)
            if not args.quick:
                bench.pipelining(results)
    finally:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    results["controller_cpu_s_per_added_node"] = {
        name: round(
            (
                statistics.median(c["controller_cpu_s"] for c in runs["6"])
                - statistics.median(c["controller_cpu_s"] for c in runs["3"])
            )
            / 3,
            2,
        )
        for name, runs in results["cold_deploy_cpu"].items()
        if "3" in runs and "6" in runs
    }
    results["ratios"] = {
        name: round(statistics.median(runs["6"]) / statistics.median(runs["3"]), 3)
        for name, runs in results["cold_deploy"].items()
        if "6" in runs
    }
    results["cold_deploy"] = {
        name: {n: summary(v) for n, v in runs.items()}
        for name, runs in results["cold_deploy"].items()
    }
    results["total_seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(results, indent=2)
    out = REPO / (
        "bench/results/latest.json"
        if args.nodes is None
        else f"bench/results/scale-{args.nodes}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
