"""A guard on the streamed audit's memory, measured as peak RSS (the issue's CI-sized check).

An export whose links exceed ``READ_ONCE_BYTES`` is streamed twice, and between the passes the audit keeps only
compact per-link numbers (context keys and group codes, toxicity, verdict codes), so its peak is
the working set of a few chunks plus little per link. A generated 200k-link export, streamed in
20k-link chunks, in a fresh process with the model loaded first: the peak may exceed the memory
held after loading by at most :data:`BOUND_MB` (measured: ~410 MB on this machine, where the
10.7M-link audit peaks at 1.7 GiB in all; ``bench/RESULTS.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BOUND_MB = 600
_AUDIT = """
import json, resource, sys, tempfile
from toxiclinks.audit import _run
from toxiclinks.audit import run_audit
from toxiclinks.model import load
model = load()
model.compiled_forest(wait=True)  # the same scorer in both runs (the library is built once per home)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_run.READ_ONCE_BYTES, _run.CHUNK_ROWS = int(sys.argv[2]), 20_000
result = run_audit([sys.argv[1]], tempfile.mkdtemp(), model=model, progress=False, history=False)
print(json.dumps({"before_kb": before, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "links": result.links}))
"""


def _peak(export: Path, read_once_rows: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", _AUDIT, str(export), str(read_once_rows)], capture_output=True,
                          text=True, timeout=600, env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_a_streamed_200k_audit_stays_under_its_memory_bound(tmp_path):
    from toxiclinks.model import write_seed_data

    links, _, _ = write_seed_data(tmp_path / "export", 666, 300, seed=2024, labels=False)
    run = _peak(links, 0)
    assert run["links"] > 190_000
    grown_mb = (run["peak_kb"] - run["before_kb"]) / 1024
    assert grown_mb < BOUND_MB, f"the streamed audit's peak grew {grown_mb:,.0f} MB over the loaded model ({run})"
