"""Settings, outcomes, results and the error of the page fetcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

from ..errors import InputError
from ._html import LinkFacts

#: What became of one (referring page, target) pair.
Outcome = Literal["live", "gone", "page_gone", "redirected", "blocked", "failed"]
OUTCOMES: tuple[str, ...] = ("live", "gone", "page_gone", "redirected", "blocked", "failed")
#: What became of one page; "ok" pages are then judged per target as live or gone.
PageOutcome = Literal["ok", "page_gone", "redirected", "blocked", "failed"]
PAGE_OUTCOMES: tuple[str, ...] = ("ok", "page_gone", "redirected", "blocked", "failed")


def _version() -> str:
    """The installed toxiclinks version ("0" when run from a bare source tree)."""
    try:
        return version("toxiclinks")
    except PackageNotFoundError:
        return "0"


USER_AGENT = f"toxiclinks/{_version()} (+https://github.com/toxiclinks/toxiclinks; backlink audit)"
ROBOTS_AGENT = "toxiclinks"  # the token robots.txt groups are matched against


class FetchError(InputError):
    """Settings or input the fetcher cannot work with (a bad option, an unusable cache file)."""


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How politely and how far to fetch.

    ``delay``: seconds between two requests to one host (a larger robots.txt ``Crawl-delay`` wins,
    up to ``max_crawl_delay``); ``concurrency``: requests in flight at once, over all hosts;
    ``connect_timeout``/``read_timeout``: per connection attempt and per read; ``page_timeout``:
    the whole of one response, so a server that drips bytes cannot hold a slot;
    ``max_bytes``: body as sent (compressed); ``max_decoded_bytes``: body once decompressed
    (gzip bombs stop there); ``max_redirects``: hops followed, each checked like the first;
    ``allow_private``: fetch private, loopback and link-local addresses (tests, intranets);
    ``refetch_after_days``: cache entries younger than this are reused; ``retry_failed_after_days``:
    the same for failed fetches (timeouts and 5xx are worth retrying sooner).
    """

    delay: float = 1.0
    concurrency: int = 8
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    page_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_decoded_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    refetch_after_days: float = 30.0
    retry_failed_after_days: float = 1.0
    max_crawl_delay: float = 30.0
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        for name in ("delay", "connect_timeout", "read_timeout", "page_timeout", "refetch_after_days",
                     "retry_failed_after_days", "max_crawl_delay"):
            if not getattr(self, name) >= 0:
                raise FetchError(f"fetch option {name} must be a number ≥ 0, not {getattr(self, name)!r}")
        for name in ("concurrency", "max_bytes", "max_decoded_bytes"):
            if not (isinstance(getattr(self, name), int) and getattr(self, name) >= 1):
                raise FetchError(f"fetch option {name} must be a whole number ≥ 1, not {getattr(self, name)!r}")
        if not (isinstance(self.max_redirects, int) and self.max_redirects >= 0):
            raise FetchError(f"fetch option max_redirects must be a whole number ≥ 0, not {self.max_redirects!r}")


@dataclass(frozen=True, slots=True)
class PageResult:
    """One referring page as fetched (or read back from the cache), with the links asked about.

    ``outcome`` is the page's: "ok" (an HTML page was read), "page_gone" (404/410), "redirected"
    (to another site), "blocked" (robots.txt), "failed" (``reason`` says why). ``links`` maps each
    target asked about to the facts of its link on the page, or None when the page has none;
    :meth:`outcome_for` turns that into the pair's outcome (live/gone/…). Page facts (title,
    language, …) are None when the page was not read.
    """

    url: str
    outcome: PageOutcome
    reason: str | None = None
    http_code: int | None = None
    final_url: str | None = None
    fetched_at: float | None = None  # seconds since the epoch
    from_cache: bool = False
    title: str | None = None
    language: str | None = None
    noindex: bool | None = None
    canonical: str | None = None
    external_links: int | None = None
    internal_links: int | None = None
    linked_domains: int | None = None
    links: dict[str, LinkFacts | None] = field(default_factory=dict)

    def outcome_for(self, target: str) -> Outcome:
        """The outcome of the pair (this page, ``target``): live or gone when the page was read."""
        if self.outcome != "ok":
            return self.outcome
        return "live" if self.links.get(target) is not None else "gone"

    def link(self, target: str) -> LinkFacts | None:
        """The facts of the link to ``target`` on this page, or None."""
        return self.links.get(target)


@dataclass(frozen=True, slots=True)
class FetchProgress:
    """Progress for a progress bar: pages done of ``total``, counts by page outcome, cache hits."""

    done: int
    total: int
    by_outcome: dict[str, int]
    from_cache: int


#: Canonical fields a fetched page can fill, with their kinds (as in toxiclinks.schema).
PAGE_FIELDS: dict[str, str] = {
    "source_title": "str", "language": "str", "http_code": "float",
    "external_links": "float", "internal_links": "float", "linked_domains": "float",
}
LINK_FIELDS: dict[str, str] = {
    "target_url": "str",  # the URL the link on the page points to (normalised)
    "anchor": "str", "left_context": "str", "right_context": "str", "nofollow": "bool", "ugc": "bool",
    "sponsored": "bool", "link_type": "str", "region": "str", "in_content": "bool",
}
FILLED_FIELDS: tuple[str, ...] = (*LINK_FIELDS, *PAGE_FIELDS)
#: Columns beside the canonical ones: the pair's outcome, why (for failures), the page's noindex,
#: and the canonical fields this row's values came from the page for (comma-separated).
EXTRA_COLUMNS: dict[str, str] = {"fetch_outcome": "str", "fetch_reason": "str", "noindex": "bool",
                                 "filled_from": "str"}
