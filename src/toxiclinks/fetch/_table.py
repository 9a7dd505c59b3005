"""Fetch results as canonical link-table columns, one row per (referring page, target) pair."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..urls import URLError, normalize_url
from ._crawl import LinkQuery, ProgressCallback, as_query, fetch_links
from ._options import (
    EXTRA_COLUMNS,
    FILLED_FIELDS,
    LINK_FIELDS,
    PAGE_FIELDS,
    FetchOptions,
    PageResult,
)

_DTYPES = {"str": "string", "bool": "boolean", "float": "Float64"}


def to_columns(results: dict[str, PageResult], pairs: Iterable[LinkQuery | tuple[str, ...]]) -> dict[str, list[Any]]:
    """Columns (lists in ``pairs`` order) of every field in :data:`FILLED_FIELDS` and
    :data:`EXTRA_COLUMNS`; None where the page did not tell. ``filled_from`` holds, per row, the
    tuple of canonical fields whose value came from the fetched page."""
    columns: dict[str, list[Any]] = {name: [] for name in (*FILLED_FIELDS, *EXTRA_COLUMNS)}
    for pair in pairs:
        query = as_query(pair)
        row = _row(results.get(query.source_url), query)
        for name, values in columns.items():
            values.append(row.get(name))
    return columns


def _row(page: PageResult | None, query: LinkQuery) -> dict[str, Any]:
    """One pair's values; absent keys are unknown."""
    if page is None:
        return {"fetch_outcome": None, "filled_from": ()}
    row: dict[str, Any] = {"fetch_outcome": page.outcome_for(query.key), "fetch_reason": page.reason}
    if page.http_code is not None:
        row["http_code"] = float(page.http_code)
    if page.outcome == "ok":
        row.update(source_title=page.title or None, language=page.language or None, noindex=page.noindex,
                   external_links=page.external_links, internal_links=page.internal_links,
                   linked_domains=page.linked_domains)
        link = page.link(query.key)
        if link is not None:
            row.update(target_url=_normalized(link.href), anchor=link.anchor or None,
                       left_context=link.left_context or None, right_context=link.right_context or None,
                       nofollow=link.nofollow, ugc=link.ugc, sponsored=link.sponsored,
                       link_type=link.link_type, region=link.region, in_content=link.region == "body")
    row["filled_from"] = tuple(f for f in FILLED_FIELDS if row.get(f) is not None)
    return row


def fetch_table(links: pd.DataFrame, *, cache: Path | str | None = None, options: FetchOptions | None = None,
                progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Fetch the referring pages of a canonical link table; a frame on ``links.index``.

    Reads ``source_url``, ``target_url`` (optional; an exact match is preferred) and
    ``target_site`` (else ``target_host``, else the target URL's host). The result has the
    columns of :data:`FILLED_FIELDS` in canonical dtypes (missing where the page did not tell)
    and :data:`EXTRA_COLUMNS`; ``filled_from`` lists the fields each row got from its page,
    comma-separated. Each page is fetched once, however many of its links are asked about.
    """
    queries = _queries(links)
    results = fetch_links([q for q in queries if isinstance(q, LinkQuery)], cache=cache, options=options,
                          progress=progress)
    rows = [_row(results.get(q.source_url), q) if isinstance(q, LinkQuery)
            else {"fetch_outcome": "failed", "fetch_reason": q, "filled_from": ()}
            for q in queries]
    out: dict[str, pd.api.extensions.ExtensionArray] = {}
    kinds = {**LINK_FIELDS, **PAGE_FIELDS, **EXTRA_COLUMNS}
    for name in (*FILLED_FIELDS, *EXTRA_COLUMNS):
        values = [row.get(name) for row in rows]
        if name == "filled_from":
            values = [",".join(v) for v in values]
        out[name] = pd.array(values, dtype=_DTYPES[kinds[name]])
    return pd.DataFrame(out, index=links.index)


def _normalized(url: str) -> str | None:
    """A link's URL as the link table holds URLs (None when it names no web page)."""
    try:
        return normalize_url(url)
    except URLError:
        return None


def _queries(links: pd.DataFrame) -> list[LinkQuery | str]:
    """One query per row, or why the row cannot be one."""
    n = len(links)
    sources = _strings(links, "source_url", n)
    target_urls = _strings(links, "target_url", n)
    sites = _strings(links, "target_site", n)
    hosts = _strings(links, "target_host", n)
    queries: list[LinkQuery | str] = []
    for source, url, site, host in zip(sources, target_urls, sites, hosts, strict=True):
        if not source:
            queries.append("no source URL")
        elif site or host:
            queries.append(LinkQuery(source, str(site or host).lower().removeprefix("www."), url or None))
        elif url:
            queries.append(as_query((source, url)))
        else:
            queries.append("no target URL or site")
    return queries


def _strings(links: pd.DataFrame, name: str, n: int) -> Sequence[str | None]:
    """A column as Python strings (None for missing), or all None when there is no such column."""
    if name not in links.columns:
        return [None] * n
    return [v if isinstance(v, str) else None for v in links[name].astype(object).tolist()]
