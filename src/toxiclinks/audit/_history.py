"""Audit history: every audit recorded per target site, and what changed since the previous one.

Under ``$TOXICLINKS_HOME/history``: ``audits.sqlite`` indexes the audits (site, time, links, file)
and each audit's links are one Parquet file in the site's folder, written chunk by chunk in the
audit's own loop: the canonical row of every link (:mod:`toxiclinks.schema`) plus its toxicity
and verdict. A file appears under its name, and in the index, only when the audit has written
all its outputs; an interrupted audit leaves nothing behind.

The next audit of the same site compares itself with the latest recorded one (:func:`compare`):
links new and lost, new toxic links, links that became toxic, referring sites new and lost, and
bursts of new referring sites (by the weeks their links were first seen), a negative-SEO alarm.
The same rows serve the label store: a judgment on a link a recorded audit saw takes that
audit's row (:func:`seen_rows`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import schema
from ..config import home
from ..errors import InputError

#: A burst: more new referring sites in one week than this, and than BURST_FACTOR × the median week.
BURST_MIN_SITES = 20
BURST_FACTOR = 5.0
CHANGE_COLUMNS = ["change", "source_url", "target_url", "source_site", "first_seen", "last_seen", "toxicity",
                  "verdict", "previous_toxicity", "previous_verdict", "burst_week"]
#: Both audits' URL columns are held and hashed in memory to compare them (a 1.2M-link audit
#: against another peaks at 2.4 GB): larger pairs are recorded but not compared.
COMPARE_MAX_LINKS = 5_000_000
_COMPARED = ["source_url", "target_url", "source_site", "first_seen", "last_seen", "toxicity", "verdict"]
_INDEX = """CREATE TABLE IF NOT EXISTS audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, created_at TEXT NOT NULL,
    file TEXT NOT NULL, links INTEGER NOT NULL, out_dir TEXT NOT NULL DEFAULT '',
    exports TEXT NOT NULL DEFAULT '')"""


def history_dir() -> Path:
    """Where audits are recorded (``$TOXICLINKS_HOME/history``)."""
    return home() / "history"


def _index() -> sqlite3.Connection:
    folder = history_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(folder / "audits.sqlite", timeout=30, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        db.execute(_INDEX)
        db.execute("CREATE INDEX IF NOT EXISTS audits_site ON audits (site, id)")
    except sqlite3.DatabaseError as exc:
        raise InputError(f"the audit history cannot be used: {exc}", path=str(folder / "audits.sqlite")) from None
    return db


def _folder_name(site: str) -> str:
    """A safe folder name for a site (normalised hosts already are; anything else is replaced)."""
    return re.sub(r"[^a-z0-9.-]", "_", site.lower())[:200].strip(".") or "_"


def _arrow_schema() -> pa.Schema:
    """The canonical columns as the reader's tables hold them (no conversion), toxicity and verdict."""
    base = pa.Schema.from_pandas(schema.empty_table(), preserve_index=False)
    return pa.schema([*base, pa.field("toxicity", pa.float64()), pa.field("verdict", pa.large_string())])


@dataclass
class Recorded:
    """One recorded audit."""

    id: int
    site: str
    created_at: str
    path: Path
    links: int
    out_dir: str = ""  # where the audit wrote its outputs
    exports: tuple[str, ...] = ()


