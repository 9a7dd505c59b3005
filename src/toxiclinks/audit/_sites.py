"""Site decisions: one row per referring site with its counts, toxicity, reasons and action, and
what to disavow (whole sites whose action says so, else the toxic URLs of mixed sites)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    order = np.lexsort((toxicity, site_code))  # by site, then toxicity
    starts = np.concatenate([[0], np.cumsum(links)[:-1]])
    ranked = toxicity[order]
    lower, upper = ranked[starts + (links - 1) // 2], ranked[starts + links // 2]
    table = pd.DataFrame({
        "source_site": sites, "links": links,
        "toxic": count(verdict == VERDICTS.index("toxic")),
        "suspicious": count(verdict == VERDICTS.index("suspicious")),
        "unknown": count(verdict == VERDICTS.index("unknown")),
        "worst_toxicity": ranked[starts + links - 1], "typical_toxicity": (lower + upper) / 2,
        "reasons": _top_reasons(site_code[flagged], reason_code, reason_names, n_sites),
    })
    allowed = site_entries(allow)
    action = np.full(n_sites, "keep", dtype=object)
    share = table["toxic"] / table["links"]
    action[(table["suspicious"] > 0) | (table["unknown"] == table["links"])] = "review"
    action[table["toxic"] > 0] = "disavow these URLs"
    platform = platforms(sites)
    ipv6 = np.array([str(s).startswith("[") for s in sites], dtype=bool)  # no domain: line can name one
    action[(share >= 0.5).to_numpy() & ~platform & ~ipv6] = "disavow domain"
    action[[under_sites(s, allowed) for s in sites]] = "keep (allowlisted)"
    table["action"] = action
    return table.sort_values(["worst_toxicity", "links"], ascending=False).reset_index(drop=True)


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
    for r in domains[domains["action"] == "disavow domain"].itertuples():
        rec.domains[r.source_site] = (f"{r.source_site}: {r.toxic}/{r.links} links toxic, "
                                      f"worst {r.worst_toxicity:.0f}: {r.reasons}")
    url_sites = url_sites_of(domains)
    keep = np.array([s in url_sites for s in sites], dtype=bool)
    for url, tox, why in zip(urls[keep], toxicity[keep], reasons[keep], strict=True):
        rec.urls.setdefault(url, f"toxicity {tox:.0f}: {why}")
    return rec


def _top_reasons(site: np.ndarray, reason: np.ndarray, names: np.ndarray, n_sites: int) -> np.ndarray:
    """Per site, the three most frequent reason phrases among its flagged links (ties: first seen).

    ``site`` and ``reason`` are codes of the flagged links in link order; each distinct
    (site, reason) pair is expanded into phrases once, weighted by how often it occurs.
    """
    out = np.full(n_sites, "", dtype=object)
    if len(site) == 0:
        return out
    pair = site.astype(np.int64) * (len(names) + 1) + reason
    uniq, first, counts = np.unique(pair, return_index=True, return_counts=True)
    order = np.lexsort((first, uniq // (len(names) + 1)))  # by site, then first appearance
    pair_site, pair_reason = (uniq // (len(names) + 1))[order], (uniq % (len(names) + 1))[order]
    phrases: dict[str, int] = {}
    current = -1
    for s, r, c in zip(pair_site.tolist(), pair_reason.tolist(), counts[order].tolist(), strict=True):
        if s != current:
            if current >= 0:
                out[current] = "; ".join(sorted(phrases, key=phrases.get, reverse=True)[:3])
            phrases, current = {}, s
        for phrase in str(names[r]).split("; "):
            if phrase:
                phrases[phrase] = phrases.get(phrase, 0) + c
    out[current] = "; ".join(sorted(phrases, key=phrases.get, reverse=True)[:3])
    return out
