"""Merging recommendations into an existing disavow file without losing anything.

An upload *replaces* the previous file, so :func:`merge` keeps every existing line, in order, and
only appends; what it cannot keep as it was (an invalid line) it keeps as a comment, and what
cannot fit within Google's limits it lists in an overflow file instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..safeio import UNSAFE_CHARACTERS, escape_unsafe
from ..urls import (
    host_of,
    platforms,
    site_entries,
    split_hosts,
    under_sites,
)
from . import _disavow as limits  # Google's limits, read at each call
from ._disavow import MARK, OVERFLOW_FILE, Line, covered_by

#: The comment that opens the section of entries merge() adds, and the pattern that finds it again
#: (day, domains, URLs) in a file merge() wrote.
SECTION_HEADER = "# Added by toxiclinks on {day}: {domains:,} domains, {urls:,} URLs. Review before uploading."
SECTION_PATTERN = re.compile(r"# Added by toxiclinks on (\d{4}-\d{2}-\d{2}): ([\d,]+) domains, ([\d,]+) URLs\. "
                             r"Review before uploading\.")
#: The starts of toxiclinks' own comments: above a redundant existing line, the note about what went to
#: the overflow file, and (in that file) the heading of the new entries that did not fit.
REDUNDANT_MARK = MARK + "next line is redundant"
OVERFLOW_NOTICE = MARK + "what did not fit"
OVERFLOW_NEW = MARK + "recommended entries that did not fit"


@dataclass
class Recommendation:
    """What to add: whole sites and single URLs, each with a one-line reason."""

    domains: dict[str, str] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


@dataclass
class Merged:
    """The merged file's lines, what did not fit in it, and what changed."""

    lines: list[str]
    added_domains: list[str]
    added_urls: list[str]
    kept: int  # entries (domain: and URL lines) of the existing file
    marked: list[str]
    notes: list[str]
    left_out: list[str] = field(default_factory=list)  # new entries that did not fit, most toxic first
    overflow: list[str] = field(default_factory=list)  # the overflow file's lines; empty when all fit
    moved: int = 0  # lines of the existing file that are in the overflow file instead
    overflow_name: str = OVERFLOW_FILE

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    @property
    def overflow_text(self) -> str:
        """The overflow file (see :data:`OVERFLOW_FILE`); empty when everything fit."""
        return "\n".join(self.overflow) + "\n" if self.overflow else ""

    @property
    def full(self) -> str:
        """One line saying what did not fit in the file, or "" when everything did."""
        if not self.overflow:
            return ""
        parts = [_count(self.moved, "line") + " of the existing file"] if self.moved else []
        parts += [_count(len(self.left_out), "recommended entry", "recommended entries")] if self.left_out else []
        return (f"the disavow file is full (Google's limits: {limits.MAX_LINES:,} lines, 2 MB): {' and '.join(parts)} "
                f"did not fit and are in {self.overflow_name}; decide what to leave out before uploading")


# What goes into the file first when not everything fits (lower first): the existing file's
# entries (it is what Google applies today), its comments and blank lines; then new proposals
# (:class:`_New`: domains, then URLs).
_OLD_DOMAIN, _OLD_URL, _OLD_NOTE = range(3)


@dataclass(slots=True)
class _Unit:
    """Lines of the existing file that go into the file together (an entry and the comment that
    belongs to it)."""

    rank: int
    order: int
    lines: list[str]
    mark: str = ""  # a comment of toxiclinks about the entry, the first to go when space is short
    redundant: bool = False
    source_line: int = 0  # its line in the existing file


