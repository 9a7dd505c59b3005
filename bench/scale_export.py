"""Make a larger export from a benchmark export by repeating it with new referring hosts.

    python bench/scale_export.py bench/out/export_1000000/links.csv 10 bench/out/export_10x/links.csv

Copy k puts every referring URL on a subdomain ``c{k}.`` of its host, so referring *sites* stay
those of the input while hosts and pages multiply: a big site's export, not a different profile.
Streams in chunks; the output is about ``times`` × the input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def main() -> None:
    source, times, target = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    first = True
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        for k in range(times):
            for chunk in pd.read_csv(source, dtype=str, keep_default_na=False, chunksize=200_000):
                if k:
                    chunk["Referring page URL"] = chunk["Referring page URL"].str.replace(
                        r"^(https?://)", rf"\g<1>c{k}.", regex=True)
                chunk.to_csv(fh, index=False, header=first)
                first = False
            print(f"copy {k + 1}/{times}", file=sys.stderr)
    tmp.replace(target)


if __name__ == "__main__":
    main()
