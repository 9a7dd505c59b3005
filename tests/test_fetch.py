"""The page fetcher (toxiclinks.fetch) against real local servers: every kind of page, the cache,
politeness, the private-address refusal and a proxy. No mocks, no internet."""

from __future__ import annotations

import asyncio
import gzip
import importlib
import importlib.util
import threading
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from toxiclinks.errors import ToxiclinksError
from toxiclinks.fetch import (
    EXTRA_COLUMNS,
    FILLED_FIELDS,
    FetchError,
    FetchOptions,
    FetchProgress,
    LinkQuery,
    fetch_links,
    fetch_table,
    link_regions,
    to_columns,
)

REPO = Path(__file__).resolve().parents[1]
TARGET = "target.example"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def _html(body: str, head: str = "<title>A page</title>") -> bytes:
    return f"<!doctype html><html lang='en'><head>{head}</head><body>{body}</body></html>".encode()


def _bomb() -> bytes:
    """200 MB of zeros, gzip-compressed (~200 KB), built in streaming fashion."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(200)) + packer.flush()


PAGES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/present": (200, {}, _html(
        "<header class='site-header'><a href='/'>Home</a></header><main><p>We tried many tools. "
        f"The best were at <a href='https://www.{TARGET}/shop?x=1'>Target Shop</a> for the price, honestly."
        "</p><p>More: <a href='https://other.example/'>other</a> <a href='https://other.example/b'>b</a>"
        " <a href='/about'>about</a></p></main>")),
    "/removed": (200, {}, _html("<p>We used to link to them. <a href='https://other.example/'>x</a></p>")),
    "/rels": (200, {}, _html(
        "<p><a href='https://nf.example/' rel='nofollow'>nf</a> <a href='https://sp.example/' rel='Sponsored'>sp</a>"
        " <a href='https://ugc.example/' rel='ugc nofollow'>ugc</a> <a href='https://plain.example/'>plain</a></p>")),
    "/footer": (200, {}, _html(f"<p>Text</p><footer><p>Made by <a href='http://{TARGET}/'>us</a></p></footer>")),
    "/comments": (200, {}, _html(
        f"<article><p>Post</p><div id='comments' class='comments-area'><div class='comment-body'>Nice! "
        f"<a href='https://blog.{TARGET}/' rel='ugc'>my blog</a></div></div></article>")),
    "/image": (200, {}, _html(f"<div class='entry-content'><a href='https://{TARGET}/'><img src='/l.png' "
                              "alt='Target logo'></a></div>")),
    "/gone404": (404, {}, b"not here"),
    "/gone410": (410, {}, b"gone"),
    "/error500": (500, {}, b"oops"),
    "/loop": (302, {"Location": "/loop2"}, b""),
    "/loop2": (302, {"Location": "/loop"}, b""),
    "/away": (301, {"Location": "https://elsewhere.example/landing"}, b""),
    "/moved": (301, {"Location": "/present"}, b""),
    "/pdf": (200, {"Content-Type": "application/pdf"}, b"%PDF-1.4 ..."),
    "/private/secret": (200, {}, _html(f"<a href='https://{TARGET}/'>t</a>")),
    "/noindex": (200, {}, _html(f"<a href='https://{TARGET}/'>t</a>",
                                "<title>Hidden</title><meta name='robots' content='noindex, follow'>")),
    "/noindex-header": (200, {"X-Robots-Tag": "googlebot: noindex"}, _html(f"<a href='https://{TARGET}/'>t</a>")),
    "/cp1251": (200, {"Content-Type": "text/html; charset=windows-1251"},
                _html(f"<p>Лучшие товары: <a href='https://{TARGET}/'>Купить инструменты</a> здесь.</p>",
                      "<title>Магазин</title>").decode().encode("cp1251")),
    "/cp1251-meta": (200, {"Content-Type": "text/html"},
                     _html(f"<p>Смотрите <a href='https://{TARGET}/'>Сайт</a></p>",
                           "<meta charset='windows-1251'><meta http-equiv='content-language' content='ru'>"
                           ).decode().replace("lang='en'", "").encode("cp1251")),
    "/hostile": (200, {}, (
        b"<html><head><title>Bad\x00 page</title><script>document.write('<a href=\"https://target.example/fake\">"
        b"x</a>');</script><style>a{}</style></head><body><div class='sidebar'><p>unclosed <b>bold <i>both"
        + b"<div>" * 3000 + b"\x00\x00<table><tr><td>cell<a href='https://target.example/real'>real link</a>"
        b"<script>while(true){}</script><img src=x onerror=alert(1)><!-- <a href='https://target.example/c'> -->"
        b"<a href='javascript:alert(1)'>js</a><a href='https://[::1'>broken</a><a href='mailto:x@y'>m</a>")),
}


class _Handler(BaseHTTPRequestHandler):
    """Serves PAGES, robots.txt, and the slow, huge and bomb pages; logs every request."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        start = time.monotonic()
        path = self.path.split("?", 1)[0]
        try:
            self._answer(path)
        except (ConnectionError, OSError):
            pass  # the client gave up (timeouts, caps): expected
        finally:
            self.server.log.append((path, start, time.monotonic(), dict(self.headers)))  # type: ignore[attr-defined]

    def _answer(self, path: str) -> None:
        if path == "/robots.txt":
            return self._send(200, {"Content-Type": "text/plain"}, ROBOTS)
        if path == "/slow":
            time.sleep(2)
            return self._send(200, {}, _html("late"))
        if path == "/huge":  # 3 MB streamed with no Content-Length: the cap must stop it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65_536 + b"</p>"
            for _ in range(48):
                self.wfile.write(chunk)
            return None
        if path == "/bomb":
            return self._send(200, {"Content-Encoding": "gzip"}, self.server.bomb)  # type: ignore[attr-defined]
        if path == "/gzipped":
            return self._send(200, {"Content-Encoding": "gzip"}, gzip.compress(PAGES["/present"][2]))
        if path.startswith("/page/"):  # many small pages for the cache and politeness tests
            return self._send(200, {}, _html(f"<p>page {path} <a href='https://{TARGET}/'>t</a></p>"))
        status, headers, body = PAGES.get(path, (404, {}, b"no such page"))
        return self._send(status, headers, body)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/html; charset=utf-8", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    log: list[tuple[str, float, float, dict[str, str]]]
    bomb: bytes


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.log = []
    httpd.bomb = _bomb()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _paths(server: _Server, since: int) -> list[str]:
    return [entry[0] for entry in server.log[since:]]