def merge(existing: list[Line], rec: Recommendation, *, allow: Iterable[str] = (),
          today: dt.date | None = None, comments: bool = True, max_lines: int | None = None,
          max_bytes: int | None = None, source: str = "the existing file", overflow_name: str = OVERFLOW_FILE,
          ) -> Merged:
    """Keep every existing line, mark redundant ones, append new entries in a dated section.

    An invalid existing line is kept as a comment (escaped where it holds a line-breaking
    character), a ``domain:`` line with a scheme, path or port is repaired to its host beside a
    comment quoting it. Never writes a ``domain:`` line for an allowlisted site or a whole hosting
    platform.

    Google's limits (``max_lines``, ``max_bytes``; :data:`~toxiclinks.audit.MAX_LINES` and :data:`~toxiclinks.audit.MAX_BYTES` unless
    given) are kept by, in turn: dropping per-entry
    comments, dropping the marks on redundant lines, moving redundant existing lines (duplicates,
    URLs a ``domain:`` line covers) to the overflow file, collapsing new URLs into domains. If the
    file still does not fit, it is filled in this order until the first line that does not fit,
    and everything from there on goes to the overflow file (:attr:`Merged.overflow`): the existing
    file's ``domain:`` lines, its URLs, its comments and blank lines, then new ``domain:`` entries
    (most toxic first), then new URLs. Every existing line is in one of the two files.
    """
    today = today or dt.date.today()
    max_lines = limits.MAX_LINES if max_lines is None else max_lines
    max_bytes = limits.MAX_BYTES if max_bytes is None else max_bytes
    source = escape_unsafe(source) if UNSAFE_CHARACTERS.search(source) else source
    allow_set = site_entries(allow)
    units, marked = _existing_units(existing)
    existing_domains = {ln.value for ln in existing if ln.kind == "domain"} | {
        ln.repair for ln in existing if ln.repair}
    existing_urls = {ln.value for ln in existing if ln.kind == "url"}
    notes: list[str] = []
    new_domains = {}
    site_of, registered_of, platform_of = _host_parts(site.lower() for site in rec.domains)
    for site, reason in rec.domains.items():
        site = site.lower()
        if allow_set and under_sites(site, allow_set):
            notes.append(f"{site}: allowlisted, not disavowed")
            continue
        if not platform_of[site] and registered_of[site] != site and site_of[site] != site:
            site = site_of[site]
        if platform_of[site] == site:
            notes.append(f"{site}: a hosting platform, never disavowed whole; its URLs are listed instead")
            continue
        if site.startswith("["):  # an IPv6 address: no domain: line can name it
            notes.append(f"{site}: an IPv6 address, which a domain: line cannot name; its URLs are listed instead")
            continue
        if (existing_domains and covered_by(site, existing_domains)) or site in new_domains:
            continue
        new_domains[site] = reason
    new_urls = {}
    host_of_url = {}
    covered: dict[str, bool] = {}  # by a new domain: entry, per host (a URL is covered as its host is)
    for url, reason in rec.urls.items():
        host = host_of(url)
        if allow_set and under_sites(host, allow_set):
            continue
        if url in existing_urls or (existing_domains and covered_by(url, existing_domains)):
            continue
        if host not in covered:
            covered[host] = bool(covered_by(host, new_domains))
        if covered[host]:
            continue
        new_urls[url] = reason
        host_of_url[url] = host

    fit = _Fit(max_lines, max_bytes, today)
    # More new entries than lines allowed: no layout with a comment per entry can fit.
    hopeless = len(new_domains) + len(new_urls) > max_lines
    new = _New.of(new_domains, new_urls, comments and not hopeless)
    # Whether the file fits as it stands, computed again after each change below.
    fits = fit.fits(units, new)
    if comments and (new_domains or new_urls) and (hopeless or not fits):
        notes.append("the file would exceed Google's limits with one comment per entry; comments dropped")
        if not hopeless:
            new = _New.of(new_domains, new_urls, False)
            fits = fit.fits(units, new)
    if not fits and any(u.mark for u in units):
        notes.append("the file would exceed Google's limits with a comment on each redundant line; "
                     "those comments dropped")
        fit.marks = False
        fits = fit.fits(units, new)
    moved: list[_Unit] = []
    if not fits and any(u.redundant for u in units):
        moved = [u for u in units if u.redundant]
        units = [u for u in units if not u.redundant]
        notes.append(f"still over Google's limits: {_count(len(moved), 'redundant line')} of {source} (duplicates, "
                     f"entries a domain: line covers) moved to {overflow_name}")
        fits = fit.fits(units, new)
    if not fits and new_urls:
        url_sites = _sites_of_urls(host_of_url)
        collapsed = sorted(set(url_sites.values()))
        notes.append(f"still over the limits: {len(new_urls):,} URLs collapsed into "
                     f"{len(collapsed):,} domain: entries")
        # A hosting platform, or an IPv6 address (no domain: line can name one), keeps its URLs.
        platform = {site: bool(p) or site.startswith("[")
                    for site, p in zip(collapsed, platforms(collapsed), strict=True)}
        for site in collapsed:
            if not under_sites(site, allow_set) and not platform[site]:
                new_domains.setdefault(site, "collapsed from URLs")
        new_urls = {u: r for u, r in new_urls.items() if platform[url_sites[u]]}
        new = _New.of(new_domains, new_urls, False)
        fits = fit.fits(units, new)
    if not fits:
        units, cut = fit.fill(units, new)
        moved += cut
    left_out = new.entries[new.taken:]
    added_domains = [entry[len("domain:"):] for entry in new.entries[:new.kept_domains]]
    added_urls = new.entries[new.domains:new.taken]
    if left_out:
        notes.append(f"{_count(len(left_out), 'new entry', 'new entries')} do not fit beside the existing lines "
                     f"within Google's limits ({max_lines:,} lines, {max_bytes:,} bytes); the most toxic that fit "
                     f"were added, the rest are listed in {overflow_name}")
    if moved and any(u.source_line for u in moved):
        old = sum(1 for u in moved if u.source_line)
        notes.append(f"{_count(old, 'line')} of {source} do not fit within Google's limits with the rest; "
                     f"they are in {overflow_name}, in their order")
    lines = fit.lines(units, new)
    overflow = _overflow(moved, left_out, source, today) if moved or left_out else []
    if overflow:
        notice = f"{OVERFLOW_NOTICE} within Google's limits is in {overflow_name}"
        if fit.room(lines, [notice]):
            lines.append(notice)
    return Merged(lines, added_domains, added_urls, sum(ln.kind in ("domain", "url") for ln in existing),
                  marked, notes, left_out, overflow, sum(1 for u in moved if u.source_line), overflow_name)


