"""Site decisions from per-link codes: the vectorised site table and recommendation agree with the
plain rules they implement, and a streamed audit's accumulator agrees with the in-memory path."""

from __future__ import annotations

import random
import tempfile
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from toxiclinks.audit import domain_table, recommendation
from toxiclinks.audit._accumulate import Accumulator
from toxiclinks.audit._sites import _by_site, _top_reasons

PHRASES = ["no organic traffic", "on spam lists", "money anchor", "footer link", "7 links from this site", ""]
SITES = ["a.com", "b.blogspot.com", "blogspot.com", "c.co.uk", "[2001:db8::1]", "d.net", "e.d.net", "f.org"]


def _reason(rng: random.Random) -> str:
    """A reason as the model writes them: phrases joined by '; ' (some empty, some repeated)."""
    return "; ".join(rng.choice(PHRASES) for _ in range(rng.randint(1, 4)))


def _expected_top_reasons(site: list[int], reasons: list[str], n_sites: int) -> list[str]:
    """The rule: per site, its three most frequent phrases, ties broken by which was seen first."""
    counts: list[Counter[str]] = [Counter() for _ in range(n_sites)]
    for s, reason in zip(site, reasons, strict=True):
        counts[s].update(p for p in reason.split("; ") if p)  # Counter keeps first-seen order
    return ["; ".join(sorted(c, key=c.__getitem__, reverse=True)[:3]) for c in counts]


@pytest.mark.parametrize("seed", range(40))
def test_top_reasons_are_each_sites_three_most_frequent_phrases_first_seen_first_on_ties(seed):
    rng = random.Random(seed)
    n_sites = rng.randint(1, 6)
    site = [rng.randrange(n_sites) for _ in range(rng.randint(1, 120))]
    reasons = [_reason(rng) for _ in site]
    names = list(dict.fromkeys(reasons))
    got = _top_reasons(np.array(site, dtype=np.int32), np.array([names.index(r) for r in reasons], dtype=np.int32),
                       np.array(names, dtype=object), n_sites)
    assert got.tolist() == _expected_top_reasons(site, reasons, n_sites)


def test_top_reasons_of_no_flagged_link_or_only_empty_phrases_are_empty():
    empty = np.zeros(0, dtype=np.int32)
    assert _top_reasons(empty, empty, np.array([], dtype=object), 2).tolist() == ["", ""]
    one = np.zeros(1, dtype=np.int32)
    assert _top_reasons(one, one, np.array(["; "], dtype=object), 2).tolist() == ["", ""]


@pytest.mark.parametrize("tenths", [True, False])
def test_toxicity_ranked_by_site_is_the_same_with_or_without_the_integer_key(tenths):
    rng = np.random.default_rng(7)
    site = rng.integers(0, 50, 5_000).astype(np.int32)
    toxicity = rng.integers(0, 1001, 5_000) / 10.0 if tenths else rng.random(5_000) * 100
    expected = toxicity[np.lexsort((toxicity, site))]
    np.testing.assert_array_equal(_by_site(site, toxicity, 50), expected)


def _chunk(rng: random.Random, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Canonical links and their scores, just the columns the site table reads."""
    verdicts = [rng.choice(["toxic", "toxic", "suspicious", "ok", "unknown"]) for _ in range(n)]
    sites = [rng.choice(SITES) for _ in range(n)]
    links = pd.DataFrame({
        "source_site": sites, "source_host": sites,
        "source_url": [f"http://{s}/page-{rng.randrange(5)}" for s in sites],
        "target_site": "example.com", "anchor": [rng.choice(["buy now", "example", ""]) for _ in range(n)],
    })
    scored = pd.DataFrame({
        "toxicity": [rng.randint(0, 1000) / 10 for _ in range(n)], "verdict": verdicts,
        "reasons": [_reason(rng) if v != "ok" else "" for v in verdicts],
        "anchor_class": [rng.choice(["brand", "exact-match commercial", "unknown"]) for _ in range(n)],
        "placement": [rng.choice(["in content", "footer", "unknown"]) for _ in range(n)],
    })
    return links, scored


@pytest.mark.parametrize("seed", range(5))
def test_a_streamed_audits_site_table_and_recommendation_match_the_in_memory_ones(seed):
    rng = random.Random(seed)
    chunks = [_chunk(rng, rng.randint(1, 60)) for _ in range(3)]
    links = pd.concat([c[0] for c in chunks], ignore_index=True)
    scored = pd.concat([c[1] for c in chunks], ignore_index=True)
    allow = rng.choice([[], ["d.net"]])
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spill:
        acc = Accumulator(spill)
        start = 0
        for i, (chunk_links, chunk_scored) in enumerate(chunks):
            acc.add(chunk_links, chunk_scored, start)
            start += len(chunk_links)
            if i == 0:  # asked early: cached columns must follow the parts added later
                acc.site_table(allow)
        domains = acc.site_table(allow)
        pd.testing.assert_frame_equal(domains, domain_table(links, scored, allow))
        rec, expected = acc.recommendation(domains), recommendation(links, scored, domains)
        assert (rec.domains, rec.urls) == (expected.domains, expected.urls)
        assert len(acc.toxicity()) == len(links)
