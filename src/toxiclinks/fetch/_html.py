"""Reading a fetched page: decoding, the DOM region of each link, and the facts of one link.

Pages are parsed with selectolax's Lexbor engine (an HTML5 tree builder in C): on the realistic
pages of ``bench/fetch_bench.py`` (~50 KB, ~220 links) a page's facts and its target link take
~1 ms, against ~5 ms for html.parser (pages.page_regions) and ~2.6 ms for html.parser's tokeniser
alone; broken markup is repaired the way browsers repair it. A page is data: nothing in it runs.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..urls import URLError, normalize_url, split_host

# Page regions by element and by id/class/role words; innermost match wins (a comment inside the
# footer is a comment). Saved pages (audit --pages) and fetched pages are read with these rules.
_RULES: tuple[tuple[str, re.Pattern[str], frozenset[str]], ...] = (
    ("comments", re.compile(r"comment|reply|disqus|respond|guestbook|forum-post|postbody"), frozenset()),
    ("author", re.compile(r"author|byline|bio\b|about-the"), frozenset()),
    ("footer", re.compile(r"footer|colophon|copyright|site-info|bottom"), frozenset({"footer"})),
    ("sidebar", re.compile(r"sidebar|widget|aside|blogroll|related"), frozenset({"aside"})),
    ("nav", re.compile(r"\bnav|menu|breadcrumb"), frozenset({"nav"})),
    ("header", re.compile(r"header|masthead|topbar"), frozenset({"header"})),
    ("body", re.compile(r"\bcontent|entry|post-body|article|main"), frozenset({"main", "article"})),
)
CONTEXT_CHARS = 100
_SKIP_TEXT = frozenset(("script", "style", "template", "-comment", "head", "title"))
# Text on either side of these elements belongs to another block: a space keeps words apart.
_BLOCK = frozenset((
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "body",
))
_SPACES = re.compile(r"\s+")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)""", re.I)
_NOINDEX = re.compile(r"\b(noindex|none)\b", re.I)
_BOT_RULE = re.compile(r"\s*([\w-]+)\s*:(.*)", re.S)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True, slots=True)
class LinkFacts:
    """What one ``<a>`` on a fetched page says about the link it makes.

    ``href`` is the link's normalised URL; ``region`` one of body, header, nav, sidebar, footer,
    comments, author; ``link_type`` "text", or "image" when the anchor holds an image and no text
    (then ``anchor`` is the image's alt text).
    """

    href: str
    anchor: str
    left_context: str
    right_context: str
    nofollow: bool
    ugc: bool
    sponsored: bool
    region: str
    link_type: str


@dataclass(slots=True)
class _Link:
    """An ``<a href>`` of a page: its node, raw href, host (None when relative) and region."""

    node: LexborNode
    href: str
    host: str | None


@dataclass(slots=True)
class ParsedPage:
    """A parsed page: its facts, and the links on it, kept for matching targets."""

    title: str | None
    language: str | None
    noindex: bool
    canonical: str | None
    base: str
    host: str
    external_links: int
    internal_links: int
    linked_domains: int
    links: list[_Link] = field(repr=False)
    tree: LexborHTMLParser = field(repr=False)
    _regions: dict[int, str | None] = field(default_factory=dict, repr=False)

    def find(self, target_site: str, target_url: str | None = None) -> LinkFacts | None:
        """The first link to ``target_url`` exactly, else the first to ``target_site`` or a subdomain
        of it; None when the page has no such link."""
        site = target_site.lower().strip(".")
        suffix = "." + site
        first: tuple[_Link, str] | None = None
        for link in self.links:
            host = link.host if link.host is not None else self.host
            if host != site and not host.endswith(suffix):
                continue
            try:
                url = normalize_url(urljoin(self.base, link.href.strip()))
            except (URLError, ValueError):
                continue
            if target_url is None or url == target_url:
                return self._facts(link, url)
            first = first or (link, url)
        return self._facts(*first) if first else None

    def _facts(self, link: _Link, url: str) -> LinkFacts:
        """The facts of one link."""
        node = link.node
        anchor = _collapse(node.text(deep=True, separator=" "))
        link_type = "text"
        if not anchor:
            img = node.css_first("img")
            if img is not None:
                link_type = "image"
                anchor = _collapse(img.attributes.get("alt") or "")
        rel = set((node.attributes.get("rel") or "").lower().split())
        return LinkFacts(
            href=url, anchor=anchor,
            left_context=_context(node, before=True), right_context=_context(node, before=False),
            nofollow="nofollow" in rel, ugc="ugc" in rel, sponsored="sponsored" in rel,
            region=_region_of(node, self._regions), link_type=link_type,
        )