def _existing_units(existing: list[Line]) -> tuple[list[_Unit], list[str]]:
    """The existing file as units in its order, repaired or commented where needed, and the
    ``line N: …`` notes on what was marked."""
    units: list[_Unit] = []
    marked: list[str] = []
    seen: dict[str, int] = {}
    domains: dict[str, int] = {}
    for ln in existing:  # domain: lines anywhere in the file cover URLs before them too
        host = ln.value if ln.kind == "domain" else ln.repair
        if host:
            domains.setdefault(host, ln.number)
    for order, ln in enumerate(existing):
        unit = _Unit(_OLD_NOTE, order, [ln.raw], source_line=ln.number)
        entry = ""
        if ln.kind in ("domain", "url"):
            unit.rank, entry = (_OLD_DOMAIN if ln.kind == "domain" else _OLD_URL), f"{ln.kind}:{ln.value}"
        elif ln.kind == "invalid" and ln.repair:
            unit.rank, entry = _OLD_DOMAIN, f"domain:{ln.repair}"
            unit.lines = [f"{MARK}line {ln.number} repaired on the next line ({ln.error}); it read: {ln.raw}",
                          f"domain:{ln.repair}"]
            marked.append(f"line {ln.number}: repaired to domain:{ln.repair} ({ln.error})")
        elif ln.kind == "invalid":
            shown = escape_unsafe(ln.raw) if UNSAFE_CHARACTERS.search(ln.raw) else ln.raw
            how = "kept as a comment" + (", \\-escaped" if shown != ln.raw else "")
            unit.lines = [f"{MARK}invalid line {ln.number} ({ln.error}), {how}: {shown}"]
            marked.append(f"line {ln.number}: invalid: {ln.error}; kept as a comment")
        if entry:
            note = ""
            if entry in seen:
                note = f"duplicate of line {seen[entry]}"
            elif (cover := _covering(entry, domains)):
                note = f"covered by domain:{cover} on line {domains[cover]}"
            seen.setdefault(entry, ln.number)
            if note:
                unit.redundant = True
                unit.mark = f"{REDUNDANT_MARK} ({note}); kept as it was"
                marked.append(f"line {ln.number}: {note}")
        units.append(unit)
    return units, marked


