"""profile__ features: how a referring site links to the target, and link velocity."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._groups import group_mean, group_nunique, group_of

FEATURES: dict[str, str] = {
    "profile__site_links_log": "log10 links from this referring site to this target site",
    "profile__site_pages_log": "log10 distinct pages of this referring site linking to the target",
    "profile__site_targets": "distinct target sites this referring site links to in the batch",
    "profile__site_money_share": "share of this referring site's links that use money anchors",
    "profile__site_sitewide_share": "share of this referring site's links that are sitewide or grouped",
    "profile__velocity_ratio": "new referring sites in the week this site appeared, over the "
                               "median of the 8 weeks before (link burst)",
    "profile__target_sites_log": "log10 referring sites of the target in the batch",
}


def compute(keys: dict[str, np.ndarray], codes: dict[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    """Aggregates per referring site, (site, target) pair and target, one value per group, from the
    batch keys and group numbers (see :mod:`._context`)."""
    site, target, pair = codes["site"], codes["target"], codes["pair"]
    return {
        "profile__site_links_log": ("pair", np.log10(np.bincount(pair))),
        "profile__site_pages_log": ("pair", np.log10(group_nunique(pair, keys["page"]))),
        "profile__site_targets": ("site", group_nunique(site, target)),
        "profile__site_money_share": ("site", group_mean(site, keys["money_any"].astype(float))),
        "profile__site_sitewide_share": ("site", group_mean(site, keys["repeated"].astype(float))),
        "profile__velocity_ratio": ("pair", _velocity(target, pair, keys["week"])),
        "profile__target_sites_log": ("target", np.log10(group_nunique(target, site))),
    }


def repeated(links: pd.DataFrame) -> np.ndarray:
    """1 for sitewide or grouped links, 0 for single ones, NaN when the export does not say."""
    sitewide = links["sitewide"].to_numpy(dtype=np.float64, na_value=np.nan)
    group_size = links["links_in_group"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(sitewide), np.where(np.isnan(group_size), np.nan, (group_size > 1).astype(float)),
                    sitewide)


def weeks(links: pd.DataFrame) -> np.ndarray:
    """Week number of each link's first-seen date (ISO-like, from Monday); -1 when unknown."""
    first = links["first_seen"]
    days = first.to_numpy(dtype="datetime64[D]").astype("int64")
    return np.where(first.isna().to_numpy(), -1, (days + 3) // 7)


def _velocity(target: np.ndarray, pair: np.ndarray, week: np.ndarray) -> np.ndarray:
    """Per (site, target) pair: burst ratio of the week the site first appeared for its target.

    Each (target, site) pair's first week counts one new referring site for its target; the ratio
    is that week's count over the median count of the 8 weeks before (at least 1).
    """
    known = week >= 0
    if not known.any():
        return np.full(pair.max() + 1, np.nan)
    first = np.full(pair.max() + 1, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, pair[known], week[known])
    pair_target = group_of(pair, target).astype(np.int64)
    seen = first < np.iinfo(np.int64).max
    # New referring sites per (target, week), in (target, week) order for binary search.
    key = pair_target[seen] * 10_000_000 + first[seen]
    uniq, counts = np.unique(key, return_counts=True)
    prior = np.zeros((len(uniq), 8))
    for lag in range(1, 9):
        pos = np.searchsorted(uniq, uniq - lag)
        found = (pos < len(uniq)) & (uniq[np.minimum(pos, len(uniq) - 1)] == uniq - lag)
        prior[:, lag - 1] = np.where(found, counts[np.minimum(pos, len(uniq) - 1)], 0.0)
    ratio = counts / np.maximum(np.median(prior, axis=1), 1.0)
    pair_ratio = np.full(len(first), np.nan)
    pair_ratio[seen] = ratio[np.searchsorted(uniq, key)]
    return pair_ratio
