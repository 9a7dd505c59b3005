"""Page fetcher benchmark: parsing speed per core, and fetching 10,000 pages from a local server.

    .venv/bin/python bench/fetch_bench.py [--pages 10000] [--parse-pages 300]

1. Parsing: the same realistic pages (30-80 KB, 150-400 links: a blog post with menu, sidebar,
   comments and footer) read by the fetcher's parser (selectolax/Lexbor: page facts + the target
   link's facts, and link_regions), by lxml (when installed), and the standard library's
   html.parser doing nothing but tokenise (its floor). Pages/s on one core.
2. Fetching: a local asyncio HTTP server (its own process, on 127.0.0.1-127.0.0.8 so that
   per-host politeness still lets 8 requests run) serves the pages; fetch_links fetches them all
   (allow_private, delay 0, a fresh cache). Pages/s and CPU seconds per page of the fetching process.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import multiprocessing
import random
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGET = "target-shop.com"
_WORDS = ("garden", "tools", "review", "outdoor", "camping", "tent", "backpack", "light", "weight",
          "summer", "hiking", "boots", "trail", "weather", "water", "bottle", "stove", "cooking", "recipe",
          "family", "weekend", "price", "quality", "delivery", "store", "brand", "durable", "comfortable",
          "budget", "guide", "best", "cheap", "premium", "season", "mountain", "river")
N_HOSTS = 8


def _sentence(rng: random.Random, n: int) -> str:
    """A sentence of ``n`` words."""
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _link(rng: random.Random, internal: bool) -> str:
    """An <a> to an internal or external page."""
    words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
    if internal:
        return f'<a href="/{rng.choice(_WORDS)}/{rng.randint(1, 9999)}/">{words}</a>'
    host = f"{rng.choice(_WORDS)}{rng.randint(1, 300)}.{rng.choice(('com', 'net', 'org', 'co.uk', 'de'))}"
    return f'<a href="https://www.{host}/{rng.choice(_WORDS)}-{rng.randint(1, 99)}" rel="noopener">{words}</a>'


def make_page(i: int, target_region: str | None = None) -> str:
    """A realistic blog page (30-80 KB) whose link to TARGET sits in ``target_region`` (by ``i`` when None)."""
    rng = random.Random(i)
    region = target_region or ("body", "sidebar", "comments", "footer", "body", None)[i % 6]
    target = (f'<a href="https://www.{TARGET}/products/{i}" rel="{rng.choice(["", "nofollow", "sponsored"])}">'
              f"{_sentence(rng, 3)[:-1]}</a>")

    def spot(name: str) -> str:
        return target if region == name else ""

    nav = "".join(f'<li class="menu-item"><a href="/{w}/">{w.title()}</a></li>' for w in rng.sample(_WORDS, 12))
    paras = []
    for k in range(rng.randint(25, 60)):
        parts = [_sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.6:
            parts.insert(1, _link(rng, rng.random() < 0.5))
        if k == 3:
            parts.insert(1, spot("body"))
        paras.append(f"<p>{' '.join(parts)}</p>")
        if k % 7 == 6:
            paras.append(f'<figure class="wp-block-image"><a href="/img/{k}.jpg"><img src="/img/{k}.jpg" '
                         f'alt="{_sentence(rng, 4)}" width="800" height="600"></a><figcaption>'
                         f"{_sentence(rng, 6)}</figcaption></figure>")
    widgets = "".join(f'<section class="widget widget_links"><h3 class="widget-title">{_sentence(rng, 2)}</h3><ul>'
                      + "".join(f"<li>{_link(rng, rng.random() < 0.3)}</li>" for _ in range(rng.randint(5, 15)))
                      + "</ul></section>" for _ in range(rng.randint(2, 5)))
    comments = "".join(
        f'<li class="comment" id="comment-{c}"><article class="comment-body"><footer class="comment-meta">'
        f'<div class="comment-author vcard"><img alt="" src="/avatar/{c}.png" class="avatar" height="48">'
        f'<b class="fn"><a href="https://{rng.choice(_WORDS)}{c}.example.net/" rel="external nofollow ugc">'
        f'{rng.choice(_WORDS).title()}</a></b></div><div class="comment-metadata"><a href="#comment-{c}">'
        f'<time datetime="2024-05-0{c % 9 + 1}">May {c % 9 + 1}, 2024</time></a></div></footer>'
        f'<div class="comment-content"><p>{_sentence(rng, rng.randint(10, 40))} {spot("comments") if c == 1 else ""}</p>'
        f'</div><div class="reply"><a rel="nofollow" class="comment-reply-link" href="?replytocom={c}#respond">Reply</a>'
        f"</div></article></li>" for c in range(rng.randint(8, 30)))
    footer_links = "".join(f"<li>{_link(rng, rng.random() < 0.7)}</li>" for _ in range(rng.randint(8, 20)))
    script = "window.dataLayer=window.dataLayer||[];" + "".join(
        f'dataLayer.push({{"event":"v{k}","html":"<a href=\\"/x\\">x</a>"}});' for k in range(rng.randint(20, 120)))
    style = "".join(f".c{k}{{margin:{k}px;padding:{k % 7}px;color:#{k * 999 % 0xFFFFFF:06x}}}" for k in range(rng.randint(50, 250)))
    return f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_sentence(rng, 6)} | Outdoor Blog</title>
<link rel="canonical" href="https://blog{i % 97}.example.org/post/{i}/">
<meta property="og:url" content="https://blog{i % 97}.example.org/post/{i}/">
<style>{style}</style><script>{script}</script></head>
<body class="post-template-default single single-post postid-{i}">
<div id="page" class="site"><header id="masthead" class="site-header"><div class="site-branding">
<a href="/" rel="home"><img src="/logo.png" alt="Outdoor Blog"></a></div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">{nav}</ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">
<nav class="breadcrumbs"><a href="/">Home</a> » <a href="/reviews/">Reviews</a></nav>
<article id="post-{i}" class="post-{i} post type-post status-publish"><header class="entry-header">
<h1 class="entry-title">{_sentence(rng, 7)}</h1><div class="entry-meta"><span class="byline"> by
<span class="author vcard"><a class="url fn n" href="/author/ann/">Ann</a></span></span></div></header>
<div class="entry-content">{"".join(paras)}</div>
<div class="author-bio"><p>{_sentence(rng, 20)} {_link(rng, False)}</p></div></article>
<div id="comments" class="comments-area"><h2 class="comments-title">Comments</h2><ol class="comment-list">{comments}</ol>
<div id="respond" class="comment-respond"><form action="/wp-comments-post.php" method="post"><textarea name="comment"></textarea>
<input type="submit" value="Post Comment"></form></div></div></main></div>
<aside id="secondary" class="widget-area">{widgets}{spot("sidebar")}</aside></div>
<footer id="colophon" class="site-footer"><ul>{footer_links}</ul><div class="site-info">© 2024 Outdoor Blog {spot("footer")}</div></footer></div>
<script>var _paq=_paq||[];_paq.push(["trackPageView"]);</script></body></html>
"""