def _covering(entry: str, domains: dict[str, int]) -> str | None:
    """The ``domain:`` entry that covers an entry (``url:…`` or ``domain:…``) other than itself."""
    kind, value = entry.split(":", 1)
    if kind == "url":
        return covered_by(value, domains)
    parent = value.split(".", 1)[1] if value.count(".") > 1 else ""
    return covered_by(parent, domains) if parent else None


@dataclass
class _New:
    """The new entries in recommendation order (most toxic first): ``domain:`` lines, then URLs.

    The file is filled in this order, so the entries that fit are always the first ``taken``.
    Kept as plain lists (no object per entry): there can be hundreds of thousands.
    """

    entries: list[str]
    domains: int  # how many of ``entries`` (the first ones) are domain: lines
    comments: list[str] | None  # per entry, its comment line ("" for none); None when comments are dropped
    taken: int  # how many fit in the file (all, unless :meth:`_Fit.fill` says otherwise)

    @classmethod
    def of(cls, domains: dict[str, str], urls: dict[str, str], comments: bool) -> _New:
        """New domains and URLs with their reasons, as entries (with a comment each when asked)."""
        entries = [*("domain:" + site for site in domains), *urls]
        notes = None
        if comments:
            notes = ["# " + _one_line(reason) if reason else "" for reason in (*domains.values(), *urls.values())]
        return cls(entries, len(domains), notes, len(entries))

    @property
    def kept_domains(self) -> int:
        """How many ``domain:`` entries fit."""
        return min(self.taken, self.domains)

    def lines(self, ordered: bool) -> list[str]:
        """The lines of the entries that fit: domains, then URLs, each sorted (as they are when not ``ordered``)."""
        out: list[str] = []
        for picks in (range(self.kept_domains), range(self.domains, max(self.taken, self.domains))):
            if self.comments is None:
                chosen = self.entries[picks.start:picks.stop]
                out += sorted(chosen) if ordered else chosen
                continue
            for i in sorted(picks, key=self.entries.__getitem__) if ordered else picks:
                out += [self.comments[i], self.entries[i]] if self.comments[i] else [self.entries[i]]
        return out

    def costs(self) -> tuple[np.ndarray, list[str]]:
        """Per entry, its lines in the file and their text joined by line breaks."""
        if self.comments is None:
            return np.ones(len(self.entries), dtype=np.int64), self.entries
        lines = np.array([2 if c else 1 for c in self.comments], dtype=np.int64)
        return lines, [f"{c}\n{e}" if c else e for c, e in zip(self.comments, self.entries, strict=True)]


