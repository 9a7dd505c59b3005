"""The audit on a Dask cluster against one process, and what more workers would give.

    python bench/cluster_bench.py --export bench/out/export_1000000/links.csv --workers 2

Three measurements on the same export, each audit with --no-history and one TOXICLINKS_HOME whose
compiled forest is built before anything is timed:

1. ``toxiclinks audit EXPORT`` (one process), end to end, in a subprocess;
2. ``toxiclinks audit EXPORT --cluster local:N``, end to end (the cluster's start included);
3. ``run_audit(..., cluster=ADDRESS)`` in this process against a LocalCluster of N workers started
   beforehand, with Dask's task stream (every task's compute time, per worker) and the audit's own
   log lines (when each phase ended, how long the client waited for and assembled parts).

From 3 it splits the audit into the client's serial work (model load, merging profile keys,
computing the context, appending parts in order, the site table, disavow merge and report), the
reading of the export (one task per export file: serial for one file) and the chunk tasks
(profile keys, scoring: parallel), and projects T(N) = serial + read + parallel / N.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOXICLINKS = [sys.executable, "-m", "toxiclinks.cli"]


class _Phases(logging.Handler):
    """Collects the audit's cluster log lines with their times."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.created, record.getMessage()))


def _timed(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of an audit (status 1, a disavow file too full for every entry, is a success here)."""
    began = time.perf_counter()
    status = subprocess.run(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    if status not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited with status {status}")
    return time.perf_counter() - began


def _load() -> str:
    """The machine's load averages and CPU count, for the record."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"


def _in_process(export: str, workers: int, out: Path) -> dict:
    """Measurement 3: phases, task stream and the serial/parallel split."""
    from distributed import Client, LocalCluster, get_task_stream

    from toxiclinks.audit import run_audit
    from toxiclinks.config import tune_memory

    tune_memory()
    phases = _Phases()
    logging.getLogger("toxiclinks.audit._cluster").addHandler(phases)
    logging.getLogger("toxiclinks.audit._cluster").setLevel(logging.INFO)
    started = time.perf_counter()
    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster, set_as_default=False) as client:
        cluster_start = time.perf_counter() - started
        client.run(lambda: __import__("toxiclinks.audit") and None)  # imports warm, as on a running cluster
        with get_task_stream(client) as stream:
            began_wall, began = time.time(), time.perf_counter()
            result = run_audit([export], out, progress=False, history=False, force=True,
                               cluster=cluster.scheduler_address)
            total = time.perf_counter() - began
            ended_wall = time.time()
        tasks = stream.data
    messages = [m for _, m in phases.lines]
    computes: dict[str, list[float]] = {}
    per_worker: dict[str, float] = {}
    for task in tasks:
        kind = str(task["key"]).split("-")[1]
        for ss in task["startstops"]:
            if ss["action"] == "compute":
                computes.setdefault(kind, []).append(ss["stop"] - ss["start"])
                per_worker[task["worker"]] = per_worker.get(task["worker"], 0.0) + ss["stop"] - ss["start"]
    pass1_end = next(t for t, m in phases.lines if m.startswith("pass 1:"))
    pass2_start = next(t for t, m in phases.lines if m.startswith("pass 2: scoring"))
    pass2_end = next(t for t, m in phases.lines if m.startswith("pass 2:") and "waited" in m)
    connected = next(t for t, m in phases.lines if m.startswith("connected"))
    assembled = float(next(m for m in messages if "assembled" in m).split("assembled them in ")[1].split(" s")[0])
    merging = float(next(m for m in messages if m.startswith("pass 1:")).split("merging: ")[1].split(" s")[0])
    read = sum(computes.get("read", []))
    serial = {
        "start: model, connect, model file for the workers": connected - began_wall,
        "merging the chunks' profile keys": merging,
        "context computed, outputs opened": pass2_start - pass1_end,
        "appending parts in order (links.csv, links.parquet, accumulator)": assembled,
        "site table, disavow merge, report": ended_wall - pass2_end,
    }
    parallel = sum(computes.get("context", [])) + sum(computes.get("score", []))
    return {
        "workers": workers, "cluster_start_s": cluster_start, "audit_s": total, "links": result.links,
        "pass1_wall_s": pass1_end - connected, "pass2_wall_s": pass2_end - pass2_start,
        "tasks": {k: {"n": len(v), "sum_s": sum(v), "median_s": statistics.median(v), "max_s": max(v)}
                  for k, v in computes.items()},
        "per_worker_busy_s": per_worker, "serial_s": serial, "serial_total_s": sum(serial.values()),
        "read_s": read, "parallel_s": parallel, "log": messages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--export", default=str(ROOT / "bench/out/export_1000000/links.csv"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--project", default="8,32", help="worker counts to project to")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cluster-bench-home-"))
    scratch = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    env = {**os.environ, "TOXICLINKS_HOME": str(home)}
    os.environ["TOXICLINKS_HOME"] = str(home)
    from toxiclinks.model import load

    load(None).compiled_forest(wait=True)  # built once, before anything is timed
    print(_load(), "before", flush=True)
    single = _timed([*TOXICLINKS, "audit", args.export, "--out", str(scratch / "single"), "--no-history",
                     "--force"], env)
    print(f"one process: {single:.1f} s ({_load()})", flush=True)
    cli = _timed([*TOXICLINKS, "audit", args.export, "--out", str(scratch / "cli"), "--no-history", "--force",
                  "--cluster", f"local:{args.workers}"], env)
    print(f"--cluster local:{args.workers}, end to end: {cli:.1f} s ({_load()})", flush=True)
    same = all((scratch / "single" / n).read_bytes() == (scratch / "cli" / n).read_bytes()
               for n in ("links.csv", "domains.csv", "disavow.txt"))
    measured = _in_process(args.export, args.workers, scratch / "inproc")
    print(f"in process, cluster running: {measured['audit_s']:.1f} s ({_load()})", flush=True)
    serial, read, parallel = measured["serial_total_s"], measured["read_s"], measured["parallel_s"]
    projected = {n: serial + read + parallel / n for n in [1, args.workers, *map(int, args.project.split(","))]}
    report = {"single_s": single, "cluster_cli_s": cli, "outputs_identical": same, **measured,
              "projected_s": projected, "load_after": _load()}
    print(json.dumps(report, indent=2, default=str))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str), "utf-8")
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