# --- parsing --------------------------------------------------------------------------------------

def _lxml_regions(html: str, url: str) -> list[tuple[str, str]]:
    """lxml's tree, the same region rules: the baseline for a second C parser."""
    import lxml.html

    from toxiclinks.fetch._html import _RULES

    root = lxml.html.document_fromstring(html.encode("utf-8"), base_url=url)
    out = []
    for a in root.iter("a"):
        href = a.get("href")
        if not href:
            continue
        region = "body"
        for el in a.iterancestors():
            marker = f"{el.get('id') or ''} {el.get('class') or ''} {el.get('role') or ''}".lower()
            name = next((n for n, p, tags in _RULES if el.tag in tags or (marker.strip() and p.search(marker))), None)
            if name:
                region = name
                break
        out.append((href, region))
    return out


def _tokenise(html: str, url: str) -> None:
    """The standard library's parser with nothing to do: its floor."""
    from html.parser import HTMLParser

    parser = HTMLParser()
    parser.feed(html)
    parser.close()


def bench_parsing(n: int) -> dict[str, float]:
    """Pages/s on one core for each parser, over ``n`` generated pages."""
    from toxiclinks.fetch._html import link_regions, parse_page

    pages = [make_page(i) for i in range(n)]
    sizes = [len(p.encode()) for p in pages]
    print(f"parsing: {n} pages, {statistics.mean(sizes) / 1024:.0f} KB mean "
          f"({min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f}), "
          f"{statistics.mean(p.count('<a ') for p in pages):.0f} links mean")

    def fetcher(html: str, url: str) -> object:
        parsed = parse_page(html, url)
        return parsed.find(TARGET)

    contenders = [("selectolax: page facts + target link (fetcher)", fetcher),
                  ("selectolax: link_regions", link_regions),
                  ("lxml: links + regions", _lxml_regions),
                  ("html.parser: tokenising alone, no handlers", _tokenise)]
    if importlib.util.find_spec("lxml") is None:  # measured when installed; not a dependency
        contenders = [c for c in contenders if not c[0].startswith("lxml")]
    rates = {}
    for name, fn in contenders:
        start = time.process_time()
        for i, html in enumerate(pages):
            fn(html, f"https://blog.example.org/post/{i}/")
        cpu = time.process_time() - start
        rates[name] = n / cpu
        print(f"  {name:<48} {n / cpu:8.0f} pages/s per core ({cpu / n * 1000:.2f} ms/page)")
    return rates


