"""Google disavow files: parse, validate line by line, and merge without losing anything.

Google's rules: plain text, UTF-8 (or 7-bit ASCII); one URL or ``domain:example.com`` per line;
``#`` comments; at most 100,000 lines (blank and comment lines count) and 2 MB; URLs at most 2,048
characters; ``domain:`` takes no scheme, path or wildcard. An upload *replaces* the previous file,
so :func:`merge` keeps every existing line, in order, and only appends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DisavowError
from .safeio import decode_text
from .urls import (
    URLError,
    host_table,
    normalize_host,
    normalize_url,
    platforms,
    site_entries,
    split_hosts,
    under_sites,
)

MAX_LINES = 100_000
MAX_BYTES = 2 * 1024 * 1024
MAX_URL = 2048


@dataclass(frozen=True)
class Line:
    """One line of a disavow file."""

    number: int
    raw: str
    kind: str  # comment | blank | domain | url | invalid
    value: str = ""  # normalised domain or URL
    error: str = ""


def parse_line(number: int, raw: str) -> Line:
    """Classify and check one line."""
    text = raw.strip()
    if not text:
        return Line(number, raw, "blank")
    if text.startswith("#"):
        return Line(number, raw, "comment")
    if "\x00" in text:
        return Line(number, raw, "invalid", error="holds a NUL byte")
    if text.lower().startswith("domain:"):
        value = text[len("domain:"):].strip()
        if not value:
            return Line(number, raw, "invalid", error="domain: needs a domain name")
        if "://" in value:
            return Line(number, raw, "invalid", error="domain: takes no scheme (write domain:example.com)")
        if "/" in value:
            return Line(number, raw, "invalid", error="domain: takes no path (write domain:example.com)")
        if "*" in value:
            return Line(number, raw, "invalid", error="domain: takes no wildcard; it already covers subdomains")
        try:
            host = normalize_host(value)
        except URLError as exc:
            return Line(number, raw, "invalid", error=str(exc))
        return Line(number, raw, "domain", host)
    if len(text) > MAX_URL:
        return Line(number, raw, "invalid", error=f"URL is {len(text):,} characters long (limit {MAX_URL:,})")
    if "://" not in text:
        return Line(number, raw, "invalid",
                    error="not a URL or domain: line; write a full URL (https://…) or domain:example.com")
    try:
        return Line(number, raw, "url", normalize_url(text))
    except URLError as exc:
        return Line(number, raw, "invalid", error=str(exc))


def parse(text: str) -> list[Line]:
    """All lines of a disavow file's text."""
    return [parse_line(i, raw) for i, raw in enumerate(text.splitlines(), start=1)]


def read(path: str | Path) -> tuple[list[Line], list[str]]:
    """Read a disavow file: its lines, and problems with the file as a whole."""
    path = Path(path)
    if path.is_dir():
        raise DisavowError(f"{path}: is a folder, not a disavow file")
    if not path.is_file():
        raise DisavowError(f"{path}: no such disavow file")
    try:
        text, encoding, bad_line = decode_text(path.read_bytes())
    except ValueError:
        raise DisavowError(f"{path}: binary file, not a disavow text file") from None
    problems = []
    if encoding.startswith("utf-16"):  # Windows Notepad's "Unicode": readable, but not what Google reads
        problems.append(f"{path}: line 1: UTF-16 text; Google reads disavow files as UTF-8 or 7-bit ASCII: "
                        "save it as UTF-8 before uploading")
    elif bad_line:
        problems.append(f"{path}: line {bad_line}: not UTF-8 (Google accepts UTF-8 or 7-bit ASCII); "
                        "read as Windows-1252")
    return parse(text), problems


def validate(path: str | Path) -> list[str]:
    """Every rule a disavow file breaks, as ``file: line N: message``; empty when valid."""
    lines, problems = read(path)
    size = Path(path).stat().st_size
    if size > MAX_BYTES:
        problems.append(f"{path}: file is {size:,} bytes (limit {MAX_BYTES:,})")
    if len(lines) > MAX_LINES:
        problems.append(f"{path}: file has {len(lines):,} lines (limit {MAX_LINES:,}, comments and blanks count)")
    seen: dict[str, int] = {}
    domains = {ln.value: ln.number for ln in lines if ln.kind == "domain"}
    for ln in lines:
        if ln.kind == "invalid":
            problems.append(f"{path}: line {ln.number}: {ln.error}: {ln.raw.strip()[:100]!r}")
        elif ln.kind in ("domain", "url"):
            key = f"{ln.kind}:{ln.value}"
            if key in seen:
                problems.append(f"{path}: line {ln.number}: duplicate of line {seen[key]} (allowed, but redundant)")
            seen.setdefault(key, ln.number)
            if ln.kind == "url":
                covering = covered_by(ln.value, domains)
                if covering:
                    problems.append(f"{path}: line {ln.number}: already covered by domain:{covering} "
                                    f"on line {domains[covering]} (allowed, but redundant)")
    return problems


def covered_by(url_or_host: str, domains: set[str] | dict[str, object]) -> str | None:
    """The ``domain:`` entry (if any) in ``domains`` that covers a URL or host."""
    host = url_or_host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    labels = host.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in domains:
            return candidate
    return None


@dataclass
class Recommendation:
    """What to add: whole sites and single URLs, each with a one-line reason."""

    domains: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