FAST = FetchOptions(delay=0, allow_private=True, connect_timeout=1, read_timeout=0.5, page_timeout=3,
                    max_bytes=1 << 20, max_decoded_bytes=1 << 20)

# path -> (outcome, a piece of the reason or None)
EXPECTED = {
    "/present": ("live", None), "/removed": ("gone", None), "/footer": ("live", None),
    "/comments": ("live", None), "/image": ("live", None), "/gone404": ("page_gone", None),
    "/gone410": ("page_gone", None), "/error500": ("failed", "HTTP 500"), "/slow": ("failed", "timeout"),
    "/huge": ("failed", "too big"), "/loop": ("failed", "redirect loop"), "/away": ("redirected", "elsewhere"),
    "/moved": ("live", None), "/bomb": ("failed", "decompressed"), "/pdf": ("failed", "not HTML"),
    "/private/secret": ("blocked", "robots"), "/noindex": ("live", None), "/noindex-header": ("live", None),
    "/cp1251": ("live", None), "/cp1251-meta": ("live", None), "/hostile": ("live", None),
    "/gzipped": ("live", None),
}


@pytest.fixture(scope="module")
def every_kind(server: _Server) -> tuple[dict, float, list[str]]:
    """One run over a page of every kind (each fetched once however many targets it is asked about)."""
    base = _base(server)
    pairs = [(base + path, TARGET) for path in EXPECTED]
    pairs += [(base + "/rels", site) for site in ("nf.example", "sp.example", "ugc.example", "plain.example")]
    pairs.append((base + "/present", f"https://{TARGET}/shop?x=1"))
    since = len(server.log)
    start = time.monotonic()
    results = fetch_links(pairs, options=FAST)
    return results, time.monotonic() - start, _paths(server, since)


@pytest.mark.parametrize("path", list(EXPECTED))
def test_outcome_of_every_kind_of_page(every_kind, server, path):
    results, _, _ = every_kind
    page = results[_base(server) + path]
    outcome, reason = EXPECTED[path]
    assert page.outcome_for(TARGET) == outcome, (page.outcome, page.reason)
    if reason:
        assert reason in (page.reason or ""), page.reason


def test_every_kind_in_one_quick_run_each_page_once(every_kind):
    _, seconds, paths = every_kind
    assert seconds < 10
    assert paths.count("/robots.txt") == 1
    assert paths.count("/rels") == 1 and paths.count("/present") == 2  # once itself, once via /moved
    assert "/private/secret" not in paths  # robots.txt says no: never requested