# --- fetching -------------------------------------------------------------------------------------

def _serve(port: int, n_bodies: int, ready: multiprocessing.synchronize.Event) -> None:
    """A minimal HTTP/1.1 keep-alive server on 127.0.0.1-127.0.0.8 (runs in its own process)."""
    bodies = [make_page(i).encode() for i in range(n_bodies)]
    robots = b"User-agent: *\nDisallow: /private/\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                if path == "/robots.txt":
                    body, ctype = robots, b"text/plain"
                else:
                    body, ctype = bodies[int(path.rsplit("/", 1)[1]) % n_bodies], b"text/html; charset=utf-8"
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, [f"127.0.0.{k}" for k in range(1, N_HOSTS + 1)], port,
                                            backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def bench_fetching(n: int, concurrency: int) -> None:
    """Fetch ``n`` pages from the local server; print pages/s and CPU per page."""
    from toxiclinks.fetch import FetchOptions, fetch_links

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(port, 500, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(120):
            raise SystemExit("server did not start")
        pairs = [(f"http://127.0.0.{i % N_HOSTS + 1}:{port}/post/{i}", TARGET) for i in range(n)]
        options = FetchOptions(allow_private=True, delay=0, concurrency=concurrency)
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "fetch-cache.sqlite"
            for label in ("fetch (empty cache)", "again (all from cache)"):
                wall, cpu = time.perf_counter(), time.process_time()
                results = fetch_links(pairs, cache=cache, options=options)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                outcomes: dict[str, int] = {}
                for pair in pairs:
                    key = results[pair[0]].outcome_for(TARGET)
                    outcomes[key] = outcomes.get(key, 0) + 1
                print(f"{label}: {n:,} pages in {wall:.1f} s = {n / wall:,.0f} pages/s; "
                      f"{cpu / n * 1000:.2f} ms CPU per page; cache {cache.stat().st_size / 2**20:.0f} MB; {outcomes}")
    finally:
        server.terminate()
        server.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--parse-pages", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {multiprocessing.cpu_count()} cores")
    bench_parsing(args.parse_pages)
    bench_fetching(args.pages, args.concurrency)


if __name__ == "__main__":
    main()