@dataclass
class Merged:
    """The merged file's lines and what changed."""

    lines: list[str]
    added_domains: list[str]
    added_urls: list[str]
    kept: int
    marked: list[str]
    notes: list[str]
    left_out: list[str] = field(default_factory=list)  # entries that did not fit Google's limits

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def merge(existing: list[Line], rec: Recommendation, *, allow: Iterable[str] = (),
          today: dt.date | None = None, comments: bool = True) -> Merged:
    """Keep every existing line, mark redundant ones, append new entries in a dated section.

    Never writes a ``domain:`` line for an allowlisted site or a whole hosting platform; collapses
    URLs into domains (and drops per-entry comments) rather than exceed Google's limits.
    """
    today = today or dt.date.today()
    allow_set = site_entries(allow)
    existing_domains = {ln.value: ln.number for ln in existing if ln.kind == "domain"}
    existing_urls = {ln.value for ln in existing if ln.kind == "url"}
    out: list[str] = []
    marked: list[str] = []
    seen: dict[str, int] = {}
    for ln in existing:
        if ln.kind in ("domain", "url"):
            key = f"{ln.kind}:{ln.value}"
            note = ""
            if key in seen:
                note = f"duplicate of line {seen[key]}"
            elif ln.kind == "url" and (cover := covered_by(ln.value, existing_domains)):
                note = f"covered by domain:{cover}"
            seen.setdefault(key, ln.number)
            if note:
                out.append(f"# toxiclinks: next line is redundant ({note}); kept as it was")
                marked.append(f"line {ln.number}: {note}")
        elif ln.kind == "invalid":
            out.append(f"# toxiclinks: next line is invalid ({ln.error}); kept as it was")
            marked.append(f"line {ln.number}: invalid: {ln.error}")
        out.append(ln.raw.rstrip("\r\n"))
    notes: list[str] = []
    new_domains = {}
    hosts = host_table(site.lower() for site in rec.domains)
    hosts.update(host_table(parts.site for parts in hosts.values()))
    for site, reason in rec.domains.items():
        site = site.lower()
        if under_sites(site, allow_set):
            notes.append(f"{site}: allowlisted, not disavowed")
            continue
        parts = hosts[site]
        if not parts.platform and parts.registered_domain != site and parts.site != site:
            site = parts.site
        if hosts[site].platform == site:
            notes.append(f"{site}: a hosting platform, never disavowed whole; its URLs are listed instead")
            continue
        if covered_by(site, existing_domains) or site in new_domains:
            continue
        new_domains[site] = reason
    new_urls = {}
    for url, reason in rec.urls.items():
        host = url.split("://", 1)[-1].split("/", 1)[0]
        if under_sites(host, allow_set):
            continue
        if url in existing_urls or covered_by(url, existing_domains) or covered_by(url, new_domains):
            continue
        new_urls[url] = reason
    budget_lines = MAX_LINES - len(out) - 3
    body = _section(new_domains, new_urls, comments)
    if len(body) > budget_lines or _size(out + body) > MAX_BYTES:
        notes.append("the file would exceed Google's limits with one comment per entry; comments dropped")
        body = _section(new_domains, new_urls, False)
    if len(body) > budget_lines or _size(out + body) > MAX_BYTES:
        url_sites = _sites_of_urls(new_urls)
        collapsed = sorted(set(url_sites.values()))
        notes.append(f"still over the limits: {len(new_urls):,} URLs collapsed into "
                     f"{len(collapsed):,} domain: entries")
        platform = dict(zip(collapsed, platforms(collapsed), strict=True))
        for site in collapsed:
            if not under_sites(site, allow_set) and not platform[site]:
                new_domains.setdefault(site, "collapsed from URLs")
        new_urls = {u: r for u, r in new_urls.items() if platform[url_sites[u]]}
        body = _section(new_domains, new_urls, False)
    left_out: list[str] = []
    if len(body) > budget_lines or _size(out + body) > MAX_BYTES:
        # Keep the most toxic sites (the recommendation lists them first) that still fit.
        room_lines = max(budget_lines - len(new_urls), 0)
        room_bytes = MAX_BYTES - _size(out) - _size(list(new_urls)) - 200
        kept: dict[str, str] = {}
        for site, reason in new_domains.items():
            room_lines, room_bytes = room_lines - 1, room_bytes - len(f"domain:{site}".encode()) - 1
            if room_lines < 0 or room_bytes < 0:
                break
            kept[site] = reason
        left_out = [f"domain:{site}" for site in new_domains if site not in kept]
        new_domains = kept
        notes.append(f"{len(left_out):,} new domain: entries do not fit beside the {len(out):,} existing lines "
                     "within Google's limits (100,000 lines, 2 MB); the most toxic that fit were added, "
                     "the rest are listed separately")
        body = _section(new_domains, new_urls, False)
    if body:
        out += ["", f"# Added by toxiclinks on {today.isoformat()}: {len(new_domains):,} domains, "
                f"{len(new_urls):,} URLs. Review before uploading."] + body
    return Merged(out, list(new_domains), list(new_urls), sum(ln.kind in ("domain", "url") for ln in existing),
                  marked, notes, left_out)


def _section(domains: dict[str, str], urls: dict[str, str], comments: bool) -> list[str]:
    """The appended lines, with one comment per entry when ``comments``."""
    lines: list[str] = []
    for site, reason in sorted(domains.items()):
        if comments and reason:
            lines.append(f"# {_one_line(reason)}")
        lines.append(f"domain:{site}")
    for url, reason in sorted(urls.items()):
        if comments and reason:
            lines.append(f"# {_one_line(reason)}")
        lines.append(url)
    return lines


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _size(lines: list[str]) -> int:
    return sum(len(s.encode("utf-8")) + 1 for s in lines)


def _sites_of_urls(urls: Iterable[str]) -> dict[str, str]:
    """The site of each URL (distinct hosts split in one vectorised call)."""
    host = {u: u.split("://", 1)[-1].split("/", 1)[0] for u in urls}
    distinct = list(dict.fromkeys(host.values()))
    site = dict(zip(distinct, split_hosts(distinct)["site"], strict=True))
    return {u: site[h] for u, h in host.items()}
