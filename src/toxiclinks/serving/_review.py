"""What the review page shows and changes: recorded audits, with a person's decisions put over them.

An audit is read back from the history (each link's canonical row, toxicity and verdict) and from
its outputs folder (each link's reasons in ``links.parquet``, the site actions in ``domains.csv``,
the disavow file it wrote). Decisions live in the label store: a judgment per link (a site marked
toxic or natural is a judgment on each of its links in the audit, stored with the link's recorded
row so that retraining can use it) and allow/deny rules, which audits and the service already
read. The verdicts shown and the disavow file offered are the audit's with those decisions on top;
the file is made by the audit's own site decisions and :func:`~toxiclinks.audit.merge`, over the
lines of the file the audit wrote minus the section the audit itself added, so every line of the
file the person already had stays.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schema
from ..audit import (
    MARK,
    MAX_BYTES,
    MAX_LINES,
    OVERFLOW_FILE,
    OVERFLOW_NEW,
    OVERFLOW_NOTICE,
    REDUNDANT_MARK,
    SECTION_PATTERN,
    Line,
    Merged,
    Recorded,
    domain_table,
    merge,
    parse,
    read,
    recommendation,
    recorded,
    recorded_links,
)
from ..errors import DisavowError, InputError
from ..labels import LabelStore
from ..model import ToxicityModel, thresholds
from ..reading import join_labels, referring_site
from ..urls import site_entries, under_sites

_LOG = logging.getLogger(__name__)

_RULE_REASONS = ("on your allowlist", "on your denylist")


class NotFound(InputError):
    """An audit, site or link the request names does not exist."""

    status = 404


class Conflict(InputError):
    """The request cannot be answered in the present state (an audit whose outputs are gone)."""

    status = 409


@dataclass
class Loaded:
    """One recorded audit read back: its links with reasons, and what its outputs say."""

    audit: Recorded
    links: pd.DataFrame  # canonical columns + toxicity, verdict, reasons (as recorded)
    sites: np.ndarray  # the referring site of each link
    actions: dict[str, str]  # the audit's action per site (domains.csv)
    allowlisted: frozenset[str]  # sites the audit kept as allowlisted
    existing: list[Line] | None  # the lines the page's disavow file keeps; None: cannot be rebuilt
    why_not: str = ""  # why the disavow file cannot be rebuilt
    notes: list[str] = field(default_factory=list)


@dataclass
class Decided:
    """An audit's links and sites with the decisions in the label store put over the recorded verdicts."""

    loaded: Loaded
    scored: pd.DataFrame  # toxicity, verdict, reasons per link
    labels: np.ndarray  # 1.0 toxic, 0.0 natural, NaN: no judgment
    domains: pd.DataFrame  # the site table (domain_table) of the decided verdicts
    allow: list[str]
    rule_of_site: dict[str, str]  # allow / deny for sites a rule covers now


def audits() -> list[dict[str, Any]]:
    """Every recorded audit, newest first, as the page lists them."""
    out = []
    for audit in recorded():
        folder = Path(audit.out_dir) if audit.out_dir else None
        out.append({"id": audit.id, "site": audit.site, "created_at": audit.created_at, "links": audit.links,
                    "exports": [Path(e).name for e in audit.exports],
                    "outputs": bool(folder and (folder / "links.parquet").is_file()),
                    "recorded": audit.path.is_file()})
    return out


class Audits:
    """Recorded audits read back, the last few kept in memory until their files change."""

    def __init__(self, keep: int = 3) -> None:
        self._keep = keep
        self._cache: OrderedDict[int, tuple[tuple, Loaded]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, audit_id: int) -> Loaded:
        """The audit of this id (NotFound when no audit of that id is recorded)."""
        every = recorded()
        audit = next((a for a in every if a.id == audit_id), None)
        if audit is None:
            raise NotFound(f"no recorded audit has id {audit_id}")
        if not audit.path.is_file():
            raise NotFound(f"the recorded links of audit {audit_id} are gone ({audit.path.name})")
        later = next((a for a in every if a.id > audit.id and a.out_dir == audit.out_dir), None)
        folder = Path(audit.out_dir) if audit.out_dir else None
        key = (_stamp(audit.path), *(_stamp(folder / n) if folder else 0 for n in
                                     ("links.parquet", "domains.csv", "disavow.txt", OVERFLOW_FILE)),
               later.id if later else 0)
        with self._lock:
            hit = self._cache.get(audit_id)
            if hit is not None and hit[0] == key:
                self._cache.move_to_end(audit_id)
                return hit[1]
        loaded = _load(audit, later)
        with self._lock:
            self._cache[audit_id] = (key, loaded)
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return loaded


