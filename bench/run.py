"""Benchmarks for the issue targets, each against a reference measured in the same run.

    python bench/make_export.py 1000000 bench/out     # once: a seeded 1M-link Ahrefs export + labels
    python bench/run.py --rows 1000000                 # prints a Markdown table for bench/RESULTS.md

Every step runs in a fresh subprocess and home (so peak memory is per step, caches start cold and
no earlier audit is compared with) and is compared with a bare ``pandas.read_csv`` of the same file
timed in the same run: these machines are noisy, ratios travel better than seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = {
    "read_csv": """
import pandas as pd
t = time.perf_counter(); df = pd.read_csv(PATH); out['seconds'] = time.perf_counter() - t
out['rows'] = len(df)
""",
    "read_export": """
from toxiclinks.reading import read_export
t = time.perf_counter(); r = read_export(PATH); out['seconds'] = time.perf_counter() - t
out['rows'] = len(r.links); out['rejected'] = len(r.rejects)
out['distinct_hosts'] = int(r.links['source_host'].nunique())
""",
    "features": """
from toxiclinks.reading import read_export
from toxiclinks.model import load
links = read_export(PATH).links
model = load(MODEL)
t = time.perf_counter(); X = model.transform(links); out['seconds'] = time.perf_counter() - t
out['rows'] = len(links); out['links_per_second'] = len(links) / out['seconds']
""",
    "predict_and_contrib": """
from toxiclinks.reading import read_export
from toxiclinks.model import load
links = read_export(PATH).links.head(200_000)
model = load(MODEL)
X = model.transform(links)
t = time.perf_counter(); p = model.raw_score(X); out['predict_rows_per_second'] = len(X) / (time.perf_counter() - t)
n = 20_000
t = time.perf_counter(); c = model.contributions(X[:n]); out['contrib_rows_per_second'] = n / (time.perf_counter() - t)
out['seconds'] = 0.0
""",
    "audit": """
from toxiclinks.audit import run_audit
import tempfile
d = tempfile.mkdtemp()
t = time.perf_counter(); r = run_audit([PATH], d, model=MODEL, progress=False); out['seconds'] = time.perf_counter() - t
out['rows'] = r.links; out['flagged_with_reasons'] = r.verdicts.get('toxic', 0) + r.verdicts.get('suspicious', 0)
""",
    "train": """
from toxiclinks.model import train
import tempfile
labels = str(Path(PATH).with_name('labels.csv'))
t = time.perf_counter()
r = train([PATH], [labels], out=tempfile.mkdtemp(), track=False, log=lambda *a: None)
out['seconds'] = time.perf_counter() - t
out['rows'] = int(r.metrics['train_links'] + r.metrics['test_links'])
out['fit_seconds'] = r.metrics['train_seconds']
out['test_roc_auc'] = r.metrics['test_roc_auc']
""",
}

RUNNER = """
import json, resource, sys, time
from pathlib import Path
PATH, MODEL = sys.argv[1], sys.argv[2]
out = {{}}
if {tuned}:  # set up as the toxiclinks command does (the bare read_csv reference is left alone)
    from toxiclinks.config import tune_memory
    tune_memory()
{body}
out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print('RESULT' + json.dumps(out))
"""


def run_step(name: str, path: Path, model: str) -> dict:
    """Run one step in a fresh interpreter with a fresh ``TOXICLINKS_HOME``; return its measurements.

    The home holds only a copy of the current home's compiled forests (built once per model, as a
    user's are): audits recorded earlier in the history would otherwise be compared with, which
    adds seconds and memory that the step itself does not cost.
    """
    from toxiclinks.config import home

    code = RUNNER.format(body=STEPS[name], tuned=name != "read_csv")
    with tempfile.TemporaryDirectory(prefix="toxiclinks-bench-") as fresh:
        if (home() / "compiled").is_dir():
            shutil.copytree(home() / "compiled", Path(fresh) / "compiled")
        env = {**os.environ, "TOXICLINKS_HOME": fresh}
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", code, str(path), model], capture_output=True, text=True,
                              env=env)
        wall = time.perf_counter() - started
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"step {name} failed:\n{proc.stderr[-3000:]}")
    # The whole process, start to exit: interpreter, imports, model loading and the step, as a
    # user's command pays them (the reference is a whole-process pandas.read_csv).
    return {**json.loads(line[len("RESULT"):]), "process_seconds": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--export", help="an export file to use instead of OUT/export_ROWS/links.csv")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each step this many times and report the median seconds")
    args = parser.parse_args()
    path = Path(args.export) if args.export else Path(args.out) / f"export_{args.rows}" / "links.csv"
    if not path.exists():
        sys.exit(f"{path} is missing: run python bench/make_export.py {args.rows} {args.out}")
    results = {}
    for name in args.steps.split(","):
        runs = []
        for _ in range(args.repeat):
            runs.append(run_step(name, path, args.model))
            print(f"{name}: {runs[-1]}", file=sys.stderr)
        results[name] = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run
        if len(runs) > 1:
            results[name]["seconds_all"] = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    ref = results.get("read_csv", {}).get("seconds")
    whole = results.get("read_csv", {}).get("process_seconds")
    print(f"\n{platform.node()} · {platform.processor() or platform.machine()} · "
          f"{time.strftime('%Y-%m-%d %H:%M')} · file {path} ({path.stat().st_size / 1e6:.0f} MB)\n")
    print("| step | seconds | × bare read_csv | whole process s | × whole-process read_csv | peak RSS MB | other |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ratio = f"{r['seconds'] / ref:.1f}" if ref and r.get("seconds") else ""
        process_ratio = f"{r['process_seconds'] / whole:.1f}" if whole else ""
        other = ", ".join(f"{k} {v:,.3f}" if isinstance(v, float) else f"{k} {v:,}" if isinstance(v, int)
                          else f"{k} {v}" for k, v in r.items()
                          if k not in ("seconds", "peak_rss_mb", "process_seconds"))
        print(f"| {name} | {r['seconds']:.2f} | {ratio} | {r['process_seconds']:.2f} | {process_ratio} "
              f"| {r['peak_rss_mb']:,.0f} | {other} |")
    if whole and "audit" in results:
        print(f"\nThe audit, whole process: {results['audit']['process_seconds'] / whole:.1f}× a whole-process "
              f"pandas.read_csv of the same file (target ≤ 6×).")


if __name__ == "__main__":
    main()
