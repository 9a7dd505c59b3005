"""Export views: a profile as each export tool shows it (the canonical fields that tool carries).

Training shows target profiles through these views (``view_mix``), so the model also learns to
judge a Search Console row that carries only the source URL; the casebook is projected the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema

#: Canonical fields each export tool carries (what a profile looks like through that tool).
VIEWS: dict[str, tuple[str, ...]] = {
    "ahrefs": tuple(schema.COLUMNS),
    "semrush": ("source_url", "target_url", "anchor", "source_title", "authority_score",
                "external_links", "internal_links", "nofollow", "sponsored", "ugc", "link_type",
                "sitewide", "first_seen", "last_seen", "lost"),
    "majestic": ("source_url", "target_url", "anchor", "nofollow", "link_type", "first_seen",
                 "last_seen", "trust_flow", "citation_flow", "lost"),
    "moz": ("source_url", "target_url", "anchor", "source_title", "page_authority",
            "domain_authority", "source_referring_domains", "nofollow"),
    "gsc": ("source_url", "last_seen"),
    "bing": ("source_url", "target_url", "anchor"),
}
ALWAYS_KEPT = ("source_tool", "source_file", "source_row", "source_host", "source_site", "source_domain",
           "source_suffix", "source_platform", "target_host", "target_site")


def apply_views(links: pd.DataFrame, mix: dict[str, float], seed: int) -> pd.DataFrame:
    """Show each target's profile as one export tool would: blank the fields that tool lacks."""
    rng = np.random.default_rng(seed)
    names = list(mix)
    p = np.array([mix[n] for n in names], dtype=float)
    targets = links["target_site"].fillna("").unique()
    view_of = dict(zip(targets, rng.choice(names, size=len(targets), p=p / p.sum()), strict=True))
    view = links["target_site"].fillna("").map(view_of).to_numpy(dtype=object)
    out = links.copy()
    dr = out["domain_rating"].to_numpy(dtype=float, na_value=np.nan)
    traffic = out["domain_traffic"].to_numpy(dtype=float, na_value=np.nan)
    noise = rng.normal(0, 4, len(out))
    # Other tools' metrics, derived from the source's own traits only (never from the label).
    derived = {
        "authority_score": np.clip(dr * 0.9 + noise, 0, 100),
        "trust_flow": np.clip(dr * 0.35 + np.log10(traffic + 1) * 6 + noise, 0, 100),
        "citation_flow": np.clip(dr * 0.8 + rng.normal(0, 5, len(out)), 0, 100),
        "domain_authority": np.clip(dr * 0.85 + rng.normal(0, 6, len(out)), 0, 100),
        "page_authority": np.clip(out["url_rating"].to_numpy(dtype=float, na_value=np.nan) * 1.2 + 10, 0, 100),
    }
    for name, values in derived.items():
        col = out[name].to_numpy(dtype=float, na_value=np.nan)
        out[name] = pd.array(np.where(np.isnan(col), values, col), dtype="Float64")
    group = out["links_in_group"].to_numpy(dtype=float, na_value=np.nan)
    out["sitewide"] = pd.array(np.where(np.isnan(group), np.nan, group > 3), dtype="Float64").astype("boolean")
    for name in names:
        rows = view == name
        if not rows.any():
            continue
        keep = set(VIEWS[name]) | set(ALWAYS_KEPT)
        for column in schema.COLUMNS:
            if column not in keep:
                out.loc[rows, column] = pd.NA
    out["view"] = view
    return out