def _stamp(path: Path) -> int:
    """A file's modification time, 0 when it is not there."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _load(audit: Recorded, later: Recorded | None) -> Loaded:
    """Read an audit's recorded links and, when they are still this audit's, its outputs."""
    links = recorded_links(audit)
    links["reasons"] = ""
    sites = referring_site(links)
    loaded = Loaded(audit, links, sites, {}, frozenset(), None)
    folder = Path(audit.out_dir) if audit.out_dir else None
    if later is not None:
        loaded.why_not = (f"the outputs folder now holds a later audit's files (audit {later.id}): open that "
                          "audit to build on the disavow file it wrote")
    elif folder is None or not (folder / "links.parquet").is_file():
        loaded.why_not = f"the outputs of this audit are gone ({folder}): its disavow file cannot be rebuilt"
    if loaded.why_not:
        loaded.notes.append(loaded.why_not + "; the reasons of its links are not shown")
        return loaded
    assert folder is not None
    try:
        written = pq.read_table(folder / "links.parquet", columns=["source_url", "target_url", "reasons"]).to_pandas()
    except (OSError, pa.ArrowException, KeyError) as exc:
        raise InputError(f"the audit's links.parquet cannot be read ({exc})", path=str(folder)) from None
    reasons = _reasons_of(links, written)
    if reasons is None:
        loaded.why_not = f"the files in {folder} are not this audit's (they hold other links)"
        loaded.notes.append(loaded.why_not)
        return loaded
    links["reasons"] = reasons
    try:
        table = pd.read_csv(folder / "domains.csv", usecols=["source_site", "action"], dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:  # gone or damaged: the page still works, without the audit's actions
        loaded.notes.append(f"the audit's domains.csv cannot be read ({exc}): its actions are not shown")
    else:
        loaded.actions = dict(zip(table["source_site"], table["action"], strict=True))
        loaded.allowlisted = frozenset(table.loc[table["action"] == "keep (allowlisted)", "source_site"])
    try:
        loaded.existing = _existing_lines(folder, audit, loaded.notes)
    except DisavowError as exc:
        loaded.why_not = f"the audit's disavow file cannot be read ({exc}): it cannot be rebuilt"
        loaded.notes.append(loaded.why_not)
    return loaded


def _reasons_of(links: pd.DataFrame, written: pd.DataFrame) -> np.ndarray | None:
    """Each recorded link's reasons from the links.parquet the audit wrote, matched by position
    when both hold the same links in the same order, else link by link (the n-th row of a link in
    one is its n-th row in the other); None when the two do not hold the same links."""
    if len(written) != len(links):
        return None
    reasons = written["reasons"].astype(object).where(written["reasons"].notna(), "").to_numpy(object)
    if written["source_url"].tolist() == links["source_url"].tolist():
        return reasons
    mine, theirs = _link_keys(links), _link_keys(written)
    position = pd.Series(np.arange(len(theirs)), index=theirs)
    if not position.index.is_unique or set(mine) != set(theirs):
        return None
    return reasons[position.loc[mine].to_numpy()]


def _link_keys(table: pd.DataFrame) -> pd.Index:
    """One key per row: source URL, target URL and the row's rank among the rows of that link."""
    src = table["source_url"].astype(object).fillna("")
    tgt = table["target_url"].astype(object).fillna("")
    rank = pd.DataFrame({"s": src, "t": tgt}).groupby(["s", "t"], sort=False).cumcount()
    return pd.Index(src + " " + tgt + " " + rank.astype(str))


def _existing_lines(folder: Path, audit: Recorded, notes: list[str]) -> list[Line]:
    """The disavow lines the page's file starts from: the audit's disavow.txt without the section
    the audit added (the page decides those entries again), plus the lines of the person's file
    the audit had to move to its overflow file."""
    lines, _ = read(folder / "disavow.txt")
    kept = [ln for i, ln in enumerate(lines)
            if not (ln.raw.startswith(OVERFLOW_NOTICE)
                    or (ln.raw.startswith(REDUNDANT_MARK) and i + 1 < len(lines)
                        and lines[i + 1].kind in ("domain", "url")))]
    kept, found = _without_own_section(kept, audit.created_at)
    if not found and any(ln.kind in ("domain", "url") for ln in kept):
        notes.append("the audit's disavow.txt has no section of its own (it added nothing): decisions add "
                     "entries to it but remove none of its lines")
    overflow = folder / OVERFLOW_FILE
    if overflow.is_file():
        extra, _ = read(overflow)
        moved = []
        for ln in extra:
            if ln.raw.startswith(OVERFLOW_NEW):
                break
            if not ln.raw.startswith(MARK):
                moved.append(ln)
        if moved:
            notes.append(f"{len(moved):,} lines of your disavow file that the audit moved to {OVERFLOW_FILE} "
                         "are merged back in (what does not fit goes to the overflow file again)")
        base = len(lines)
        kept += [dataclasses.replace(ln, number=base + i + 1) for i, ln in enumerate(moved)]
    return kept


