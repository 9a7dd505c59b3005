"""Rebuild src/toxiclinks/data/{spam_domains.txt,popular_domains.tsv} from ../shared/data/reference.

Run from the repository root: ``python data/reference/build_lists.py [SHARED_REFERENCE_DIR]``.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

SHARED = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/reference")
OUT = Path("src/toxiclinks/data")
DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*(\.[a-z0-9-]+)+$")
SPAM_FILES = ["matomo_referrer_spam.txt", "stevieray_referrer_spam.txt", "coolrecep_disavow.txt",
              "mertcangokgoz_disavow.txt"]


def main() -> None:
    spam: set[str] = set()
    for name in SPAM_FILES:
        for line in (SHARED / "spam_domains" / name).read_text("utf-8", errors="replace").splitlines():
            line = line.strip().lower()
            if not line or line.startswith("#"):
                continue
            line = line.removeprefix("domain:").strip().strip(".")
            if DOMAIN.match(line):
                spam.add(line)
    popular: dict[str, int] = {}
    with (SHARED / "popular_domains" / "majestic_million_top15000.csv").open() as fh:
        for row in csv.DictReader(fh):
            popular[row["Domain"].lower()] = int(row["GlobalRank"])
    tranco = (SHARED / "popular_domains" / "tranco_top10000.csv").read_text().splitlines()
    for rank, domain in enumerate(tranco, start=1):
        popular.setdefault(domain.strip().lower(), rank)
    OUT.joinpath("spam_domains.txt").write_text("\n".join(sorted(spam)) + "\n")
    # The Tranco file has a few bare suffixes (".com", ".fm"): keep real domain names only.
    ranked = sorted(((d, r) for d, r in popular.items() if DOMAIN.match(d)), key=lambda item: item[1])
    OUT.joinpath("popular_domains.tsv").write_text("".join(f"{d}\t{r}\n" for d, r in ranked))


if __name__ == "__main__":
    main()
