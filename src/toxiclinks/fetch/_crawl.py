"""The crawl: which page to fetch next, politely, and what each page says about its targets.

Pages are grouped by host. A fixed set of workers (``concurrency``) takes the host that has
waited longest past its delay, makes one request for it (its robots.txt first), and puts the host
back with a ready time ``delay`` later: one request at a time per host, spaced, and no task per
URL, so a million-row export costs a queue entry per page, not a coroutine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import heapq
import itertools
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from ..urls import URLError, host_of, normalize_url
from ._cache import Cache
from ._html import decode, parse_page
from ._net import Fetched, Net, Robots, make_client, origin_of
from ._options import FetchOptions, FetchProgress, PageResult

log = logging.getLogger(__name__)

ProgressCallback = Callable[[FetchProgress], None]


class LinkQuery(NamedTuple):
    """One link to look for: on page ``source_url``, a link to ``target_site`` (a host or site,
    subdomains included), preferring one to exactly ``target_url`` when given."""

    source_url: str
    target_site: str
    target_url: str | None = None

    @property
    def key(self) -> str:
        """How the answer is filed in :attr:`PageResult.links`: the target URL, else the site."""
        return self.target_url or self.target_site


def as_query(pair: LinkQuery | tuple[str, ...]) -> LinkQuery:
    """A (source_url, target) pair as a query: a target with "://" is a URL, else a site."""
    if isinstance(pair, LinkQuery):
        return pair
    if len(pair) == 3:
        return LinkQuery(*pair)
    source, target = pair
    if "://" not in target:
        return LinkQuery(source, _bare_site(target))
    try:
        url = normalize_url(target)
    except URLError:
        return LinkQuery(source, _bare_site(target), target)
    return LinkQuery(source, _bare_site(host_of(url)), target)


def _bare_site(text: str) -> str:
    """A site name as matched against link hosts: lower-case, no "www.", no dots at the ends."""
    text = text.strip().lower().split("://", 1)[-1].split("/", 1)[0].strip(".")
    return text.removeprefix("www.")


@dataclass(slots=True)
class _Host:
    """A host's queue of pages and its politeness state."""

    name: str
    urls: deque[str] = field(default_factory=deque)
    delay: float = 0.0


@dataclass(slots=True)
class _Run:
    """The state of one run."""

    options: FetchOptions
    net: Net
    cache: Cache | None
    queries: dict[str, list[LinkQuery]]  # by normalised source URL
    results: dict[str, PageResult] = field(default_factory=dict)
    robots: dict[str, asyncio.Future[Robots]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    from_cache: int = 0
    total: int = 0
    progress: ProgressCallback | None = None

    def finish(self, url: str, page: Fetched, fetched_at: float, *, cached: bool) -> None:
        """Turn a fetched (or cached) page into its result, and report progress."""
        self.results[url] = _result(url, page, fetched_at, cached, self.queries[url])
        self.counts[page.outcome] += 1
        self.from_cache += cached
        if self.progress is not None:
            self.progress(FetchProgress(len(self.results), self.total, dict(self.counts), self.from_cache))

    async def robots_for(self, origin: str) -> Robots:
        """The origin's robots.txt, read once per run (concurrent askers share one request)."""
        if origin not in self.robots:
            future: asyncio.Future[Robots] = asyncio.get_running_loop().create_future()
            self.robots[origin] = future
            try:
                future.set_result(await self.net.load_robots(origin))
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved here, so an abandoned future logs nothing
                raise
        return await self.robots[origin]


def _result(url: str, page: Fetched, fetched_at: float, cached: bool, queries: list[LinkQuery]) -> PageResult:
    """The result of one page for the links asked about on it."""
    if page.outcome != "ok" or page.body is None:
        return PageResult(url, page.outcome, page.reason, page.status, page.final_url, fetched_at, cached)
    parsed = parse_page(decode(page.body, page.content_type), page.final_url or url, page.x_robots_tag)
    links = {q.key: parsed.find(q.target_site, q.target_url) for q in queries}
    return PageResult(url, "ok", None, page.status, page.final_url, fetched_at, cached,
                      title=parsed.title, language=parsed.language, noindex=parsed.noindex,
                      canonical=parsed.canonical, external_links=parsed.external_links,
                      internal_links=parsed.internal_links, linked_domains=parsed.linked_domains,
                      links=links)


async def afetch_links(pairs: Iterable[LinkQuery | tuple[str, ...]], *, cache: Path | str | None = None,
                       options: FetchOptions | None = None,
                       progress: ProgressCallback | None = None) -> dict[str, PageResult]:
    """:func:`fetch_links` for callers already in an event loop."""
    options = options or FetchOptions()
    queries: dict[str, list[LinkQuery]] = {}
    results: dict[str, PageResult] = {}
    given: dict[str, list[str]] = {}  # normalised URL -> the spellings the caller used
    for pair in pairs:
        query = as_query(pair)
        try:
            url = normalize_url(query.source_url)
        except URLError as exc:
            results[query.source_url] = PageResult(query.source_url, "failed", f"not a URL: {exc}")
            continue
        queries.setdefault(url, []).append(query)
        spellings = given.setdefault(url, [])
        if query.source_url not in spellings:
            spellings.append(query.source_url)
    store = Cache(Path(cache), options) if cache is not None else None
    try:
        async with make_client(options) as client:
            run = _Run(options, Net(client, options), store, queries, total=len(queries), progress=progress)
            run.net.robots_for = run.robots_for  # redirects to other origins share the run's robots.txt
            await _crawl(run)
    finally:
        if store is not None:
            store.close()
    for url, spellings in given.items():
        for spelling in spellings:
            results[spelling] = run.results[url]
    return results


async def _crawl(run: _Run) -> None:
    """Fetch every page not in the cache, one request per host at a time, ``concurrency`` at once."""
    hosts: dict[str, _Host] = {}
    now = time.time()
    for url in run.queries:
        hit = run.cache.get(url, now) if run.cache is not None else None
        if hit is not None:
            run.finish(url, hit[0], hit[1], cached=True)
            continue
        name = urlsplit(url).hostname or url  # politeness is per host, whatever the port or scheme
        hosts.setdefault(name, _Host(name, delay=run.options.delay)).urls.append(url)
    loop = asyncio.get_running_loop()
    order = itertools.count()
    ready: list[tuple[float, int, _Host]] = [(loop.time(), next(order), host) for host in hosts.values()]
    heapq.heapify(ready)
    wake = asyncio.Condition()
    busy = 0

    async def worker() -> None:
        nonlocal busy
        while True:
            async with wake:
                while True:
                    if ready:
                        wait = ready[0][0] - loop.time()
                        if wait <= 0:
                            host = heapq.heappop(ready)[2]
                            busy += 1
                            break
                        # Sleep until that host is due, or until another host comes back sooner.
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), wait)
                    elif busy == 0:
                        return
                    else:
                        await wake.wait()
            try:
                await _step(run, host)
            finally:
                async with wake:
                    busy -= 1
                    if host.urls:
                        heapq.heappush(ready, (loop.time() + host.delay, next(order), host))
                    wake.notify_all()

    await asyncio.gather(*(worker() for _ in range(run.options.concurrency)))