def _without_own_section(lines: list[Line], created_at: str) -> tuple[list[Line], bool]:
    """``lines`` without the section merge() added on the audit's day (a blank line, its header,
    then exactly the entries the header counts, each maybe after a one-line comment)."""
    try:
        day = dt.date.fromisoformat(created_at[:10])
    except ValueError:
        return lines, False
    for h in range(len(lines) - 1, 0, -1):
        found = SECTION_PATTERN.fullmatch(lines[h].raw.strip())
        if not found or lines[h - 1].kind != "blank":
            continue
        # The header has the local date of the machine, the index a UTC time: a day either way.
        if abs((dt.date.fromisoformat(found.group(1)) - day).days) > 1:
            return lines, False
        section = lines[h + 1:]
        domains = sum(ln.kind == "domain" for ln in section)
        urls = sum(ln.kind == "url" for ln in section)
        others_ok = all(ln.kind in ("domain", "url", "comment") for ln in section)
        if others_ok and domains == int(found.group(2).replace(",", "")) and urls == int(found.group(3).replace(",", "")):
            return lines[: h - 1], True
        return lines, False
    return lines, False


def decide(loaded: Loaded, store: LabelStore, model: ToxicityModel) -> Decided:
    """The audit's verdicts with the label store's judgments and rules put over them; for links whose
    recorded verdict came from a rule a person has since changed, the verdict is read back from the
    toxicity with ``model``'s thresholds."""
    links = loaded.links
    judgments = store.latest()
    labels = join_labels(links, judgments)
    allowed, denied = store.rules()
    ruled = frozenset(store.site_rules())
    allow_now, deny_now = site_entries(allowed), site_entries(denied)
    # Sites the audit allowlisted (from its --allowlist file or a rule then) stay allowed unless a
    # person has ruled on them since.
    kept_allowed = {s for s in loaded.allowlisted if not under_sites(s, ruled)}
    allow_all = frozenset(allow_now | kept_allowed)
    hosts = links["source_host"].astype(object).where(links["source_host"].notna(), None).to_numpy(object)
    hosts = np.where(pd.isna(hosts), loaded.sites, hosts)
    code, distinct = pd.factorize(pd.Series(hosts, dtype=object))
    is_allowed = np.array([under_sites(h, allow_all) for h in distinct], dtype=bool)[code]
    is_denied = np.array([under_sites(h, deny_now) for h in distinct], dtype=bool)[code] & ~is_allowed
    was_ruled = np.array([under_sites(h, ruled) for h in distinct], dtype=bool)[code]
    toxicity = links["toxicity"].to_numpy(float)
    verdict = links["verdict"].to_numpy(object).copy()
    reasons = links["reasons"].to_numpy(object).copy()
    stale = was_ruled & np.isin(reasons, _RULE_REASONS)
    toxic_at, suspicious_at = (100 * t for t in thresholds(model))
    verdict[stale] = np.where(toxicity[stale] >= toxic_at, "toxic",
                              np.where(toxicity[stale] >= suspicious_at, "suspicious", "ok"))
    reasons[stale] = ""
    verdict[labels == 1], reasons[labels == 1] = "toxic", "you marked it toxic"
    verdict[labels == 0], reasons[labels == 0] = "ok", "you marked it natural"
    verdict[is_denied], reasons[is_denied] = "toxic", "on your denylist"
    verdict[is_allowed], reasons[is_allowed] = "ok", "on your allowlist"
    scored = pd.DataFrame({"toxicity": toxicity, "verdict": verdict, "reasons": reasons}, index=links.index)
    allow = sorted(allow_all)
    domains = domain_table(links, scored, allow)
    site_names = domains["source_site"].astype(str).to_numpy()
    rule_of_site = {}
    for s in site_names:
        if under_sites(s, allow_all):
            rule_of_site[s] = "allow"
        elif under_sites(s, deny_now):
            rule_of_site[s] = "deny"
    return Decided(loaded, scored, labels, domains, allow, rule_of_site)


