"""Write a large seeded Ahrefs export (and labels) for the benchmarks: python bench/make_export.py N OUT_DIR."""

from __future__ import annotations

import sys
from pathlib import Path

from toxiclinks.model import write_seed_data as write


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "bench/out")
    # 250 links per target on average; targets scale with n so profiles stay realistic in size.
    targets = max(1, n // 300)
    links, labels, count = write(out / f"export_{n}", targets, 300, seed=2024)
    print(f"{count:,} links → {links}")


if __name__ == "__main__":
    main()
