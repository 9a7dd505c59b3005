"""profile__ features: how a referring site links to the target, and link velocity."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def compute(keys: pd.DataFrame) -> dict[str, np.ndarray]:
    """Aggregates per (referring site, target site) and per target site, from the batch keys."""
    pair = keys.groupby(["site", "target"], sort=False)
    by_site = keys.groupby("site", sort=False)
    return {
        "profile__site_links_log": np.log10(pair["page"].transform("size").to_numpy(dtype=float)),
        "profile__site_pages_log": np.log10(pair["page"].transform("nunique").to_numpy(dtype=float)),
        "profile__site_targets": by_site["target"].transform("nunique").to_numpy(dtype=float),
        "profile__site_money_share": by_site["money_any"].transform("mean").to_numpy(dtype=float),
        "profile__site_sitewide_share": by_site["repeated"].transform("mean").to_numpy(dtype=float),
        "profile__velocity_ratio": _velocity(keys),
        "profile__target_sites_log": np.log10(
            keys.groupby("target", sort=False)["site"].transform("nunique").to_numpy(dtype=float)),
    }


def repeated(links: pd.DataFrame) -> np.ndarray:
    """1 for sitewide or grouped links, 0 for single ones, NaN when the export does not say."""
    sitewide = links["sitewide"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    group_size = links["links_in_group"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(sitewide), np.where(np.isnan(group_size), np.nan, (group_size > 1).astype(float)),
                    sitewide)


def weeks(links: pd.DataFrame) -> np.ndarray:
    """Week number of each link's first-seen date (ISO-like, from Monday); -1 when unknown."""
    first = links["first_seen"]
    days = first.to_numpy(dtype="datetime64[D]").astype("int64")
    return np.where(first.isna().to_numpy(), -1, (days + 3) // 7)


def _velocity(keys: pd.DataFrame) -> np.ndarray:
    """Burst ratio of the week each referring site first appeared for its target."""
    pairs = keys[["target", "site", "week"]]
    if not (pairs["week"] >= 0).any():
        return np.full(len(keys), np.nan)
    firsts = pairs[pairs["week"] >= 0].groupby(["target", "site"], sort=False)["week"].min().reset_index()
    counts = firsts.groupby(["target", "week"]).size()
    target = counts.index.get_level_values(0).to_numpy()
    week = counts.index.get_level_values(1).to_numpy(np.int64)
    values = counts.to_numpy(float)
    # New referring sites in each of the 8 weeks before (0 where none), then their median.
    # Rows are sorted by (target, week), so a target's earlier weeks are found by binary search.
    target_code = np.unique(target, return_inverse=True)[1].astype(np.int64)
    key = target_code * 10_000_000 + week
    prior = np.zeros((len(key), 8))
    for lag in range(1, 9):
        pos = np.searchsorted(key, key - lag)
        found = (pos < len(key)) & (key[np.minimum(pos, len(key) - 1)] == key - lag)
        prior[:, lag - 1] = np.where(found, values[np.minimum(pos, len(key) - 1)], 0.0)
    ratio = pd.DataFrame({"target": target, "week": week,
                          "ratio": values / np.maximum(np.median(prior, axis=1), 1.0)})
    firsts = firsts.merge(ratio, on=["target", "week"], how="left")
    joined = pairs[["target", "site"]].merge(firsts[["target", "site", "ratio"]], on=["target", "site"], how="left")
    return joined["ratio"].to_numpy(dtype=float)
