"""Memory and time of the batch statistics (features/context.py) for a 10.7M-link export.

Feeds the context builder synthetic keys with the bench export's cardinalities (340k referring
sites, 3M distinct anchors, one target, a distinct page per link) in 100k-link chunks, then
measures `ContextBuilder.finish()`: its extra resident memory over the keys, and its time.

    python bench/context_memory.py [--links 10728315]
"""

from __future__ import annotations

import argparse
import gc
import threading
import time

import numpy as np

from toxiclinks.features import ContextBuilder


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=10_728_315)
    n_links = parser.parse_args().links
    peak = [0.0]

    def sample() -> None:
        while True:
            peak[0] = max(peak[0], _rss_mb())
            time.sleep(0.01)

    threading.Thread(target=sample, daemon=True).start()
    rng = np.random.default_rng(0)
    builder = ContextBuilder(None)
    builder._register("target.example")
    sites = rng.integers(0, 2**63, 340_000, dtype=np.uint64)
    anchors = rng.integers(0, 2**63, 3_000_000, dtype=np.uint64)
    for start in range(0, n_links, 100_000):
        n = min(100_000, n_links - start)
        keys = {
            "site": sites[rng.integers(0, len(sites), n)], "page": rng.integers(0, 2**63, n, dtype=np.uint64),
            "anchor": anchors[rng.integers(0, len(anchors), n)], "target": np.zeros(n, dtype=np.int32),
            "exact": rng.random(n, dtype=np.float32), "money": rng.random(n, dtype=np.float32),
            "money_any": rng.random(n, dtype=np.float32), "repeated": rng.random(n, dtype=np.float32),
            "week": rng.integers(2800, 2900, n).astype(np.int32), "no_anchor": rng.random(n) < 0.1,
            "no_target": np.zeros(n, dtype=bool)}
        for name, values in keys.items():
            builder._keys.setdefault(name, []).append(values)
    del sites, anchors
    gc.collect()
    before = _rss_mb()
    peak[0] = before
    started = time.perf_counter()
    builder.finish()
    print(f"{n_links:,} links: keys held {before:,.0f} MB; finish() {time.perf_counter() - started:.1f} s, "
          f"peak {peak[0]:,.0f} MB (+{peak[0] - before:,.0f} MB over the keys), after {_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
