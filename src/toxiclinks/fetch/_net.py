"""HTTP for the fetcher: one guarded request at a time, redirects followed by hand, robots.txt.

Every hop is checked before it is requested (http or https only; the host's addresses all
public unless ``allow_private``), and after connecting the peer's address is checked again,
so a name that resolves to a public address first and a private one later gets nowhere. Bodies
are streamed and counted as sent and as decompressed, so neither a huge page nor a gzip bomb
is ever held whole.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import urllib.request
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from ..urls import URLError, normalize_url
from ._html import registered_domain
from ._options import FetchOptions, PageOutcome

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 500 * 1024  # Google reads the first 500 KiB of a robots.txt and ignores the rest
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHUNK = 64 * 1024


class _TooBig(Exception):
    """The body went past its cap."""


@dataclass(slots=True)
class Fetched:
    """The end of fetching one page: its outcome and, for "ok", the body and the headers it needs."""

    outcome: PageOutcome
    reason: str | None = None
    status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    x_robots_tag: str | None = None
    body: bytes | None = None


@dataclass(slots=True)
class _Hop:
    """One request's answer: status and headers, the body when it was read, or why it failed."""

    status: int | None = None
    headers: httpx.Headers | None = None
    body: bytes | None = None
    error: str | None = None


@dataclass(slots=True)
class Robots:
    """A host's robots.txt: rules (None = everything allowed), or why the host is not crawled."""

    rules: Protego | None = None
    failure: str | None = None
    crawl_delay: float | None = None


def make_client(options: FetchOptions) -> httpx.AsyncClient:
    """An httpx client for the fetcher: proxies from the environment, our timeouts and headers."""
    timeout = httpx.Timeout(connect=options.connect_timeout, read=options.read_timeout,
                            write=options.read_timeout, pool=None)
    limits = httpx.Limits(max_connections=options.concurrency * 2, max_keepalive_connections=options.concurrency * 2)
    return httpx.AsyncClient(
        trust_env=True, timeout=timeout, limits=limits, follow_redirects=False,
        headers={"User-Agent": options.user_agent,
                 "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                 # Only what we decode ourselves, with a cap on the output (see _Decoder).
                 "Accept-Encoding": "gzip, deflate"},
    )


