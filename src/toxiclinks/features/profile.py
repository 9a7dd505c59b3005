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


def compute(links: pd.DataFrame, state, money_anchor: np.ndarray) -> dict[str, np.ndarray]:
    """Aggregates per (referring site, target site) and per target site."""
    sitewide = links["sitewide"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    group_size = links["links_in_group"].to_numpy(dtype=np.float64, na_value=np.nan)
    repeated = np.where(np.isnan(sitewide), np.where(np.isnan(group_size), np.nan, (group_size > 1).astype(float)), sitewide)
    # Integer codes: grouping on them is much faster than on strings.
    frame = pd.DataFrame({
        "site": pd.factorize(links["source_site"].fillna(""))[0],
        "target": pd.factorize(links["target_site"].fillna(""))[0],
        "page": pd.factorize(links["source_url"].fillna(""))[0],
        "money": money_anchor, "repeated": repeated,
    })
    pair = frame.groupby(["site", "target"], sort=False)
    by_site = frame.groupby("site", sort=False)
    out = {
        "profile__site_links_log": np.log10(pair["page"].transform("size").to_numpy(dtype=float)),
        "profile__site_pages_log": np.log10(pair["page"].transform("nunique").to_numpy(dtype=float)),
        "profile__site_targets": by_site["target"].transform("nunique").to_numpy(dtype=float),
        "profile__site_money_share": by_site["money"].transform("mean").to_numpy(dtype=float),
        "profile__site_sitewide_share": by_site["repeated"].transform("mean").to_numpy(dtype=float),
        "profile__velocity_ratio": _velocity(links, frame),
        "profile__target_sites_log": np.log10(
            frame.groupby("target", sort=False)["site"].transform("nunique").to_numpy(dtype=float)),
    }
    return out


def _velocity(links: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Burst ratio of the week each referring site first appeared for its target."""
    first = links["first_seen"]
    if first.isna().all():
        return np.full(len(links), np.nan)
    days = first.to_numpy(dtype="datetime64[D]").astype("int64")
    week = np.where(first.isna().to_numpy(), -1, (days + 3) // 7)  # ISO-like weeks from Monday
    pairs = pd.DataFrame({"target": frame["target"], "site": frame["site"], "week": week})
    firsts = pairs[pairs["week"] >= 0].groupby(["target", "site"], sort=False)["week"].min().reset_index()
    counts = firsts.groupby(["target", "week"]).size()
    target = counts.index.get_level_values(0).to_numpy(np.int64)
    week = counts.index.get_level_values(1).to_numpy(np.int64)
    key = target * 10_000_000 + week  # sorted, since groupby sorts by (target, week)
    values = counts.to_numpy(float)
    # New referring sites in each of the 8 weeks before (0 where none), then their median.
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