def summary(decided: Decided) -> dict[str, Any]:
    """An audit's header on the page: what it is, its verdicts, what changed since the audit before it."""
    loaded = decided.loaded
    audit = loaded.audit
    recorded_verdicts = loaded.links["verdict"].value_counts().to_dict()
    now = decided.scored["verdict"].value_counts().to_dict()
    changes = None
    folder = Path(audit.out_dir) if audit.out_dir else None
    table = None
    if folder is not None and not loaded.why_not and (folder / "changes.csv").is_file():
        with contextlib.suppress(OSError, ValueError):  # a damaged changes.csv: no section, the rest is shown
            table = pd.read_csv(folder / "changes.csv", usecols=["change", "verdict", "burst_week"], dtype=str)
    if table is not None:
        new = table["change"] == "new"
        changes = {"new": int(new.sum()), "new_toxic": int((new & (table["verdict"] == "toxic")).sum()),
                   "lost": int((table["change"] == "lost").sum()),
                   "became_toxic": int((table["change"] == "became_toxic").sum()),
                   "burst_weeks": sorted(table["burst_week"].dropna().unique().tolist())}
    labelled = decided.labels[~np.isnan(decided.labels)]
    return {"id": audit.id, "site": audit.site, "created_at": audit.created_at, "links": int(len(loaded.links)),
            "sites": int(len(decided.domains)), "exports": [Path(e).name for e in audit.exports],
            "verdicts": {k: int(v) for k, v in now.items()},
            "recorded_verdicts": {k: int(v) for k, v in recorded_verdicts.items()},
            "labelled": {"toxic": int((labelled == 1).sum()), "natural": int((labelled == 0).sum())},
            "changes": changes, "disavow": not loaded.why_not, "notes": loaded.notes}


def site_rows(decided: Decided, offset: int, limit: int, query: str = "") -> dict[str, Any]:
    """Referring sites by risk (worst toxicity, then links), with the decisions on them."""
    domains = decided.domains
    if query:
        domains = domains[domains["source_site"].astype(str).str.contains(query.lower(), regex=False)]
    return {"total": int(len(domains)), "offset": offset, "sites": _site_dicts(decided, domains.iloc[offset: offset + limit])}


def site_row(decided: Decided, site: str) -> dict[str, Any]:
    """One referring site's row, as :func:`site_rows` gives it."""
    rows = _site_dicts(decided, decided.domains[decided.domains["source_site"] == site])
    if not rows:
        raise NotFound(f"audit {decided.loaded.audit.id} has no links from {site!r}")
    return rows[0]


