"""Anchor over-optimisation alarms over the whole profile: anchors counted per target site chunk by
chunk, then the shares an auditor is warned about."""

from __future__ import annotations

import numpy as np
import pandas as pd

KEYWORD_CLASSES = ("exact-match commercial", "partial match", "compound")


def anchor_counts(links: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Links per (target site, normalised anchor, anchor class); chunks' counts add up."""
    cls = scored["anchor_class"].to_numpy(object)
    keyword = np.isin(cls, KEYWORD_CLASSES)
    # Only keyword anchors are quoted in alarms (normalised); the others count by class alone.
    anchor = np.full(len(cls), "", dtype=object)
    if keyword.any():
        anchor[keyword] = links["anchor"][keyword].fillna("").str.lower().str.strip().to_numpy(object)
    target = links["target_site"].fillna("").to_numpy(object)
    keep = np.flatnonzero((target != "") & (cls != "unknown"))
    target, anchor, cls = target[keep], anchor[keep], cls[keep]
    # Grouped by integer codes (a groupby over three text columns costs several times more); groups
    # are numbered in order of first appearance, as a groupby without sorting gives them.
    key = np.zeros(len(keep), dtype=np.int64)
    for values in (target, anchor, cls):
        codes, uniques = pd.factorize(values)
        key = key * max(len(uniques), 1) + codes
    group, _ = pd.factorize(key)
    _, first = np.unique(group, return_index=True)  # each group's first row
    return pd.DataFrame({"target": target[first], "anchor": anchor[first], "cls": cls[first],
                         "n": np.bincount(group, minlength=len(first))})


def anchor_alarms(counts: pd.DataFrame) -> list[str]:
    """Over-optimisation alarms: one keyword anchor ≥ 30% of ≥ 10 links; money anchors ≥ 20%."""
    counts = counts.groupby(["target", "anchor", "cls"], sort=False)["n"].sum().reset_index()
    totals = counts.groupby("target", sort=False)["n"].sum()  # targets in order of appearance
    keyword = counts[counts["cls"].isin(KEYWORD_CLASSES)].groupby(["target", "anchor"], sort=False)["n"].sum()
    # Per target, its most used keyword anchor (the first one seen on ties).
    top = keyword.reset_index().sort_values("n", ascending=False, kind="stable").drop_duplicates("target")
    top = top.set_index("target")
    exact = counts[counts["cls"] == "exact-match commercial"].groupby("target", sort=False)["n"].sum()
    alarms = []
    for target, total in totals[totals >= 10].items():
        if target in top.index and top.at[target, "n"] / total >= 0.3:
            anchor, n = top.at[target, "anchor"], top.at[target, "n"]
            alarms.append(f"{target}: the keyword anchor '{anchor}' is {n / total:.0%} "
                          f"of {total:,} links (natural profiles are led by brand and URL anchors)")
        exact_share = exact.get(target, 0) / total
        if exact_share >= 0.2:
            alarms.append(f"{target}: {exact_share:.0%} of anchors are exact-match commercial keywords")
        if len(alarms) >= 20:
            break
    return alarms[:20]