def test_link_facts(every_kind, server):
    results, _, _ = every_kind
    base = _base(server)
    present = results[base + "/present"]
    link = present.link(TARGET)
    assert link is not None
    assert (link.anchor, link.region, link.link_type, link.nofollow) == ("Target Shop", "body", "text", False)
    assert link.left_context.endswith("We tried many tools. The best were at")
    assert link.right_context == "for the price, honestly."
    assert present.http_code == 200 and present.title == "A page" and present.language == "en"
    assert (present.external_links, present.internal_links, present.linked_domains) == (3, 2, 2)
    assert present.link(f"https://{TARGET}/shop?x=1").href == f"https://www.{TARGET}/shop?x=1"
    rels = results[base + "/rels"]
    assert [(f.nofollow, f.sponsored, f.ugc) for f in (rels.link(s) for s in ("nf.example", "sp.example",
            "ugc.example", "plain.example"))] == [(True, False, False), (False, True, False),
                                                   (True, False, True), (False, False, False)]
    assert results[base + "/footer"].link(TARGET).region == "footer"
    comment = results[base + "/comments"].link(TARGET)
    assert (comment.region, comment.anchor, comment.ugc) == ("comments", "my blog", True)
    image = results[base + "/image"].link(TARGET)
    assert (image.link_type, image.anchor, image.region) == ("image", "Target logo", "body")
    assert results[base + "/moved"].final_url == base + "/present"
    assert results[base + "/away"].final_url == "https://elsewhere.example/landing"
    assert results[base + "/noindex"].noindex and results[base + "/noindex-header"].noindex
    assert results[base + "/present"].noindex is False
    cyrillic = results[base + "/cp1251"]
    assert (cyrillic.title, cyrillic.link(TARGET).anchor) == ("Магазин", "Купить инструменты")
    assert cyrillic.link(TARGET).left_context == "Лучшие товары:"
    meta = results[base + "/cp1251-meta"]
    assert (meta.link(TARGET).anchor, meta.language) == ("Сайт", "ru")
    hostile = results[base + "/hostile"]
    assert hostile.link(TARGET).href == f"https://{TARGET}/real"  # not the one inside the script
    assert hostile.title == "Bad page"
    assert results[base + "/gone404"].http_code == 404 and results[base + "/error500"].http_code == 500


def test_requests_are_honest(every_kind, server):
    agents = {entry[3].get("User-Agent") for entry in server.log}
    assert agents == {f"toxiclinks/{toxiclinks_version()} (+https://github.com/toxiclinks/toxiclinks; backlink audit)"}


def toxiclinks_version() -> str:
    from importlib.metadata import version

    return version("toxiclinks")


def test_private_addresses_are_refused(server):
    since = len(server.log)
    url = _base(server) + "/present"
    page = fetch_links([(url, TARGET)], options=FetchOptions(delay=0, read_timeout=0.5))[url]
    assert page.outcome_for(TARGET) == "failed"
    assert "private address" in page.reason
    assert _paths(server, since) == []  # refused before connecting


def test_cache_reuse_and_resume(server, tmp_path):
    base = _base(server)
    cache = tmp_path / "fetch-cache.sqlite"
    urls = [f"{base}/page/{i}" for i in range(8)]
    since = len(server.log)
    first = fetch_links([(u, TARGET) for u in urls[:4]], cache=cache, options=FAST)  # interrupted half-way
    assert sorted(_paths(server, since)) == sorted(["/robots.txt", *(f"/page/{i}" for i in range(4))])
    since = len(server.log)
    seen: list[FetchProgress] = []
    second = fetch_links([(u, TARGET) for u in urls], cache=cache, options=FAST, progress=seen.append)
    assert sorted(_paths(server, since)) == sorted(["/robots.txt", *(f"/page/{i}" for i in range(4, 8))])
    assert [second[u].from_cache for u in urls] == [True] * 4 + [False] * 4
    assert second[urls[0]].link(TARGET) == first[urls[0]].link(TARGET)
    assert seen[-1].done == seen[-1].total == 8 and seen[-1].from_cache == 4 and seen[-1].by_outcome == {"ok": 8}
    since = len(server.log)
    third = fetch_links([(u, TARGET) for u in urls], cache=cache, options=FAST)
    assert _paths(server, since) == []  # everything fresh in the cache: no request at all
    assert all(third[u].outcome_for(TARGET) == "live" and third[u].from_cache for u in urls)
    stale = FetchOptions(**{**_fields(FAST), "refetch_after_days": 0})
    since = len(server.log)
    fetch_links([(urls[0], TARGET)], cache=cache, options=stale)
    assert _paths(server, since) == ["/robots.txt", "/page/0"]


def _fields(options: FetchOptions) -> dict:
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


def test_one_request_at_a_time_per_host_with_delay(server):
    base = _base(server)
    since = len(server.log)
    polite = FetchOptions(**{**_fields(FAST), "delay": 0.2, "concurrency": 8})
    fetch_links([(f"{base}/page/p{i}", TARGET) for i in range(4)], options=polite)
    spans = sorted((start, end) for _, start, end, _ in server.log[since:])
    assert len(spans) == 5  # robots.txt and four pages
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start - end >= 0.18  # never two at once, and spaced by the delay


