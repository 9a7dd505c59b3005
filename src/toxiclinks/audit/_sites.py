"""Site decisions: one row per referring site with its counts, toxicity, reasons and action, and
what to disavow (whole sites whose action says so, else the toxic URLs of mixed sites)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..model import VERDICTS
from ..reading import referring_site
from ..urls import platforms, site_entries, under_sites
from ._merge import Recommendation


def domain_table(links: pd.DataFrame, scored: pd.DataFrame, allow: list[str]) -> pd.DataFrame:
    """One row per referring site: counts, worst/typical toxicity, reasons and the action."""
    site_code, sites = pd.factorize(referring_site(links))
    reasons = scored["reasons"].to_numpy(object)
    flagged = np.flatnonzero(reasons != "")
    reason_code, reason_names = pd.factorize(reasons[flagged])
    return site_table(np.asarray(sites, dtype=object), site_code, scored["toxicity"].to_numpy(float),
                      pd.Categorical(scored["verdict"], categories=VERDICTS).codes, flagged, reason_code,
                      np.asarray(reason_names, dtype=object), allow)


def site_table(sites: np.ndarray, site_code: np.ndarray, toxicity: np.ndarray, verdict: np.ndarray,
               flagged: np.ndarray, reason_code: np.ndarray, reason_names: np.ndarray,
               allow: list[str]) -> pd.DataFrame:
    """:func:`domain_table` from per-link codes (what a streamed audit keeps): ``site_code`` and
    ``verdict`` (index into :data:`VERDICTS`) per link, and the reason of each ``flagged`` link."""
    n_sites = len(sites)
    if len(site_code) == 0:
        return pd.DataFrame(columns=["source_site", "links", "toxic", "suspicious", "unknown",
                                     "worst_toxicity", "typical_toxicity", "reasons", "action"])

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(site_code[mask], minlength=n_sites)

    links = np.bincount(site_code, minlength=n_sites)
    starts = np.concatenate([[0], np.cumsum(links)[:-1]])
    ranked = _by_site(site_code, toxicity, n_sites)
    lower, upper = ranked[starts + (links - 1) // 2], ranked[starts + links // 2]
    toxic = count(verdict == VERDICTS.index("toxic"))
    suspicious = count(verdict == VERDICTS.index("suspicious"))
    unknown = count(verdict == VERDICTS.index("unknown"))
    table = pd.DataFrame({
        "source_site": sites, "links": links, "toxic": toxic, "suspicious": suspicious, "unknown": unknown,
        "worst_toxicity": ranked[starts + links - 1], "typical_toxicity": (lower + upper) / 2,
        "reasons": _top_reasons(site_code[flagged], reason_code, reason_names, n_sites),
    })
    action = np.full(n_sites, "keep", dtype=object)
    action[(suspicious > 0) | (unknown == links)] = "review"
    action[toxic > 0] = "disavow these URLs"
    # Only sites with most links toxic can be disavowed whole: split just those into platforms, and
    # an IPv6 address has no domain a line can name.
    whole = np.flatnonzero(toxic / links >= 0.5)
    candidates = sites[whole]
    ipv6 = np.array([str(s).startswith("[") for s in candidates], dtype=bool)
    action[whole[~platforms(candidates) & ~ipv6]] = "disavow domain"
    allowed = site_entries(allow)
    if allowed:  # most audits have no allowlist: no call per site then
        action[[under_sites(s, allowed) for s in sites]] = "keep (allowlisted)"
    table["action"] = action
    return table.sort_values(["worst_toxicity", "links"], ascending=False).reset_index(drop=True)


def _by_site(site_code: np.ndarray, toxicity: np.ndarray, n_sites: int) -> np.ndarray:
    """``toxicity`` sorted by site code, then by value (each site's links a sorted run)."""
    # Scores are whole tenths (a streamed audit keeps tenths): then one integer key sorts about
    # twice as fast as a lexsort and gives the same values (equal keys are equal scores).
    tenths = np.rint(toxicity * 10)
    width = int(tenths.max()) + 1 if len(tenths) and np.isfinite(tenths).all() else 0
    exact = width > 0 and n_sites * width < 2**62 and not np.signbit(tenths).any()
    if exact and np.array_equal(tenths / 10, toxicity):
        key = np.sort(site_code.astype(np.int64) * width + tenths.astype(np.int64))
        return (key % width) / 10
    return toxicity[np.lexsort((toxicity, site_code))]


def recommendation(links: pd.DataFrame, scored: pd.DataFrame, domains: pd.DataFrame) -> Recommendation:
    """What to disavow: whole sites whose action says so, else the toxic URLs of mixed sites."""
    toxic = np.flatnonzero(scored["verdict"].to_numpy(object) == "toxic")
    return recommend(domains, referring_site(links)[toxic], links["source_url"].to_numpy(object)[toxic],
                     scored["toxicity"].to_numpy(float)[toxic], scored["reasons"].to_numpy(object)[toxic])


def url_sites_of(domains: pd.DataFrame) -> set[str]:
    """Sites whose toxic URLs (not the whole site) are to be disavowed."""
    return set(domains.loc[domains["action"] == "disavow these URLs", "source_site"])


def recommend(domains: pd.DataFrame, sites: np.ndarray, urls: np.ndarray, toxicity: np.ndarray,
              reasons: np.ndarray) -> Recommendation:
    """:func:`recommendation` from the site table and the toxic links' sites, URLs, toxicity and reasons."""
    rec = Recommendation()
    whole = domains[domains["action"] == "disavow domain"]
    columns = (whole[c].tolist() for c in ("source_site", "toxic", "links", "worst_toxicity", "reasons"))
    for site, toxic, links, worst, why in zip(*columns, strict=True):
        rec.domains[site] = f"{site}: {toxic}/{links} links toxic, worst {worst:.0f}: {why}"
    url_sites = url_sites_of(domains)
    keep = np.array([s in url_sites for s in sites], dtype=bool)
    for url, tox, why in zip(urls[keep].tolist(), toxicity[keep].tolist(), reasons[keep].tolist(), strict=True):
        rec.urls.setdefault(url, f"toxicity {tox:.0f}: {why}")
    return rec


def _top_reasons(site: np.ndarray, reason: np.ndarray, names: np.ndarray, n_sites: int) -> np.ndarray:
    """Per site, the three most frequent reason phrases among its flagged links (ties: first seen).

    ``site`` and ``reason`` are codes of the flagged links in link order. Each distinct reason is
    split into phrases once; every distinct (site, reason), in order of first appearance, then
    gives one row per phrase, weighted by how many links it stands for, counted per (site, phrase).
    """
    out = np.full(n_sites, "", dtype=object)
    if len(site) == 0:
        return out
    # Distinct (site, reason) pairs first: a site's links often share reasons, and the rows below
    # are per pair, not per link (10.7M links would otherwise make tens of millions of rows).
    pairs_of, first_at, weight = np.unique(site.astype(np.int64) * len(names) + reason,
                                           return_index=True, return_counts=True)
    seen = np.argsort(first_at)  # the same order of first appearance as the links themselves
    site, reason, weight = pairs_of[seen] // len(names), pairs_of[seen] % len(names), weight[seen]
    split = pc.split_pattern(pa.array(names, type=pa.string()), "; ")
    flat = pc.list_flatten(split)
    encoded = flat.dictionary_encode()
    nonempty = pc.greater(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False)  # "a; ; b" has two
    phrase = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)[nonempty]
    # Reason r's non-empty phrases are phrase[first[r]:first[r] + many[r]], in the reason's order.
    before = np.concatenate([[0], np.cumsum(nonempty)])
    offsets = split.offsets.to_numpy(zero_copy_only=False)
    first, many = before[offsets[:-1]], np.diff(before[offsets])
    n = many[reason]
    row_start = np.cumsum(n) - n
    at = np.repeat(first[reason] - row_start, n) + np.arange(n.sum())
    width = len(encoded.dictionary)
    key = np.repeat(site, n) * width + phrase[at]
    # Rows are in order of first appearance, then phrase order, so numbering the (site, phrase)
    # pairs in order of appearance numbers each site's phrases in the order they were first seen.
    pair, pairs = pd.factorize(key)
    if len(pairs) == 0:  # only empty phrases
        return out
    count = np.bincount(pair, weights=np.repeat(weight, n)).astype(np.int64)
    pair_site, pair_phrase = pairs // width, pairs % width
    order = _rank_order(pair_site, count, n_sites)  # by site, most frequent first, then first seen
    pair_site, pair_phrase = pair_site[order], pair_phrase[order]
    new_site = np.concatenate([[True], pair_site[1:] != pair_site[:-1]])
    group = np.cumsum(new_site) - 1
    rank = np.arange(len(pair_site)) - np.flatnonzero(new_site)[group]
    top = []  # each site's first, second and third phrase (null where it has fewer)
    for k in range(3):
        codes = np.full(int(group[-1]) + 1, -1, dtype=np.int64)
        codes[group[rank == k]] = pair_phrase[rank == k]
        top.append(encoded.dictionary.take(pa.array(codes, mask=codes < 0)))
    joined = pc.binary_join_element_wise(*top, "; ", null_handling="skip")
    out[pair_site[new_site]] = joined.to_numpy(zero_copy_only=False)
    return out


def _rank_order(site: np.ndarray, count: np.ndarray, n_sites: int) -> np.ndarray:
    """Positions ordered by site, then count (highest first), then position."""
    n, most = len(site), int(count.max()) + 1
    if n_sites * most * n < 2**63:  # one integer key sorts faster than a three-key lexsort
        key = (site * most + (most - 1 - count)) * n + np.arange(n)
        return np.sort(key) % n
    return np.lexsort((np.arange(n), -count, site))
