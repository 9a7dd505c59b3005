"""Read backlink exports exactly as the tools write them, into the canonical link table.

``read_export(path)`` detects the container (gzip, zip), the encoding (UTF-8 with or without BOM,
UTF-16 "for Excel", Windows-1252), the delimiter, the header line (skipping Moz's preamble) and the
format, then reads the file in chunks. Rows that cannot be used are never dropped silently: each is
reported in :attr:`ReadResult.rejects` with file, line, column and reason. ``iter_export`` streams
the same chunks for files larger than memory.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from .. import schema
from ..urls import load_suffix_list
from . import _formats as formats
from ._canonical import to_canonical as _to_canonical  # private here: tests swap it
from ._csv import iter_csv
from ._sniff import REJECT_COLUMNS, Detected, detect
from ._stray import MAX_CUT_LINES, StrayQuote
from ._transcode import scan, text_stream
from ._values import ValueStats

CHUNK_ROWS = 100_000
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass
class ReadResult:
    """A whole export read: the canonical table, the rows rejected and what else was noticed."""

    links: pd.DataFrame
    rejects: pd.DataFrame
    detected: Detected
    problems: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows read into the table."""
        return len(self.links)


def read_export(path: str | Path, format: str | None = None) -> ReadResult:
    """Read a whole export into memory. See :func:`iter_export` for streaming."""
    chunks: list[pd.DataFrame] = []
    rejects: list[pd.DataFrame] = []
    problems: list[str] = []
    detected = detect(path, format)
    for links, bad in iter_export(path, format, detected=detected, problems=problems):
        chunks.append(links)
        if len(bad):
            rejects.append(bad)
    links = pd.concat(chunks, ignore_index=True) if chunks else schema.empty_table()
    bad = (pd.concat(rejects, ignore_index=True) if rejects
           else pd.DataFrame(columns=REJECT_COLUMNS))
    return ReadResult(links, bad, detected, problems)


def iter_export(path: str | Path, format: str | None = None, *, chunk_rows: int = CHUNK_ROWS,
                detected: Detected | None = None, problems: list[str] | None = None,
                ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield ``(links, rejects)`` chunk by chunk; memory stays bounded by ``chunk_rows``.

    ``problems`` (if given) collects file-level notes: encoding guesses, unparsable values.
    The CSV parser runs in the calling thread while worker threads turn the chunks already
    parsed into canonical tables (Arrow and the parser release the GIL); chunks come out in
    file order and at most a few are in flight.
    """
    det = detected or detect(path, format)
    problems = problems if problems is not None else []
    problems.extend(det.notes)
    scan(det)
    stats = ValueStats()
    rows_seen = yielded = 0
    cut: dict[int, int] = {}  # data records set aside for a stray quote → their physical lines
    while True:
        raw_chunks = (_iter_url_list(det, chunk_rows) if det.format is formats.URL_LIST
                      else ((raw, skipped, None) for raw, skipped in iter_csv(det, chunk_rows, problems, cut)
                            if len(raw) or len(skipped)))
        try:
            # After a restart, the chunks already given are parsed again but not worked on.
            for links, bad, chunk_stats, n_raw in _in_order(_canonical_chunk(det),
                                                             itertools.islice(raw_chunks, yielded, None)):
                stats.extend(chunk_stats)
                rows_seen += n_raw
                yielded += 1
                yield links, bad
            break
        except StrayQuote as exc:
            record, line = exc.locate(det, cut)
            if record in cut or len(cut) >= MAX_CUT_LINES:
                problems.append(f"data records from {yielded * chunk_rows + 1:,} on were not read: a stray quote "
                                f"on line {line:,} joins the rows after it")
                break
            cut[record] = line
    if rows_seen == 0 and det.format is not formats.URL_LIST:
        problems.append("the file has a header but no data rows")
    if det.fallback_lines:
        problems.append(fallback_note(sorted(det.fallback_lines)))
    problems.extend(stats.messages())


#: Lines named one by one in a note; the rest are counted.
_NAMED_LINES = 50


def fallback_note(lines: list[int]) -> str:
    """The note naming the lines that were not UTF-8 and were read as Windows-1252."""
    named = ", ".join(f"{n:,}" for n in lines[:_NAMED_LINES])
    more = f" and {len(lines) - _NAMED_LINES:,} more" if len(lines) > _NAMED_LINES else ""
    return (f"line{'s' if len(lines) > 1 else ''} {named}{more}: not valid UTF-8; read as Windows-1252 "
            "(as Excel on Windows saves it), the other lines as UTF-8")


#: Threads that canonicalise chunks while the next ones are parsed.
_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _canonical_chunk(det: Detected) -> Callable[[tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None]],
                                                tuple[pd.DataFrame, pd.DataFrame, ValueStats, int]]:
    """The work for one raw chunk: canonical links, rejects (in line order), value stats, raw rows."""
    def work(item: tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None],
             ) -> tuple[pd.DataFrame, pd.DataFrame, ValueStats, int]:
        """Canonicalise one raw chunk (on a worker thread)."""
        raw, skipped, lines = item
        links, bad, stats = _to_canonical(raw, det, lines)
        if len(skipped):  # the parser's skipped lines and the rows rejected after it, merged by line
            bad = pd.concat([skipped, bad], ignore_index=True).sort_values("line", kind="stable", ignore_index=True)
        return links, bad, stats, len(raw)
    return work


def _in_order(work: Callable[[_T], _R], items: Iterator[_T]) -> Iterator[_R]:
    """``work(item)`` for each item, computed on worker threads, yielded in input order.

    At most one item more than there are workers is in flight, and items are dropped once worked
    on, so a slow consumer holds a few results, not a queue of raw chunks.
    """
    if _WORKERS == 1:
        yield from map(work, items)
        return
    load_suffix_list()  # built once here, not raced for by the workers
    pending: deque[Future[_R]] = deque()
    pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="toxiclinks-read")
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            del item
            if len(pending) > _WORKERS:  # every worker busy while the parser reads the next chunk
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # also when the consumer stops early or a chunk failed
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)

def _iter_url_list(det: Detected, chunk_rows: int,
                   ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]]:
    """Raw chunks of a header-less list of URLs; comments (#) and blank lines are skipped."""
    with text_stream(det) as text:
        buf: list[tuple[int, str]] = []
        for number, line in enumerate(text, start=1):
            value = line.strip()
            if det.lone_cr:
                value = value.replace(det.lone_cr, "\r")
            if not value or value.startswith("#"):
                continue
            if value.startswith("domain:"):
                value = value[len("domain:"):]
            buf.append((number, value))
            if len(buf) >= chunk_rows:
                yield _url_list_chunk(buf)
                buf = []
        if buf:
            yield _url_list_chunk(buf)


def _url_list_chunk(buf: list[tuple[int, str]]) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """One chunk of a URL list as raw cells, with the physical line of each."""
    lines = np.array([n for n, _ in buf])
    raw = pd.DataFrame({"<line>": [v for _, v in buf]}, index=pd.Index(lines - 1))
    return raw, pd.DataFrame(columns=REJECT_COLUMNS), lines