@dataclass
class _Fit:
    """Laying out the merged file within the limits."""

    max_lines: int
    max_bytes: int
    today: dt.date
    marks: bool = True  # whether redundant existing lines get toxiclinks' comment

    def lines(self, units: list[_Unit], new: _New, ordered: bool = True) -> list[str]:
        """The file: existing units in their order, then the dated section of the new entries that
        fit, domains then URLs, each sorted (left unsorted when only counted)."""
        out = [line for u in units for line in self._lines(u)]
        if new.taken:
            out += ["", self.header(new.kept_domains, new.taken - new.kept_domains)]
            out += new.lines(ordered)
        return out

    def _lines(self, unit: _Unit) -> list[str]:
        """A unit's lines in the file, with its mark when marks are kept."""
        return [unit.mark, *unit.lines] if self.marks and unit.mark else unit.lines

    def header(self, domains: int, urls: int) -> str:
        """The comment that opens the section of new entries."""
        return SECTION_HEADER.format(day=self.today.isoformat(), domains=domains, urls=urls)

    def fits(self, units: list[_Unit], new: _New) -> bool:
        """Whether the whole file fits."""
        return self.room([], self.lines(units, new, ordered=False))

    def room(self, lines: list[str], more: list[str]) -> bool:
        """Whether ``more`` lines fit after ``lines``."""
        return len(lines) + len(more) <= self.max_lines and _size(lines) + _size(more) <= self.max_bytes

    def fill(self, units: list[_Unit], new: _New) -> tuple[list[_Unit], list[_Unit]]:
        """Take units in order of importance, then the new entries, up to the first that does not
        fit; sets how many new entries are taken. Returns the existing units kept and those that are not."""
        ordered = sorted(units, key=lambda u: (u.rank, u.order))
        unit_lines = [self._lines(u) for u in ordered]
        new_lines, new_texts = new.costs()
        cost_lines = np.concatenate([np.fromiter(map(len, unit_lines), dtype=np.int64, count=len(ordered)),
                                     new_lines])
        # Bytes as UTF-8 with a line break after each line (a unit has at least one line).
        texts = pa.array(["\n".join(lines) for lines in unit_lines] + new_texts, type=pa.large_string())
        cost_bytes = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        if new.entries:  # the first new entry brings the section's header
            cost_lines[len(ordered)] += 2
            cost_bytes[len(ordered)] += _size(["", self.header(len(new.entries), len(new.entries))])
        over = (np.cumsum(cost_lines) > self.max_lines) | (np.cumsum(cost_bytes) > self.max_bytes)
        cut = int(np.argmax(over)) if over.any() else len(over)
        new.taken = max(cut - len(ordered), 0)
        taken = {id(u) for u in ordered[:cut]}
        return [u for u in units if id(u) in taken], [u for u in units if id(u) not in taken]


def _overflow(moved: list[_Unit], left_out: list[str], source: str, today: dt.date) -> list[str]:
    """The overflow file: the existing lines that are not in the disavow file (with their line
    numbers where a run of them starts), then the new entries that did not fit."""
    out = [f"{OVERFLOW_NOTICE} in the disavow file within Google's limits "
           f"({limits.MAX_LINES:,} lines, 2 MB), {today.isoformat()}.",
           f"{MARK}together with the disavow file it holds every line of {source} and every recommended entry."]
    previous = -2
    for u in sorted((u for u in moved if u.source_line), key=lambda u: u.order):
        if u.order != previous + 1:
            out.append(f"{MARK}from line {u.source_line:,} of {source}:")
        out += ([u.mark] if u.mark else []) + u.lines
        previous = u.order
    if left_out:
        out.append(f"{OVERFLOW_NEW} (most toxic first):")
        out += left_out
    return out


def _count(n: int, one: str, many: str = "") -> str:
    """``n`` and the word, in the singular or the plural."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _one_line(text: str) -> str:
    """A reason on one safe comment line."""
    text = " ".join(text.split())[:300]
    return escape_unsafe(text) if UNSAFE_CHARACTERS.search(text) else text


def _size(lines: list[str]) -> int:
    """Bytes of ``lines`` written as UTF-8, one line break each."""
    return len("\n".join(lines).encode("utf-8")) + 1 if lines else 0


def _sites_of_urls(hosts: dict[str, str]) -> dict[str, str]:
    """The site of each URL, from its host (:func:`host_of`; distinct hosts split in one vectorised call)."""
    distinct = list(dict.fromkeys(hosts.values()))
    site = dict(zip(distinct, split_hosts(distinct)["site"], strict=True))
    return {u: site[h] for u, h in hosts.items()}


def _host_parts(hosts: Iterable[str]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Site, registered domain and platform of each distinct host and of each of their sites,
    split in vectorised calls (flat dictionaries: no object per host)."""
    tables: dict[str, dict[str, str]] = {"site": {}, "registered_domain": {}, "platform": {}}

    def split(batch: list[str]) -> None:
        if batch:
            parts = split_hosts(batch)
            for name, table in tables.items():
                table.update(zip(batch, parts[name].tolist(), strict=True))

    split(list(dict.fromkeys(hosts)))
    split(list(dict.fromkeys(site for site in tables["site"].values() if site not in tables["site"])))
    return tables["site"], tables["registered_domain"], tables["platform"]