async def _step(run: _Run, host: _Host) -> None:
    """Make the host's next request: its robots.txt when not read yet, else its next page. Pages
    that robots.txt rules out cost no request and are settled on the way."""
    while host.urls:
        url = host.urls[0]
        origin = origin_of(url)
        if origin not in run.robots:
            robots = await run.robots_for(origin)
            if robots.crawl_delay:
                host.delay = max(host.delay, min(robots.crawl_delay, run.options.max_crawl_delay))
            if robots.failure is None:
                return  # that was this turn's request; the page waits for the next
        robots = await run.robots_for(origin)
        host.urls.popleft()
        refusal = await run.net.robots_refusal(url, robots)
        if refusal is not None:
            page = Fetched("blocked" if refusal == "blocked" else "failed",
                           "disallowed by robots.txt" if refusal == "blocked" else refusal)
            _store(run, url, page)
            continue
        page = await run.net.fetch_page(url, robots)
        log.debug("%s: %s %s", url, page.outcome, page.reason or page.status)
        _store(run, url, page)
        return


def _store(run: _Run, url: str, page: Fetched) -> None:
    """Cache a page as it arrives, then file its result."""
    fetched_at = time.time()
    if run.cache is not None:
        run.cache.put(url, page, fetched_at)
    run.finish(url, page, fetched_at, cached=False)


def fetch_links(pairs: Iterable[LinkQuery | tuple[str, ...]], *, cache: Path | str | None = None,
                options: FetchOptions | None = None,
                progress: ProgressCallback | None = None) -> dict[str, PageResult]:
    """Fetch each referring page once and read the links asked about on it.

    ``pairs``: (source_url, target) tuples, where target is a site ("example.com": a link to it
    or any subdomain counts) or a URL (the link to exactly that URL is preferred, else any link
    to its host without "www."), or :class:`LinkQuery` rows. ``cache``: an SQLite file (e.g.
    ``$TOXICLINKS_HOME/fetch-cache.sqlite``), created when missing; fresh entries are reused and
    every page is stored as it arrives, so an interrupted run resumes. ``progress`` is called
    after each page with a :class:`FetchProgress`. Returns a :class:`PageResult` per source URL,
    under the spelling the caller gave. Synchronous: runs its own event loop (in a helper thread
    when the caller's thread already runs one). Raises :class:`FetchError` for an unusable cache.
    """
    def run() -> dict[str, PageResult]:
        return asyncio.run(afetch_links(pairs, cache=cache, options=options, progress=progress))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="toxiclinks-fetch") as pool:
        return pool.submit(run).result()