def decode(body: bytes, content_type: str | None) -> str:
    """Page bytes as text: a BOM, then the HTTP charset, then ``<meta charset>``, then UTF-8 (bad
    bytes replaced). NUL characters are dropped: they mean nothing in HTML."""
    encoding = None
    for bom, name in _BOMS:
        if body.startswith(bom):
            encoding, body = name, body[len(bom):]
            break
    if encoding is None and content_type and (m := _HEADER_CHARSET.search(content_type)):
        encoding = _codec(m.group(1))
    if encoding is None and (m := _META_CHARSET.search(body[:4096])):
        encoding = _codec(m.group(1).decode("ascii", "replace"))
    text = body.decode(encoding or "utf-8", errors="replace")
    return text.replace("\x00", "") if "\x00" in text else text


def _codec(label: str) -> str | None:
    """A Python codec for a charset label, or None when Python knows none by that name."""
    label = label.strip().lower()
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        label = "windows-1252"  # what browsers (and the HTML standard) decode these labels as
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def parse_page(html: str, page_url: str, x_robots_tag: str | None = None) -> ParsedPage:
    """Parse a page fetched from ``page_url`` (its final URL, after redirects)."""
    tree = LexborHTMLParser(html)
    root = tree.root
    base = page_url
    if (base_node := tree.css_first("base[href]")) is not None:
        base = urljoin(page_url, (base_node.attributes.get("href") or "").strip()) or page_url
    host = _host(page_url) or ""
    links: list[_Link] = []
    internal = external = 0
    domains: set[str] = set()
    own = registered_domain(host)
    for node in tree.css("a[href]"):
        href = node.attributes.get("href") or ""
        if not href or href.startswith("#"):
            continue
        link_host = _absolute_host(href)
        if link_host == "":  # another scheme (mailto:, javascript:, …): not a link to a page
            continue
        links.append(_Link(node, href, link_host))
        if link_host is None or registered_domain(link_host) == own:
            internal += 1
        else:
            external += 1
            domains.add(registered_domain(link_host))
    title_node = tree.css_first("title")
    title = _collapse(title_node.text()) if title_node is not None else ""
    language = (root.attributes.get("lang") or "").strip() if root is not None else ""
    noindex = bool(x_robots_tag and _robots_header_noindex(x_robots_tag))
    for meta in tree.css("meta"):
        attrs = meta.attributes
        name = (attrs.get("name") or "").lower()
        if name in ("robots", "googlebot") and _NOINDEX.search(attrs.get("content") or ""):
            noindex = True
        elif not language and (attrs.get("http-equiv") or "").lower() == "content-language":
            language = (attrs.get("content") or "").strip()
    canonical = _canonical(tree)
    return ParsedPage(title=title or None, language=language or None, noindex=noindex,
                      canonical=canonical, base=base, host=host, external_links=external,
                      internal_links=internal, linked_domains=len(domains), links=links, tree=tree)


def _robots_header_noindex(value: str) -> bool:
    """Whether an X-Robots-Tag header forbids indexing for every crawler or for Google's."""
    for part in value.split(","):
        rule = part
        if (m := _BOT_RULE.match(part)) and m.group(1).lower() != "unavailable_after":
            if m.group(1).lower() not in ("googlebot", "toxiclinks"):
                continue  # a rule for another crawler ("bingbot: noindex")
            rule = m.group(2)
        if _NOINDEX.search(rule):
            return True
    return False


def link_regions(html: str, page_url: str | None = None) -> tuple[str | None, list[tuple[str, str]]]:
    """The page's canonical URL and (normalised link URL, region) for each link on it.

    Relative links are resolved against ``page_url``, else the canonical URL. Regions come from an
    HTML5 tree: where markup is misnested (a ``</div>`` that closes an unclosed ``<li>``), they
    follow the tree a browser builds. Never raises on broken HTML. ``audit --pages`` reads saved
    pages with this too.
    """
    tree = LexborHTMLParser(html)
    canonical = _canonical(tree)
    base = page_url or canonical or ""
    cache: dict[int, str | None] = {}
    resolved: dict[str, str | None] = {}  # pages repeat hrefs ("/", "#respond"): resolve each once
    out: list[tuple[str, str]] = []
    for node in tree.css("a[href]"):
        href = node.attributes.get("href") or ""
        if not href:
            continue
        if href not in resolved:
            try:
                resolved[href] = normalize_url(urljoin(base, href.strip()))
            except (URLError, ValueError):
                resolved[href] = None
        if (url := resolved[href]) is not None:
            out.append((url, _region_of(node, cache)))
    return canonical, out


