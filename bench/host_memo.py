"""Host traits once per distinct host of a streamed audit, not once per chunk: the features' CPU time
with and without the memo, on the links of the 40,000 busiest hosts of the 1M export (a profile
shaped like a real one: many links per referring host), in 50k-link chunks as the audit streams them.

    python bench/host_memo.py [bench/out/export_1000000/links.csv]
"""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np

from toxiclinks.model import load, scoring_features
from toxiclinks.reading import read_export

CHUNK = 50_000


def main() -> None:
    links = read_export(sys.argv[1] if len(sys.argv) > 1 else "bench/out/export_1000000/links.csv").links
    busiest = links["source_host"].value_counts().index[:40_000]
    links = links[links["source_host"].isin(busiest)].reset_index(drop=True)
    features = scoring_features(load())
    builder = features.context_builder()
    for start in range(0, len(links), CHUNK):
        features.add_to_context(builder, links.iloc[start:start + CHUNK])
    context = builder.finish()
    seconds: dict[bool, list[float]] = {False: [], True: []}
    matrices: dict[bool, np.ndarray] = {}
    for _ in range(3):
        for memo in (False, True):
            ctx = dataclasses.replace(context, hosts=type(context.hosts)() if memo else None)
            started = time.process_time()
            parts = [features.transform(links.iloc[s:s + CHUNK], ctx.rows(s, s + CHUNK))
                     for s in range(0, len(links), CHUNK)]
            seconds[memo].append(time.process_time() - started)
            matrices[memo] = np.vstack(parts)
    print(f"{len(links):,} links from {links['source_host'].nunique():,} hosts, {CHUNK:,}-link chunks")
    print(f"features CPU s, median of 3: without the memo {np.median(seconds[False]):.2f}, "
          f"with {np.median(seconds[True]):.2f}; identical matrices: "
          f"{np.array_equal(matrices[False], matrices[True], equal_nan=True)}")


if __name__ == "__main__":
    main()
