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
    frame = pd.DataFrame({
        "site": links["source_site"].fillna("").to_numpy(object),
        "target": links["target_site"].fillna("").to_numpy(object),
        "page": links["source_url"].fillna("").to_numpy(object),
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
    week = (first.dt.tz_localize(None) if first.dt.tz is not None else first).dt.to_period("W")
    frame = frame.assign(week=week)
    firsts = frame.dropna(subset=["week"]).groupby(["target", "site"], sort=False)["week"].min()
    ratios: dict[tuple[str, str], float] = {}
    for target, weeks in firsts.groupby(level=0, sort=False):
        counts = weeks.value_counts()
        ordinals = {w: w.ordinal for w in counts.index}
        series = pd.Series(counts.values, index=[ordinals[w] for w in counts.index]).sort_index()
        full = series.reindex(range(series.index.min() - 8, series.index.max() + 1), fill_value=0)
        prior = full.rolling(8, min_periods=8).median().shift(1)
        ratio = full / prior.clip(lower=1)
        for (_, site), w in weeks.items():
            ratios[(target, site)] = float(ratio.get(w.ordinal, np.nan))
    lookup = pd.Series(ratios, dtype=float)
    lookup.index = lookup.index.set_names(["target", "site"])
    joined = frame[["target", "site"]].join(lookup.rename("ratio"), on=["target", "site"])
    return joined["ratio"].to_numpy(dtype=float)