def _canonical(tree: LexborHTMLParser) -> str | None:
    """The first ``<link rel=canonical href>`` or ``<meta property=og:url content>``, in page order."""
    for node in tree.css("link, meta"):
        attrs = node.attributes
        if node.tag == "link":
            if "canonical" in (attrs.get("rel") or "").lower() and attrs.get("href"):
                return attrs["href"]
        elif (attrs.get("property") or "").lower() == "og:url" and attrs.get("content"):
            return attrs["content"]
    return None


def _own_region(node: LexborNode) -> str | None:
    """The region an element names itself by tag or by id/class/role, or None."""
    tag = node.tag
    attrs = node.attributes
    marker = f"{attrs.get('id') or ''} {attrs.get('class') or ''} {attrs.get('role') or ''}".lower()
    has_marker = bool(marker.strip())
    for name, pattern, tags in _RULES:
        if tag in tags or (has_marker and pattern.search(marker)):
            return name
    return None


def _region_of(node: LexborNode, cache: dict[int, str | None]) -> str:
    """The region of the innermost ancestor of ``node`` that names one; "body" when none does."""
    seen: list[int] = []
    region: str | None = None
    parent = node.parent
    while parent is not None and parent.is_element_node:
        key = parent.mem_id
        if key in cache:
            region = cache[key]
            break
        seen.append(key)
        region = _own_region(parent)
        if region is not None:
            break
        parent = parent.parent
    for key in seen:  # every element passed on the way up lies inside the same region
        cache[key] = region
    return region or "body"


def _text(node: LexborNode) -> str:
    """Visible text of a node (script and style left out), spaced around blocks."""
    tag = node.tag
    if tag == "-text":
        return node.text_content or ""
    if tag in _SKIP_TEXT or not node.is_element_node:
        return ""
    if node.css_first("script, style, template") is None:
        text = node.text(deep=True, separator=" ")
    else:
        text = "".join(_text(child) for child in node.iter(include_text=True))
    return f" {text} " if tag in _BLOCK else text


def _context(anchor: LexborNode, *, before: bool) -> str:
    """About :data:`CONTEXT_CHARS` characters of page text just before (or after) ``anchor``."""
    parts: list[str] = []
    size = 0
    node: LexborNode | None = anchor
    while node is not None and node.tag not in ("body", "html") and size < 2 * CONTEXT_CHARS:
        sibling = node.prev if before else node.next
        while sibling is not None and size < 2 * CONTEXT_CHARS:
            text = _text(sibling)
            parts.append(text)
            size += len(text)
            sibling = sibling.prev if before else sibling.next
        node = node.parent
        if node is not None and node.tag in _BLOCK:
            break  # context stays within the block (paragraph, list item, cell) that holds the link
    if before:
        text = _collapse("".join(reversed(parts)))
        if len(text) > CONTEXT_CHARS:  # cut at a word boundary, not inside a word
            text = text[-CONTEXT_CHARS:]
            text = text.split(" ", 1)[1] if " " in text else text
        return text
    text = _collapse("".join(parts))
    if len(text) > CONTEXT_CHARS:
        text = text[:CONTEXT_CHARS]
        text = text.rsplit(" ", 1)[0] if " " in text else text
    return text


def _collapse(text: str) -> str:
    """Runs of white space as one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


def _absolute_host(href: str) -> str | None:
    """Lower-case host of an absolute http(s) href; None when relative; "" for other schemes."""
    if href.startswith("//"):
        start = 2
    elif href.startswith(("http://", "https://", "HTTP://", "HTTPS://")) or href[:8].lower().startswith(
            ("http://", "https://")):
        start = href.index("//") + 2
    elif _SCHEME.match(href):
        return ""
    else:
        return None
    end = len(href)
    for stop in "/?#\\":
        if (found := href.find(stop, start, end)) != -1:
            end = found
    host = href[start:end].rpartition("@")[2]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.split(":", 1)[0].lower().strip(".")


def _host(url: str) -> str | None:
    """Host of an absolute URL."""
    return _absolute_host(url) or None


@lru_cache(maxsize=100_000)
def registered_domain(host: str) -> str:
    """The registered domain of a host (the host itself for IP addresses and bare names)."""
    return split_host(host).registered_domain or host