def _site_dicts(decided: Decided, page: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the site table with the judgments and rules on each site."""
    labels, sites = decided.labels, decided.loaded.sites
    wanted = set(page["source_site"].astype(str))
    in_page = np.isin(sites, list(wanted))
    counts: dict[str, list[int]] = {s: [0, 0] for s in wanted}
    for s, y in zip(sites[in_page], labels[in_page], strict=True):
        if y == 1:
            counts[s][0] += 1
        elif y == 0:
            counts[s][1] += 1
    rows = []
    for r in page.itertuples(index=False):
        site = str(r.source_site)
        rows.append({"site": site, "links": int(r.links), "toxic": int(r.toxic), "suspicious": int(r.suspicious),
                     "unknown": int(r.unknown), "worst_toxicity": float(r.worst_toxicity),
                     "typical_toxicity": float(r.typical_toxicity), "reasons": str(r.reasons), "action": str(r.action),
                     "audit_action": decided.loaded.actions.get(site, ""), "rule": decided.rule_of_site.get(site, ""),
                     "marked_toxic": counts[site][0], "marked_natural": counts[site][1]})
    return rows


def link_rows(decided: Decided, site: str, limit: int) -> dict[str, Any]:
    """The links of one referring site, most toxic first."""
    loaded = decided.loaded
    where = np.flatnonzero(loaded.sites == site)
    if not len(where):
        raise NotFound(f"audit {loaded.audit.id} has no links from {site!r}")
    toxicity = decided.scored["toxicity"].to_numpy(float)[where]
    where = where[np.argsort(-toxicity, kind="stable")][:limit]
    links = loaded.links
    rows = []
    for i in where.tolist():
        label = decided.labels[i]
        rows.append({"source_url": _text(links["source_url"].iat[i]), "target_url": _text(links["target_url"].iat[i]),
                     "anchor": _text(links["anchor"].iat[i]), "title": _text(links["source_title"].iat[i]),
                     "toxicity": float(links["toxicity"].iat[i]), "recorded_verdict": str(links["verdict"].iat[i]),
                     "verdict": str(decided.scored["verdict"].iat[i]), "reasons": str(links["reasons"].iat[i]),
                     "label": "" if np.isnan(label) else ("toxic" if label == 1 else "natural")})
    return {"site": site, "total": int((loaded.sites == site).sum()), "links": rows}


def _text(value: object) -> str | None:
    """A table cell as text, None when missing."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)


def mark_site(loaded: Loaded, store: LabelStore, site: str, action: str, author: str) -> int:
    """Mark every link of a site toxic or natural (judgments with their rows), or set its rule;
    return how many judgments were stored."""
    where = loaded.sites == site
    if not where.any():
        raise NotFound(f"audit {loaded.audit.id} has no links from {site!r}")
    origin = f"review page, audit {loaded.audit.id}"
    if action in ("allow", "deny", "clear"):
        store.set_rule(site, action, author=author, note=origin)
        return 0
    rows = loaded.links.loc[where]
    return _judge(store, rows, action, f"site {site} marked {action}", author, origin)


def mark_link(loaded: Loaded, store: LabelStore, source_url: str, target_url: str | None, action: str,
              author: str) -> int:
    """Mark one link of the audit toxic or natural; return how many judgments were stored."""
    links = loaded.links
    same_source = links["source_url"].astype(object).to_numpy() == source_url
    targets = links["target_url"].astype(object).where(links["target_url"].notna(), None).to_numpy()
    where = same_source & np.array([t == (target_url or None) for t in targets], dtype=bool)
    if not where.any():
        raise NotFound(f"audit {loaded.audit.id} has no link from {source_url!r} to {target_url!r}")
    rows = links.loc[where].head(1)
    return _judge(store, rows, action, "link marked " + action, author, f"review page, audit {loaded.audit.id}")


def _judge(store: LabelStore, rows: pd.DataFrame, action: str, note: str, author: str, origin: str) -> int:
    """Store one judgment per row, and the rows themselves so that retraining can learn from them."""
    judgments = pd.DataFrame({"source_url": rows["source_url"].astype(object).to_numpy(),
                              "target_url": rows["target_url"].astype(object).where(rows["target_url"].notna(), None)
                              .to_numpy(),
                              "label": 1 if action == "toxic" else 0, "note": note})
    judgments = judgments.drop_duplicates(["source_url", "target_url"])
    store.keep_rows(schema.conform(rows.drop_duplicates(["source_url", "target_url"])), origin=origin)
    return store.add(judgments, author=author, origin=origin)


@dataclass
class Disavow:
    """The page's disavow file for an audit, checked against Google's rules."""

    merged: Merged
    notes: list[str]


def disavow(decided: Decided) -> Disavow:
    """The audit's disavow file with the decisions in it: the audit's site decisions and merge."""
    loaded = decided.loaded
    if loaded.existing is None:
        raise Conflict(loaded.why_not or f"audit {loaded.audit.id}'s disavow file cannot be rebuilt")
    rec = recommendation(loaded.links, decided.scored, decided.domains)
    merged = merge(loaded.existing, rec, allow=decided.allow, source=f"the disavow file of audit {loaded.audit.id}")
    problems = _problems(merged.text)
    if problems:  # a bug of ours: no file Google would refuse is ever offered
        _LOG.error("review page: the disavow file of audit %d breaks Google's rules: %s", loaded.audit.id, problems)
        raise Conflict("the disavow file built for this audit breaks Google's rules (" + problems[0] + "); "
                       "nothing is offered: please report this")
    return Disavow(merged, [*loaded.notes, *merged.notes])


def _problems(text: str) -> list[str]:
    """What makes a disavow file's text one Google refuses (invalid lines, over the limits)."""
    lines = parse(text)
    problems = [f"line {ln.number}: {ln.error}" for ln in lines if ln.kind == "invalid"][:5]
    if len(lines) > MAX_LINES:
        problems.append(f"{len(lines):,} lines (limit {MAX_LINES:,})")
    if len(text.encode("utf-8")) > MAX_BYTES:
        problems.append(f"{len(text.encode('utf-8')):,} bytes (limit {MAX_BYTES:,})")
    return problems
