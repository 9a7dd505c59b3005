"""Latency and sustained load of the HTTP service, against the bare pipeline call in the same run.

    python bench/service_load.py [--seconds 60] [--model models/default]

Starts ``toxiclinks serve`` on 127.0.0.1 (only loopback is ever targeted), then measures:
one link per request (p50/p99) — the same link again and again, and links never seen before
(no cache helps those) — 1,000 links in one request, and a bounded sustained load with 4
concurrent clients; prints a table for bench/RESULTS.md. The reference is the call the service
makes for the same kind of request, in this process: the one-link path for one link, the batch for
1,000. Each request is paired with a reference call right after it, so both see the same phase of
the machine (their speed drifts by a third within minutes here).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

BIN = Path(sys.executable).parent
LINK = {"source_url": "https://best-casino-links.example.xyz/partners", "target_url": "https://trailgear.example.com/",
        "anchor": "best online casino", "in_content": False, "links_in_group": 120, "domain_rating": 4}


def many(n: int) -> list[dict]:
    return [{**LINK, "source_url": f"https://site{i % 400}.example.com/p{i}",
             "anchor": "best online casino" if i % 3 == 0 else "Trail Gear"} for i in range(n)]


def fresh(n: int, start: int) -> list[dict]:
    """``n`` links unlike each other and unlike those of any other ``start``: new hosts, anchors, paths."""
    anchors = ("best online casino", "Trail Gear", "click here", "hiking boots review", "https://trailgear.example.com")
    return [{**LINK, "source_url": f"https://blog-{i}.example{i % 7}.com/post/{i}/hiking-news",
             "anchor": f"{anchors[i % len(anchors)]} {i}", "links_in_group": i % 300, "domain_rating": i % 90}
            for i in range(start, start + n)]


def percentiles(seconds: list[float]) -> tuple[float, float]:
    return float(np.percentile(seconds, 50)), float(np.percentile(seconds, 99))


class Bare:
    """The in-process calls the service makes for a request: the one-link path, or the batch."""

    def __init__(self, model_path: str) -> None:
        from toxiclinks.config import tune_memory
        from toxiclinks.model import load, score, score_one
        from toxiclinks.serving.service import Link, link_values, links_frame

        tune_memory()  # as the service does
        self.model = load(model_path)
        self._score, self._score_one, self._link, self._values, self._frame = (
            score, score_one, Link, link_values, links_frame)

    def __call__(self, links: list[dict]) -> float:
        """Seconds for the call the service makes for these links."""
        t = time.perf_counter()
        if len(links) == 1:
            self._score_one(self.model, self._values(self._link(**links[0]))[0])
        else:
            self._score(self.model, self._frame([self._link(**d) for d in links])[0])
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--model", default="models/default")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TOXICLINKS_HOME": os.environ.get("TOXICLINKS_HOME", "/tmp/toxiclinks-bench")}
    proc = subprocess.Popen([str(BIN / "toxiclinks"), "serve", "--model", args.model, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 120:
                sys.exit("service did not become ready")
            time.sleep(0.2)
        ready = time.perf_counter() - started
        client = httpx.Client()

        def post(links: list[dict]) -> float:
            t = time.perf_counter()
            r = client.post(f"{url}/score", json={"links": links}, timeout=60)
            assert r.status_code == 200, r.text
            return time.perf_counter() - t

        # Each HTTP request is paired with the bare call for the same kind of request, one right
        # after the other (never at the same time): both see the same phase of a noisy machine.
        bare = Bare(args.model)

        def paired(served: list[list[dict]], local: list[list[dict]]) -> tuple[list[float], list[float]]:
            times = [(post(a), bare(b)) for a, b in zip(served, local, strict=True)]
            return [t[0] for t in times], [t[1] for t in times]

        paired([[link] for link in fresh(50, 0)], [[link] for link in fresh(50, 0)])  # warm-up
        same, same_bare = paired([[LINK]] * 500, [[LINK]] * 500)
        # New links on both sides, different from each other's: no cache helps either.
        distinct, distinct_bare = paired([[a] for a in fresh(500, 10**5)], [[b] for b in fresh(500, 10**6)])
        thousand = many(1000)
        bare(thousand)
        lat1000, bare1000 = paired([thousand] * 20, [thousand] * 20)
        # Sustained, bounded load: 4 clients for --seconds, loopback only.
        counts = {"ok": 0, "errors": 0}
        lock, stop = threading.Lock(), time.perf_counter() + args.seconds

        def worker() -> None:
            with httpx.Client() as c:
                while time.perf_counter() < stop:
                    try:
                        status = c.post(f"{url}/score", json={"links": [LINK]}, timeout=30).status_code
                    except httpx.HTTPError:
                        status = 0
                    with lock:
                        counts["ok" if status == 200 else "errors"] += 1

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        proc.wait(20)
    rows = [("ready after start", f"{ready:.1f} s", "", "—")]
    for name, seconds, reference in (("same link", same, same_bare), ("a new link each time", distinct, distinct_bare)):
        p50, p99 = percentiles(seconds)
        ref = float(np.median(reference))
        rows += [(f"1 link per request ({name}), p50", f"{p50 * 1000:.2f} ms",
                  f"{p50 / ref:.2f}× bare call ({ref * 1000:.2f} ms)", "≤ 3 ms"),
                 (f"1 link per request ({name}), p99", f"{p99 * 1000:.2f} ms", "", "≤ 15 ms")]
    ref = float(np.median(bare1000))
    rows += [
        ("1,000 links in one request, p50", f"{np.median(lat1000) * 1000:.0f} ms",
         f"{np.median(lat1000) / ref:.2f}× bare call ({ref * 1000:.0f} ms)", "≤ 50 ms"),
        (f"sustained {args.seconds:.0f} s, 4 clients", f"{counts['ok'] / args.seconds:.0f} req/s",
         f"{counts['errors']} errors of {counts['ok'] + counts['errors']:,}", "zero errors"),
    ]
    print(pd.DataFrame(rows, columns=["measure", "value", "vs reference", "target"]).to_string(index=False))


if __name__ == "__main__":
    main()
