"""The service's one-link path, bare (no HTTP): validating a posted link into canonical values and
scoring it, as the service does for a one-link request. Median µs over many calls.

    python bench/one_link.py [--calls 3000] [--model models/default]

Run it against two checkouts alternately (``PYTHONPATH=OTHER/src``) to compare them in one session;
it finds the service's functions under either package layout.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time


def _functions():
    """(Link, link_values, load, score_one) from the installed toxiclinks, old or new layout."""
    for service, model in (("toxiclinks.serving.service", "toxiclinks.model"), ("toxiclinks.service", "toxiclinks.score")):
        try:
            svc = importlib.import_module(service)
            scoring = importlib.import_module(model)
        except ImportError:
            continue
        load = importlib.import_module("toxiclinks.model").load
        return svc.Link, svc.link_values, load, scoring.score_one
    raise SystemExit("no toxiclinks service found")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--model", default="models/default")
    args = parser.parse_args()
    Link, link_values, load, score_one = _functions()
    model = load(args.model)
    base = {"target_url": "https://trailgear.example.com/", "anchor": "best online casino", "in_content": False}
    for kind in ("same link", "new link"):
        times = []
        for i in range(args.calls):
            url = "https://best-casino-links.example.xyz/p" if kind == "same link" else f"https://s{i}x.example{i % 97}.net/p{i}"
            link = Link(source_url=url, **base)
            start = time.perf_counter()
            values = link_values(link)[0]
            score_one(model, values)
            times.append(time.perf_counter() - start)
        print(f"{kind}: median {statistics.median(times) * 1e6:.0f} µs over {args.calls:,} calls")


if __name__ == "__main__":
    main()