class Net:
    """Guarded requests for one run: address checks, size caps, redirects, robots.txt."""

    def __init__(self, client: httpx.AsyncClient, options: FetchOptions) -> None:
        self.client = client
        self.options = options
        self.requests = 0  # every request sent, robots.txt included
        self.robots_for: Callable[[str], Awaitable[Robots]] = self.load_robots
        self.proxies = urllib.request.getproxies_environment()  # read once: it walks os.environ

    async def fetch_page(self, url: str, robots: Robots) -> Fetched:
        """Fetch a page, following up to ``max_redirects`` same-site redirects (each hop checked)."""
        first_site = _site(url)
        current, seen = url, {url}
        status: int | None = None
        for hop in range(self.options.max_redirects + 1):
            if hop and (refusal := await self.robots_refusal(current, robots if _same_origin(current, url) else None)):
                return Fetched("blocked" if refusal == "blocked" else "failed", refusal, status, current)
            answer = await self._request(current, html_only=True, max_bytes=self.options.max_bytes,
                                         max_decoded=self.options.max_decoded_bytes, truncate=False)
            status = answer.status
            if answer.error is not None:
                return Fetched("failed", answer.error, status, current)
            assert answer.headers is not None and status is not None
            if status in _REDIRECTS:
                location = answer.headers.get("location")
                if not location:
                    return Fetched("failed", f"HTTP {status} without a Location", status, current)
                try:
                    target = normalize_url(urljoin(current, location.strip()))
                except (URLError, ValueError) as exc:
                    return Fetched("failed", f"redirect to an unusable URL ({exc})", status, current)
                if _site(target) != first_site:
                    return Fetched("redirected", f"redirected to {target}", status, target)
                if target in seen:
                    return Fetched("failed", "redirect loop", status, target)
                seen.add(target)
                current = target
                continue
            if status in (404, 410):
                return Fetched("page_gone", f"HTTP {status}", status, current)
            if not 200 <= status < 300:
                return Fetched("failed", f"HTTP {status}", status, current)
            return Fetched("ok", None, status, current, answer.headers.get("content-type"),
                           ", ".join(answer.headers.get_list("x-robots-tag")) or None, answer.body)
        return Fetched("failed", f"more than {self.options.max_redirects} redirects", status, current)

    async def robots_refusal(self, url: str, robots: Robots | None) -> str | None:
        """Why ``url`` may not be fetched ("blocked", or a failure), or None when it may.

        ``robots`` is the rules of the URL's origin when known; other origins (a redirect to
        www.) have theirs read now."""
        if robots is None:
            robots = await self.robots_for(origin_of(url))
        if robots.failure is not None:
            return robots.failure
        if robots.rules is not None and not robots.rules.can_fetch(url, "toxiclinks"):
            return "blocked"
        return None

    async def load_robots(self, origin: str) -> Robots:
        """Read ``origin``/robots.txt as Google does: 4xx means no rules, 429/5xx or no answer means
        the site is not crawled; up to five redirects, the first 500 KiB."""
        url, seen = f"{origin}/robots.txt", set()
        for _ in range(6):
            answer = await self._request(url, html_only=False, max_bytes=ROBOTS_MAX_BYTES,
                                         max_decoded=ROBOTS_MAX_BYTES, truncate=True)
            if answer.error is not None:
                return Robots(failure=f"robots.txt: {answer.error}")
            assert answer.headers is not None and answer.status is not None
            status = answer.status
            if status in _REDIRECTS and (location := answer.headers.get("location")):
                try:
                    url = normalize_url(urljoin(url, location.strip()))
                except (URLError, ValueError):
                    return Robots()
                if url in seen:
                    return Robots()
                seen.add(url)
                continue
            if 200 <= status < 300:
                text = (answer.body or b"").decode("utf-8", errors="replace")
                try:
                    rules = Protego.parse(text)
                except Exception:  # noqa: BLE001 - an unparsable robots.txt sets no rules
                    log.debug("unparsable robots.txt at %s", url, exc_info=True)
                    return Robots()
                delay = rules.crawl_delay("toxiclinks")
                return Robots(rules=rules, crawl_delay=float(delay) if delay else None)
            if status == 429 or status >= 500:
                return Robots(failure=f"robots.txt answered HTTP {status}, so the site is not crawled")
            return Robots()  # 4xx (and odd statuses): no rules
        return Robots()  # too many redirects: Google treats it as no robots.txt

    async def _request(self, url: str, *, html_only: bool, max_bytes: int, max_decoded: int,
                       truncate: bool) -> _Hop:
        """One checked GET of ``url``; the body is read for 2xx answers only."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return _Hop(error=f"not an http(s) URL: {url}")
        proxied = self._proxied(parts.scheme, parts.hostname)
        if not self.options.allow_private and (refusal := await _address_refusal(
                parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), proxied)):
            return _Hop(error=refusal)
        self.requests += 1
        try:
            async with asyncio.timeout(self.options.page_timeout):
                request = self.client.build_request("GET", url)
                response = await self.client.send(request, stream=True)
                try:
                    return await self._read(response, html_only=html_only, max_bytes=max_bytes,
                                            max_decoded=max_decoded, truncate=truncate, proxied=proxied)
                finally:
                    await response.aclose()
        except TimeoutError:
            return _Hop(error=f"timed out after {self.options.page_timeout:g} s")
        except httpx.TimeoutException as exc:
            return _Hop(error=f"timeout ({type(exc).__name__})")
        except httpx.ConnectError as exc:
            return _Hop(error=f"cannot connect: {exc or type(exc).__name__}")
        except (httpx.HTTPError, OSError, ValueError) as exc:
            return _Hop(error=f"{type(exc).__name__}: {exc}")

    def _proxied(self, scheme: str, host: str) -> bool:
        """Whether the environment sends requests for this scheme and host through a proxy."""
        if not (self.proxies.get(scheme) or self.proxies.get("all")):
            return False
        return not urllib.request.proxy_bypass_environment(host, self.proxies)

    async def _read(self, response: httpx.Response, *, html_only: bool, max_bytes: int, max_decoded: int,
                    truncate: bool, proxied: bool) -> _Hop:
        """Check the peer, the status and the type, then stream the body within its caps."""
        if not self.options.allow_private and not proxied:
            stream = response.extensions.get("network_stream")
            peer = stream.get_extra_info("server_addr") if stream is not None else None
            if peer and (refusal := _ip_refusal(str(peer[0]))):
                return _Hop(error=refusal)
        hop = _Hop(status=response.status_code, headers=response.headers)
        if not 200 <= response.status_code < 300:
            return hop
        content_type = response.headers.get("content-type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if html_only and mime and mime not in _HTML_TYPES:
            hop.error = f"not HTML ({mime})"
            return hop
        length = response.headers.get("content-length", "")
        if not truncate and length.isdigit() and int(length) > max_bytes:
            hop.error = f"too big ({int(length):,} bytes; limit {max_bytes:,})"
            return hop
        try:
            decoder = _Decoder(response.headers.get("content-encoding", ""), max_decoded)
        except ValueError as exc:
            hop.error = str(exc)
            return hop
        chunks: list[bytes] = []
        sent = 0
        try:
            async for raw in response.aiter_raw(_CHUNK):
                sent += len(raw)
                if sent > max_bytes:
                    raise _TooBig(f"too big (over {max_bytes:,} bytes)")
                chunks.append(decoder.feed(raw))
            chunks.append(decoder.flush())
        except _TooBig as exc:
            if not truncate:
                hop.error = str(exc)
                return hop
        except zlib.error as exc:
            hop.error = f"broken compressed body ({exc})"
            return hop
        hop.body = b"".join(chunks)[:max_decoded]
        return hop


class _Decoder:
    """Content-Encoding decoding that never produces more than ``cap`` bytes in all."""

    def __init__(self, encoding: str, cap: int) -> None:
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")
        self.kind = "gzip" if encoding in ("gzip", "x-gzip") else encoding if encoding == "deflate" else ""
        self.cap = cap
        self.size = 0
        self.raw_deflate = False
        self.zobj = self._new() if self.kind else None

    def _new(self) -> zlib._Decompress:
        """A fresh decompressor for this encoding."""
        if self.kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if self.raw_deflate else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        """Decode one chunk; raise _TooBig past the cap (only cap + 1 bytes are ever inflated)."""
        if self.zobj is None:
            return self._count(data)
        out: list[bytes] = []
        while data:
            try:
                piece = self.zobj.decompress(data, self.cap - self.size + 1)
            except zlib.error:
                if self.kind == "deflate" and not self.raw_deflate and self.size == 0:
                    self.raw_deflate = True  # servers send raw deflate as often as zlib-wrapped
                    self.zobj = self._new()
                    continue
                raise
            out.append(self._count(piece))
            if self.zobj.unconsumed_tail:
                raise _TooBig(f"too big once decompressed (over {self.cap:,} bytes)")
            data = self.zobj.unused_data if self.zobj.eof else b""
            if data:
                self.zobj = self._new()  # another gzip member follows
        return b"".join(out)

    def flush(self) -> bytes:
        """The last decoded bytes."""
        return self._count(self.zobj.flush()) if self.zobj is not None else b""

    def _count(self, data: bytes) -> bytes:
        """Pass ``data`` on, counting it against the cap."""
        self.size += len(data)
        if self.size > self.cap:
            raise _TooBig(f"too big once decompressed (over {self.cap:,} bytes)")
        return data


async def _address_refusal(host: str, port: int, proxied: bool) -> str | None:
    """Why ``host`` may not be fetched (it resolves to a non-public address), or None."""
    try:
        ips = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            # Behind a proxy the proxy resolves names: one we cannot resolve may still be fine.
            return None if proxied else f"DNS: cannot resolve {host} ({exc})"
        ips = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    for ip in sorted(ips, key=str):
        if refusal := _ip_refusal(str(ip)):
            return refusal
    return None


def _ip_refusal(address: str) -> str | None:
    """Why an address is refused (private, loopback, link-local, reserved…), or None if public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"unusable address {address!r}"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        return f"private address {ip} refused (not a public address; allow_private is off)"
    return None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL (robots.txt is per origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port."""
    return origin_of(a) == origin_of(b)


def _site(url: str) -> str:
    """The registered domain of a URL's host: redirects within it are followed."""
    return registered_domain((urlsplit(url).hostname or "").lower())
