"""``toxiclinks audit --fetch``: thin rows filled from their referring pages, and dead links found.

A Search Console or Bing row, or a plain list of URLs, carries little more than the linking page's
URL. With ``--fetch`` the audit fetches those pages (``--fetch all``: every page, to check every
link is still there) and fills each canonical field the export left empty from the page: anchor,
context, rel flags, region, title, language, outbound links. Values the export gave are kept.
Each row records the fields its page filled (``filled_from``) and the fetch outcome; a link that
is gone (removed, or its page 404/410) needs no disavowing and gets the verdict ``gone``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..fetch import FILLED_FIELDS, FetchOptions, FetchProgress
from ..urls import URLError, normalize_host, site_entry

#: Export formats whose rows are thin: the page must be read to judge the link.
THIN_FORMATS = frozenset({"gsc_latest", "gsc_sample", "gsc_sites", "bing", "bing_domains", "url_list"})
#: Export formats whose rows name linking sites, not linking pages.
SITE_FORMATS = frozenset({"gsc_sites", "bing_domains"})
#: Outcomes that mean the link no longer exists.
GONE = frozenset({"gone", "page_gone"})
#: Columns a fetching audit adds to links.csv.
FETCH_COLUMNS = ("fetch_outcome", "filled_from")
#: Fields filled from the page (the URL the link points to among them: Search Console never names
#: it, and the anchor's classes and the target's topic are read against it), but ``linked_domains``,
#: which exports give for the whole referring site (Ahrefs: thousands), not the one page a fetch
#: reads (tens).
FILLED = tuple(f for f in FILLED_FIELDS if f != "linked_domains")


@dataclass
class PageFetcher:
    """Fills chunks of the link table from their referring pages, and counts what it found."""

    mode: str  # "missing" (thin rows only) or "all"
    site: str | None
    cache: Path
    options: FetchOptions
    progress: Callable[[str], None] = lambda text: None
    outcomes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # why pages were not read (failed, blocked, …)
    pages_filled: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("missing", "all"):
            raise InputError(f"--fetch must be 'missing' or 'all', not {self.mode!r}")

    def fill(self, chunk: pd.DataFrame, *, first_pass: bool = True) -> None:
        """Fetch the pages of ``chunk``'s rows that need it and fill what the export lacked, in place.

        A streamed audit reads its exports twice; on the second pass (``first_pass`` false) the
        pages come from the cache whatever their age, so both passes see the same pages, and
        nothing is counted again."""
        if self.site:
            name_site(chunk, self.site)
        chunk["fetch_outcome"] = pd.array([pd.NA] * len(chunk), dtype="string")
        chunk["filled_from"] = pd.array([""] * len(chunk), dtype="string")
        wanted = self._wanted(chunk)
        if not wanted.any():
            return
        rows = chunk.index[wanted]
        untargeted = chunk.loc[rows, ["target_url", "target_site", "target_host"]].isna().all(axis=1)
        if untargeted.any():
            where = chunk.loc[untargeted.idxmax(), "source_file"]
            raise InputError("--fetch cannot tell which site's links to look for: the export does not name "
                             "the linked site (Search Console exports never do); give it with --site DOMAIN",
                             path=None if pd.isna(where) else str(where))
        options = self.options if first_pass else dataclasses.replace(
            self.options, refetch_after_days=math.inf, retry_failed_after_days=math.inf)
        from ..fetch import fetch_table  # the fetching stack is imported by audits that fetch

        found = fetch_table(chunk.loc[rows], cache=self.cache, options=options,
                            progress=self._progress if first_pass else None)
        filled = pd.Series("", index=rows, dtype=object)
        for name in FILLED:
            gap = chunk.loc[rows, name].isna() & found[name].notna()
            if gap.any():
                chunk.loc[gap[gap].index, name] = found.loc[gap, name]
                filled[gap] += name + ","
        chunk.loc[rows, "fetch_outcome"] = found["fetch_outcome"]
        chunk.loc[rows, "filled_from"] = filled.str.rstrip(",").astype("string")
        if first_pass:
            self.outcomes.update(found["fetch_outcome"].fillna("failed"))
            unread = found["fetch_outcome"].isin(("failed", "blocked", "redirected")).fillna(False)
            reasons = found["fetch_reason"].where(found["fetch_outcome"] != "redirected", "redirected to another site")
            self.reasons.update(reasons[unread].dropna())
            self.pages_filled += int((filled != "").sum())

    def _wanted(self, chunk: pd.DataFrame) -> np.ndarray:
        """Rows whose page is fetched: every row with ``--fetch all``, else the thin ones; never a
        row that names a site rather than a page (its home page need not hold the link, and a link
        not found there is not gone)."""
        has_page = chunk["source_url"].notna().to_numpy() & ~names_a_site(chunk)
        if self.mode == "all":
            return has_page
        thin = chunk["source_tool"].isin(THIN_FORMATS).fillna(False).to_numpy(bool)
        return has_page & (thin | chunk["anchor"].isna().to_numpy())

    def _progress(self, p: FetchProgress) -> None:
        counts = " · ".join(f"{k} {n:,}" for k, n in sorted(p.by_outcome.items()))
        self.progress(f"fetching pages: {p.done:,}/{p.total:,} ({counts})")

    def summary(self) -> str:
        """One line of what the pages told."""
        total = sum(self.outcomes.values())
        counts = ", ".join(f"{k} {n:,}" for k, n in self.outcomes.most_common())
        why = "; ".join(f"{reason} ({n:,})" for reason, n in self.reasons.most_common(5))
        more = len(self.reasons) - 5
        return (f"fetched the pages of {total:,} links ({counts}); {self.pages_filled:,} rows filled from their "
                f"page; gone links (removed, or page 404/410) have the verdict 'gone' and are not disavowed"
                + (f"; pages not read: {why}" + (f"; and {more:,} other reasons" if more > 0 else "") if why else ""))


def name_site(chunk: pd.DataFrame, site: str) -> None:
    """Rows without a target (Search Console never names its property) link to ``site``."""
    missing = chunk["target_site"].isna()
    if missing.any():
        chunk.loc[missing, "target_site"] = site
        chunk.loc[missing & chunk["target_host"].isna(), "target_host"] = site


def audited_site(text: str | None) -> str | None:
    """``--site``: the audited site's domain, normalised; an InputError when it names none."""
    if not text:
        return None
    try:
        return normalize_host(site_entry(text.strip())).removeprefix("www.")
    except URLError:
        raise InputError(f"--site {text!r} names no domain (give the audited site, e.g. example.com)") from None


def names_a_site(links: pd.DataFrame) -> np.ndarray:
    """Rows whose source is a site, not a page: the rows of site-level exports (Search Console's
    Top linking sites, Bing's referring domains) and the domain lines of a URL list (read as the
    site's root URL, as is a root URL listed)."""
    site_rows = links["source_tool"].isin(SITE_FORMATS).fillna(False).to_numpy(bool)
    listed = links["source_tool"].eq("url_list").fillna(False).to_numpy(bool)
    if listed.any():
        root = links["source_url"].str.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+/?").fillna(False)
        site_rows = site_rows | (listed & root.to_numpy(bool))
    return site_rows


def mark_gone(links: pd.DataFrame, verdict: np.ndarray, denied: np.ndarray | None = None) -> np.ndarray:
    """``verdict`` with ``gone`` where the fetch found the link removed or its page gone; links of
    denylisted sites (``denied``) stay toxic: the user's rule wins, as it does over the model."""
    if "fetch_outcome" not in links:
        return verdict
    gone = links["fetch_outcome"].isin(GONE).fillna(False).to_numpy(bool)
    if denied is not None:
        gone = gone & ~denied
    return np.where(gone, "gone", verdict) if gone.any() else verdict
