"""Latency of one-link scoring calls in-process, with and without ``gc.freeze()`` after warm-up.

Usage: ``python bench/gc_pauses.py normal|freeze`` (the service freezes: ``service._settle``).
Prints p50/p99/max of 1,000 calls and the longest full (generation 2) collection.
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import LINK  # noqa: E402
from toxiclinks.config import tune_memory  # noqa: E402
from toxiclinks.model import load, score  # noqa: E402
from toxiclinks.serving.service import Link, links_frame  # noqa: E402


def main(mode: str) -> None:
    tune_memory()
    model = load()
    one = [Link(**LINK)]
    for _ in range(20):
        score(model, links_frame(one)[0])
    if mode == "freeze":
        gc.collect()
        gc.freeze()
    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(watch)
    seconds = []
    for _ in range(1000):
        t = time.perf_counter()
        score(model, links_frame(one)[0])
        seconds.append(time.perf_counter() - t)
    ms = np.array(seconds) * 1e3
    full = [p for generation, p in pauses if generation == 2]
    print(f"{mode}: p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms; "
          f"{len(full)} full collections, longest {1e3 * max(full, default=0):.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "normal")
