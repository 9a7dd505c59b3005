"""Fetch referring pages and read the link to the target site on each (opt-in; issue #25).

For exports too thin to judge (a URL list, Search Console links) the referring pages themselves
tell what the tools left out: whether the link is still there, its anchor text and context, its
rel flags, the region of the page that holds it, and the page's title, language and outbound
links. Pages are fetched politely (robots.txt honoured, one request at a time per host with a
delay, an honest User-Agent) and safely (size caps, gzip bombs stopped, redirects followed by hand
and checked hop by hop, private addresses refused); a page is data, never executed.

    from toxiclinks.fetch import FetchOptions, fetch_links, fetch_table

    results = fetch_links([("https://blog.example.org/post", "mysite.com")],
                          cache=home / "fetch-cache.sqlite", options=FetchOptions())
    results["https://blog.example.org/post"].outcome_for("mysite.com")   # "live", "gone", …

    columns = fetch_table(links, cache=home / "fetch-cache.sqlite")  # canonical columns + fetch_outcome

Outcomes per (page, target): live, gone (page fine, no link to the target), page_gone (404/410),
redirected (to another site), blocked (robots.txt), failed (timeouts, 5xx, too big, not HTML,
redirect loop, DNS, private address, …; ``reason`` says which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._html import LinkFacts, link_regions
from ._options import (
    EXTRA_COLUMNS,
    FILLED_FIELDS,
    OUTCOMES,
    PAGE_OUTCOMES,
    USER_AGENT,
    FetchError,
    FetchOptions,
    FetchProgress,
    Outcome,
    PageOutcome,
    PageResult,
)

if TYPE_CHECKING:
    from ._crawl import LinkQuery, ProgressCallback, afetch_links, fetch_links
    from ._table import fetch_table, to_columns

# The fetching itself (httpx, asyncio, the page cache) is imported when first named: every audit
# and command imports this face for its options, few fetch pages.
_LAZY = {"LinkQuery": "_crawl", "ProgressCallback": "_crawl", "afetch_links": "_crawl", "fetch_links": "_crawl",
         "fetch_table": "_table", "to_columns": "_table"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "EXTRA_COLUMNS",
    "FILLED_FIELDS",
    "OUTCOMES",
    "PAGE_OUTCOMES",
    "USER_AGENT",
    "FetchError",
    "FetchOptions",
    "FetchProgress",
    "LinkFacts",
    "LinkQuery",
    "Outcome",
    "PageOutcome",
    "PageResult",
    "ProgressCallback",
    "afetch_links",
    "fetch_links",
    "fetch_table",
    "link_regions",
    "to_columns",
]
