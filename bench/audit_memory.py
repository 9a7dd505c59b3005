"""Peak memory of an audit, by phase: ``python bench/audit_memory.py EXPORT [OUT]``.

Runs ``run_audit`` in this process as the command does (``tune_memory()`` first, no history),
samples the resident set every 0.2 s and labels each sample with the audit's current step (the
progress messages, scoring in tenths), then prints each phase's highest RSS and the process's peak
(``getrusage``). The 10.7M-link numbers in bench/RESULTS.md come from it.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import threading
import time


def main() -> None:
    from toxiclinks.config import tune_memory

    tune_memory()
    from toxiclinks.audit import _run, run_audit

    phase, peaks = ["start"], {}
    page = os.sysconf("SC_PAGE_SIZE")

    def sample() -> None:
        while True:
            with open("/proc/self/statm") as fh:
                rss = int(fh.read().split()[1]) * page / 2**20
            peaks[phase[0]] = max(peaks.get(phase[0], 0.0), rss)
            time.sleep(0.2)

    def step(self, text: str, done: int = 0, total: int = 0) -> None:
        label = text.split(":")[0]
        phase[0] = f"{label} {min(9, 10 * done // total)}0%" if label == "scoring" and total else label

    _run.Progress.step = step  # the progress display's messages name the phases
    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    out = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp()
    result = run_audit([sys.argv[1]], out, progress=True, history=False, force=True)
    phase[0] = "after the audit"
    time.sleep(0.5)
    for name, rss in peaks.items():
        print(f"{name:28s} {rss:8,.0f} MiB")
    print(f"{result.links:,} links in {time.perf_counter() - started:.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