class Recorder:
    """Records one audit: its links appended chunk by chunk, committed when the audit has succeeded."""

    def __init__(self, site: str, exports: list[str], out_dir: Path) -> None:
        self.site, self.exports, self.out_dir = site, exports, out_dir
        self.created = dt.datetime.now(dt.UTC)
        folder = history_dir() / _folder_name(site)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.created:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.parquet"
        self.path, self.partial = folder / name, folder / f".{name}.partial"
        self.schema = _arrow_schema()
        self.links = 0
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.partial, self.schema, compression="zstd",
                                                                 compression_level=1)
        # Chunks are converted and compressed on a thread of their own (Arrow releases the GIL),
        # one at a time: at most one chunk waits, so memory stays bounded.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="toxiclinks-history")
        self._pending: Future | None = None
        self._done = False

    def add(self, links: pd.DataFrame, toxicity: np.ndarray, verdict: np.ndarray) -> None:
        """Append one scored chunk (its canonical columns, toxicity and verdict)."""
        columns = {name: links[name] for name in schema.COLUMNS}
        table = pd.DataFrame(columns, index=links.index, copy=False)
        table["toxicity"], table["verdict"] = np.asarray(toxicity, dtype=float), np.asarray(verdict, dtype=object)
        if self._pending is not None:
            self._pending.result()
        self._pending = self._thread.submit(self._write, table)
        self.links += len(links)

    def _write(self, table: pd.DataFrame) -> None:
        assert self._writer is not None
        self._writer.write_table(pa.Table.from_pandas(table, schema=self.schema, preserve_index=False))

    def finish(self) -> None:
        """Close the file (still under its temporary name) so that it can be read."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._thread.shutdown()

    def previous(self) -> Recorded | None:
        """The latest audit of the same site recorded before this one, if its file is still there."""
        for audit in recorded(self.site):
            if audit.path.is_file():
                return audit
        return None

    def changes(self) -> Changes | None:
        """What changed since the previous audit of the same site; None for a site's first audit."""
        previous = self.previous()
        if previous is None:
            return None
        if previous.links + self.links > COMPARE_MAX_LINKS:
            raise InputError(f"the two audits hold {previous.links + self.links:,} links, more than the "
                             f"{COMPARE_MAX_LINKS:,} compared in memory (--no-history skips recording)")
        self.finish()
        current = pq.read_table(self.partial, columns=_COMPARED)
        return compare(current, read_previous(previous), previous)

    def commit(self) -> None:
        """Move the file into place and index it."""
        self.finish()
        with open(self.partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(self.partial, self.path)
        db = _index()
        try:
            db.execute("INSERT INTO audits (site, created_at, file, links, out_dir, exports) VALUES (?, ?, ?, ?, ?, ?)",
                       (self.site, self.created.isoformat(timespec="seconds"),
                        str(self.path.relative_to(history_dir())), self.links, str(self.out_dir),
                        "\n".join(self.exports)))
        finally:
            db.close()
        self._done = True

    def discard(self) -> None:
        """Remove the unfinished file (the audit failed or was interrupted)."""
        if self._done:
            return
        with contextlib.suppress(Exception):
            self.finish()
        self._thread.shutdown(wait=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.partial)


def recorded(site: str | None = None) -> list[Recorded]:
    """Recorded audits, newest first (of one site when given)."""
    db = _index()
    try:
        query = "SELECT id, site, created_at, file, links, out_dir, exports FROM audits"
        rows = db.execute(query + (" WHERE site = ?" if site else "") + " ORDER BY id DESC",
                          (site,) if site else ()).fetchall()
    finally:
        db.close()
    return [Recorded(i, s, c, history_dir() / f, n, o, tuple(e.splitlines()))
            for i, s, c, f, n, o, e in rows]


def recorded_links(audit: Recorded) -> pd.DataFrame:
    """A recorded audit's links: the canonical table (:mod:`toxiclinks.schema`) with each link's
    toxicity and verdict, in the audit's order."""
    try:
        frame = pq.read_table(audit.path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"the recorded links of audit {audit.id} cannot be read ({exc})", path=str(audit.path)) from None
    links = schema.conform(frame.drop(columns=["toxicity", "verdict"]))
    links["toxicity"] = frame["toxicity"].to_numpy(float)
    links["verdict"] = frame["verdict"].astype(object).to_numpy()
    return links


@dataclass
class Burst:
    """A week in which many referring sites were first seen."""

    week: dt.date
    sites: int  # referring sites whose first link was first seen that week
    new_sites: int  # of them, sites the previous audit did not have
    toxic_sites: int  # of them, sites with a toxic link
    usual: float  # the median week
    threshold: float

    def text(self) -> str:
        return (f"burst of new referring sites: {self.sites:,} first seen in the week of {self.week:%Y-%m-%d} "
                f"({self.new_sites:,} new since the last audit, {self.toxic_sites:,} with toxic links; a usual "
                f"week has {self.usual:g}, alarm above {self.threshold:g}): possible negative SEO, review them")


@dataclass
class Changes:
    """What changed since the previous audit of the same site."""

    site: str
    previous_at: str
    previous_links: int
    new: int
    lost: int
    new_toxic: int
    became_toxic: int
    new_sites: int
    lost_sites: int
    bursts: list[Burst]
    table: pd.DataFrame  # the rows of changes.csv
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The summary's lines."""
        return [f"  since the last audit of {self.site} ({self.previous_at}, {self.previous_links:,} links): "
                f"{self.new:,} new links ({self.new_toxic:,} toxic), {self.lost:,} lost, {self.became_toxic:,} "
                f"became toxic; referring sites {self.new_sites:,} new, {self.lost_sites:,} lost (changes.csv)",
                *[f"  ALARM: {b.text()}" for b in self.bursts],
                *[f"  note: {n}" for n in self.notes]]


def _keys(table: pa.Table) -> pa.Array:
    """One key per link: source URL, a space, target URL (normalised URLs hold no spaces)."""
    empty = pa.scalar("", pa.large_string())
    src = pc.fill_null(table["source_url"].cast(pa.large_string()), empty)
    tgt = pc.fill_null(table["target_url"].cast(pa.large_string()), empty)
    return pc.binary_join_element_wise(src, tgt, pa.scalar(" ", pa.large_string())).combine_chunks()


def _mask(values) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _codes(current: pa.Array | pa.ChunkedArray, previous: pa.Array | pa.ChunkedArray,
           ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """The same integer for the same value in both (one hash pass in Arrow); nulls get -1. Also
    the values by code (current's first, in order of appearance)."""
    both = pa.chunked_array([*_chunks(current), *_chunks(previous)], pa.large_string()).combine_chunks()
    encoded = both.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.isnan(codes), -1, codes).astype(np.int64) if codes.dtype.kind == "f" else codes.astype(np.int64)
    return codes[: len(current)], codes[len(current):], encoded.dictionary


def _chunks(values: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    values = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    return [c.cast(pa.large_string()) for c in values.chunks]


def _present(codes: np.ndarray, size: int, where: np.ndarray | None = None) -> np.ndarray:
    """A lookup table: True for the codes given (those where ``where`` holds)."""
    table = np.zeros(size + 1, dtype=bool)  # the last slot stands for nulls (-1)
    table[codes if where is None else codes[where]] = True
    table[-1] = False
    return table


def compare(current: pa.Table, previous: pa.Table, previous_audit: Recorded) -> Changes:
    """Links and referring sites new and lost, new toxic links and bursts, current vs previous.

    Links and sites are numbered by one Arrow hash pass over both audits; the set operations are
    then lookups in arrays: a million links against a million take about a second. Only the
    changed rows become pandas rows.
    """
    cur_k, prev_k, keys = _codes(_keys(current), _keys(previous))
    n_keys = len(keys)
    toxic = _mask(pc.equal(current["verdict"], "toxic"))
    was_toxic = _mask(pc.equal(previous["verdict"], "toxic"))
    new = ~_present(prev_k, n_keys)[cur_k]
    lost = ~_present(cur_k, n_keys)[prev_k]
    # became toxic: toxic now, present before, and toxic in none of its earlier rows
    became = toxic & ~new & ~_present(prev_k, n_keys, was_toxic)[cur_k]
    cur_s, prev_s, site_names = _codes(current["source_site"], previous["source_site"])
    n_sites = len(site_names)
    now_sites, then_sites = _present(cur_s, n_sites)[:-1], _present(prev_s, n_sites)[:-1]
    new_sites = now_sites & ~then_sites
    bursts, week_of_site, notes = _bursts(current, cur_s, site_names, new_sites, toxic)
    # the previous toxicity and verdict of links that became toxic (a few rows)
    earlier = _present(cur_k, n_keys, became)[prev_k]
    by_key = pd.DataFrame({"toxicity": previous["toxicity"].filter(pa.array(earlier)).to_pandas(),
                           "verdict": previous["verdict"].filter(pa.array(earlier)).to_pandas()},
                          ).set_axis(prev_k[earlier])
    by_key = by_key[~by_key.index.duplicated(keep="last")]
    table = _change_rows(current, previous, new, lost, became, by_key.reindex(cur_k[became]), week_of_site,
                         {b.week for b in bursts})
    return Changes(previous_audit.site, previous_audit.created_at.replace("T", " ").replace("+00:00", " UTC"),
                   previous_audit.links, int(new.sum()), int(lost.sum()), int((new & toxic).sum()),
                   int(became.sum()), int(new_sites.sum()), int((then_sites & ~now_sites).sum()), bursts, table,
                   notes)


def _bursts(current: pa.Table, site_codes: np.ndarray, site_names: pa.Array, new_sites: np.ndarray,
            toxic: np.ndarray) -> tuple[list[Burst], pd.Series, list[str]]:
    """Weeks with many referring sites first seen (by the first first_seen of each site's links);
    only weeks holding sites new since the previous audit are reported (older bursts were, then).
    Returns the bursts, the week of each referring site (by name) and notes."""
    first = current["first_seen"].to_numpy().astype("datetime64[ns]").view(np.int64)
    nat = np.iinfo(np.int64).min
    known = (site_codes >= 0) & (first != nat)
    if (site_codes >= 0).any() and not known.any():
        return [], pd.Series(dtype=object), ["the export has no first-seen dates: bursts of new referring sites "
                                             "cannot be checked"]
    if not known.any():
        return [], pd.Series(dtype=object), []
    earliest = pd.Series(first[known]).groupby(site_codes[known]).min()  # per site code
    codes = earliest.index.to_numpy()
    week = pd.Series(pd.to_datetime(earliest.to_numpy()).to_period("W-SUN").start_time.date, index=codes)
    counts = week.value_counts()
    weeks = pd.date_range(min(counts.index), max(counts.index), freq="7D").date
    full = counts.reindex(weeks, fill_value=0)
    usual = float(np.median(full.to_numpy()))
    threshold = max(float(BURST_MIN_SITES), BURST_FACTOR * usual)
    site_toxic = np.bincount(site_codes[site_codes >= 0], weights=toxic[site_codes >= 0],
                             minlength=len(site_names)) > 0
    bursts = []
    for when, n in full[full > threshold].items():
        in_week = codes[(week == when).to_numpy()]
        fresh = int(new_sites[in_week].sum())
        if fresh:
            bursts.append(Burst(when, int(n), fresh, int(site_toxic[in_week].sum()), usual, threshold))
    if not bursts:
        return [], pd.Series(dtype=object), []
    # the week of each referring site by name, for the burst_week column of changes.csv
    by_name = pd.Series(week.to_numpy(), index=np.asarray(site_names.take(pa.array(codes)).to_pylist(), dtype=object))
    return bursts, by_name, []


def _change_rows(current: pa.Table, previous: pa.Table, new: np.ndarray, lost: np.ndarray, became: np.ndarray,
                 before: pd.DataFrame, week_of_site: pd.Series, burst_weeks: set) -> pd.DataFrame:
    """changes.csv: new links (most toxic first), links that became toxic, then lost links."""
    def part(table: pa.Table, mask: np.ndarray, change: str) -> pd.DataFrame:
        rows = table.filter(pa.array(mask)).to_pandas()
        out = pd.DataFrame({"change": change, "source_url": rows["source_url"], "target_url": rows["target_url"],
                            "source_site": rows["source_site"], "first_seen": _day(rows["first_seen"]),
                            "last_seen": _day(rows["last_seen"]), "toxicity": rows["toxicity"].astype(float),
                            "verdict": rows["verdict"], "previous_toxicity": np.nan, "previous_verdict": None})
        if change == "became_toxic":
            out["previous_toxicity"] = before["toxicity"].to_numpy(float)
            out["previous_verdict"] = before["verdict"].to_numpy(object)
        if change == "lost":
            out["previous_toxicity"], out["previous_verdict"] = out["toxicity"], out["verdict"]
            out["toxicity"], out["verdict"] = np.nan, None
        if len(week_of_site):
            weeks = out["source_site"].astype(object).map(week_of_site)
            out["burst_week"] = np.where(weeks.isin(burst_weeks), weeks.astype(str), None)
        else:
            out["burst_week"] = None
        order = "previous_toxicity" if change == "lost" else "toxicity"
        return out.sort_values(order, ascending=False, kind="stable", na_position="last")

    parts = [part(current, new, "new"), part(current, became, "became_toxic"), part(previous, lost, "lost")]
    return pd.concat(parts, ignore_index=True)[CHANGE_COLUMNS]


def _day(values: pd.Series) -> pd.Series:
    when = pd.to_datetime(values, errors="coerce")
    return pd.Series(np.where(when.notna(), when.dt.strftime("%Y-%m-%d").to_numpy(object), None), dtype=object,
                     index=values.index)


def read_previous(audit: Recorded) -> pa.Table:
    """The compared columns of a recorded audit's links."""
    try:
        return pq.read_table(audit.path, columns=_COMPARED)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"the recorded audit cannot be read ({exc}); move it away or run with --no-history",
                         path=str(audit.path)) from None


def seen_rows(labels: pd.DataFrame) -> pd.DataFrame:
    """The canonical rows recorded audits hold of the links ``labels`` name (labels format:
    source_url, target_url or missing for every link of the page), newest audit first, one per link."""
    if len(labels) == 0 or not (history_dir() / "audits.sqlite").exists():
        return schema.empty_table()
    pages = set(labels["source_url"].astype(str))
    exact = {(s, t) for s, t in zip(labels["source_url"], labels["target_url"], strict=True) if not pd.isna(t)}
    whole = {s for s, t in zip(labels["source_url"], labels["target_url"], strict=True) if pd.isna(t)}
    found: list[pd.DataFrame] = []
    seen_pairs: set[tuple[str, str]] = set()
    seen_pages: set[str] = set()
    columns = list(schema.COLUMNS)
    for audit in recorded():
        if not audit.path.is_file():
            continue
        try:
            table = pq.read_table(audit.path, columns=columns, filters=[("source_url", "in", list(pages))])
        except (OSError, pa.ArrowException):
            continue  # a damaged record gives no rows; the others still do
        frame = table.to_pandas()
        if not len(frame):
            continue
        src = frame["source_url"].astype(object).to_numpy()
        tgt = frame["target_url"].astype(object).where(frame["target_url"].notna(), None).to_numpy()
        wanted = np.array([(s in whole) or ((s, t) in exact) for s, t in zip(src, tgt, strict=True)], dtype=bool)
        fresh = np.array([(s, t) not in seen_pairs for s, t in zip(src, tgt, strict=True)], dtype=bool)
        keep = wanted & fresh
        if keep.any():
            found.append(frame.loc[keep])
            seen_pairs.update(zip(src[keep], tgt[keep], strict=True))
            seen_pages.update(src[keep])
        if exact <= seen_pairs and whole <= seen_pages:
            break
    if not found:
        return schema.empty_table()
    rows = pd.concat(found, ignore_index=True)
    return schema.conform(rows.drop_duplicates(["source_url", "target_url"], ignore_index=True))