def test_proxy_from_environment(server, monkeypatch):
    proxied: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            proxied.append(self.path)
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                with opener.open(self.path, timeout=5) as answer:
                    status, headers, body = answer.status, answer.headers, answer.read()
            except urllib.error.HTTPError as exc:
                status, headers, body = exc.code, exc.headers, exc.read()
            self.send_response(status)
            for name in ("Content-Type", "Location"):
                if headers.get(name):
                    self.send_header(name, headers[name])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ALL_PROXY", "HTTPS_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.setenv("NO_PROXY", "")  # else 127.0.0.1 might bypass the proxy
        url = _base(server) + "/present"
        page = fetch_links([(url, TARGET)], options=FAST)[url]
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert page.outcome_for(TARGET) == "live"
    assert proxied == [_base(server) + "/robots.txt", url]


def test_table_columns(server, tmp_path):
    base = _base(server)
    links = pd.DataFrame({
        "source_url": pd.array([f"{base}/present", f"{base}/removed", f"{base}/gone404", None, f"{base}/present"],
                               dtype="string"),
        "target_url": pd.array([f"https://{TARGET}/", None, None, None, "https://other.example/b"], dtype="string"),
        "target_site": pd.array([TARGET, TARGET, TARGET, TARGET, "other.example"], dtype="string"),
    }, index=[10, 11, 12, 13, 14])
    table = fetch_table(links, cache=tmp_path / "c.sqlite", options=FAST)
    assert list(table.index) == [10, 11, 12, 13, 14]
    assert list(table.columns) == [*FILLED_FIELDS, *EXTRA_COLUMNS]
    assert str(table["nofollow"].dtype) == "boolean" and str(table["http_code"].dtype) == "Float64"
    assert str(table["anchor"].dtype) == "string"
    assert table["fetch_outcome"].tolist() == ["live", "gone", "page_gone", "failed", "live"]
    assert table.loc[10, "anchor"] == "Target Shop" and bool(table.loc[10, "in_content"])
    assert table.loc[14, "anchor"] == "b"  # the exact target URL preferred over the first link to the site
    assert table.loc[10, "filled_from"].split(",") == list(FILLED_FIELDS)
    assert pd.isna(table.loc[11, "anchor"]) and table.loc[11, "source_title"] == "A page"
    assert table.loc[12, "filled_from"] == "http_code" and table.loc[12, "http_code"] == 404
    assert table.loc[13, "fetch_reason"] == "no source URL"
    columns = to_columns(fetch_links([(f"{base}/present", TARGET)], options=FAST), [(f"{base}/present", TARGET)])
    assert columns["region"] == ["body"] and columns["fetch_outcome"] == ["live"]


def test_works_inside_a_running_event_loop_and_from_threads(server):
    url = _base(server) + "/present"

    async def caller() -> str:
        return fetch_links([LinkQuery(url, TARGET)], options=FAST)[url].outcome_for(TARGET)

    assert asyncio.run(caller()) == "live"
    out: list[str] = []
    thread = threading.Thread(target=lambda: out.append(fetch_links([(url, TARGET)], options=FAST)[url].outcome))
    thread.start()
    thread.join(10)
    assert out == ["ok"]


def test_bad_input():
    with pytest.raises(FetchError) as info:
        FetchOptions(concurrency=0)
    assert isinstance(info.value, ToxiclinksError)
    results = fetch_links([("not a url at all", TARGET), ("ftp://x.example/", TARGET)], options=FAST)
    assert {r.outcome for r in results.values()} == {"failed"}


def test_unusable_cache_is_a_fetch_error(tmp_path):
    (tmp_path / "dir.sqlite").mkdir()
    with pytest.raises(FetchError):
        fetch_links([("http://127.0.0.1:9/", TARGET)], cache=tmp_path / "dir.sqlite", options=FAST)


# --- link_regions ------------------------------------------------------------------------------

def _bench():
    spec = importlib.util.spec_from_file_location("fetch_bench", REPO / "bench" / "fetch_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SAVED_PAGES = sorted((Path(__file__).parent / "fetch_pages").glob("*.html"))


def test_link_regions_never_raise_on_broken_html():
    for html in ("", "<", "<a href='", "\x00" * 100, "<a href='http://[::1'>x</a>", "<div>" * 10_000,
                 PAGES["/hostile"][2].decode("utf-8", "replace")):
        canonical, links = link_regions(html, "https://x.example/")
        assert canonical is None and isinstance(links, list)
