"""Read backlink exports exactly as the tools write them, into the canonical link table.

``read_export(path)`` detects the container (gzip, zip), the encoding (UTF-8 with or without BOM,
UTF-16 "for Excel", Windows-1252), the delimiter, the header line (skipping Moz's preamble) and the
format, then reads the file in chunks. Rows that cannot be used are never dropped silently: each is
reported in :attr:`ReadResult.rejects` with file, line, column and reason. ``iter_export`` streams
the same chunks for files larger than memory.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import itertools
import os
import re
import threading
import warnings
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import formats, schema
from .errors import EmptyInputError, EncodingError, InputError, UnknownFormatError
from .safeio import (
    BY_LINE,
    decode_lines,
    input_problem,
    line_break_of,
    looks_binary,
    split_lines,
    utf16_encoding,
)
from .urls import (
    arrow_strings,
    host_of,
    load_suffix_list,
    mostly_repeats,
    normalize_url_series,
    split_hosts_arrow,
    url_hosts,
)

#: A cell longer than this is not a real export value (anchors, titles and contexts are short).
MAX_CELL = 32_768
CHUNK_ROWS = 100_000
_EXACT_TEXT_BYTES = 16 * 1024 * 1024
_SAMPLE_BYTES = 256 * 1024
_HEADER_SEARCH_LINES = 30
_TRUE = frozenset({"true", "yes", "y", "1", "+", "x", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "-", "f"})
_SKIP_RE = re.compile(r"Skipping line (\d+): (.*)")
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass
class Detected:
    """What sniffing the start of a file found."""

    path: str
    format: formats.Format
    mapping: dict[str, str]
    encoding: str
    delimiter: str
    header_line: int  # 1-based physical line of the header (0 = no header)
    header: list[str]
    compression: str | None
    notes: list[str] = field(default_factory=list)
    line_break: str = "\n"  # "\r" in a file whose lines end in CR alone (classic Mac)
    # Found by _scan: a blank line with rows after it; and, when CRs stand inside lines of a file
    # whose lines end in LF or CRLF, the character they are read as (the CRs are data).
    scanned: bool = False
    inner_blank: bool = False
    lone_cr: str = ""
    fallback_lines: set[int] = field(default_factory=set)  # lines read as Windows-1252 (BY_LINE)


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


REJECT_COLUMNS = ["file", "line", "column", "reason", "value"]


def _open_binary(path: Path) -> tuple[io.BufferedIOBase, str | None]:
    """Open ``path`` for reading bytes, transparently decompressing gzip and single-file zip."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb"), "gzip"  # type: ignore[return-value]
    if magic == b"PK\x05\x06":  # the end record of an archive, and nothing before it
        raise InputError("zip archive holds no files; toxiclinks reads a zip with exactly one export inside",
                         path=str(path))
    if magic == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise InputError(f"looks like a zip archive but cannot be opened: {exc}",
                             path=str(path)) from None
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise InputError(f"zip archive holds {len(members)} files; toxiclinks reads a zip "
                             "with exactly one export inside", path=str(path))
        return archive.open(members[0]), "zip"  # type: ignore[return-value]
    return path.open("rb"), None


def _sniff_encoding(sample: bytes, path: str, notes: list[str]) -> str:
    """Pick the encoding from the BOM or the bytes; raise EncodingError for binary data.

    A sample that is not all UTF-8 gives :data:`BY_LINE`: each line is read as UTF-8 if it is
    valid UTF-8, else as Windows-1252 (as Excel on Windows saves it), and named in a note.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    utf16 = utf16_encoding(sample[:4096])
    if utf16 is not None:
        if utf16 != "utf-16":
            notes.append(f"UTF-16{utf16[-2:].upper()} without a byte-order mark")
        return utf16
    if looks_binary(sample[:4096]):
        raise EncodingError("this is a binary file (control bytes throughout), not a CSV or text "
                            "export; export the backlinks again as CSV", path=path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return BY_LINE


def _split_line(line: str, delimiter: str) -> list[str]:
    """Split one header line as CSV."""
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return []


def guess_delimiter(line: str) -> str:
    """Tab for Ahrefs' Excel export, semicolon for European Excel, comma otherwise."""
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    if counts["\t"]:
        return "\t"
    return ";" if counts[";"] > counts[","] else ","


def _looks_like_url_list(lines: list[str]) -> bool:
    """A header-less list of URLs or domains, one per line."""
    rows = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    if not rows:
        return False
    hits = sum(bool(re.match(r"^(https?://|//|www\.|domain:)?[^\s,;\t/]+\.[^\s,;\t/]+", r)) for r in rows)
    return hits >= max(1, int(0.8 * len(rows)))


def detect(path: str | Path, format: str | None = None) -> Detected:
    """Sniff container, encoding, delimiter, header line and format of an export.

    ``format`` forces one of :data:`toxiclinks.formats.BY_NAME` instead of detecting it.
    """
    path = Path(path)
    problem = input_problem(path, "export file", missing="no such file")
    if problem:
        raise InputError(problem, path=str(path))
    notes: list[str] = []
    fh, compression = _open_binary(path)
    try:
        with fh:
            sample = fh.read(_SAMPLE_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read compressed data: {exc}", path=str(path)) from None
    if not sample.strip(b" \t\r\n\x00" + codecs.BOM_UTF8 + codecs.BOM_UTF16_LE):
        raise EmptyInputError("file is empty", path=str(path))
    encoding = _sniff_encoding(sample, str(path), notes)
    text = (decode_lines(sample, line_break_of(sample))[0] if encoding == BY_LINE
            else sample.decode(encoding, errors="replace"))
    line_break = line_break_of(text)
    lines = split_lines(text)
    if len(sample) == _SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the sample may be cut in half
    forced = None
    if format is not None:
        if format not in formats.BY_NAME:
            raise UnknownFormatError(f"unknown format {format!r}; known formats: "
                                     f"{', '.join(formats.BY_NAME)}", path=str(path))
        forced = formats.BY_NAME[format]
    first_text = next((ln for ln in lines if ln.strip()), "")
    if forced is not formats.URL_LIST:
        for number, line in enumerate(lines[:_HEADER_SEARCH_LINES], start=1):
            if not line.strip():
                continue
            delimiter = guess_delimiter(line)
            header = _split_line(line, delimiter)
            if forced is not None:
                mapping = formats.map_columns(forced, header)
                found = (forced, mapping) if "source_url" in mapping else None
            else:
                found = formats.match(header)
            if found:
                if number > 1:
                    notes.append(f"header found on line {number}; lines before it skipped")
                return Detected(str(path), found[0], found[1], encoding, delimiter, number,
                                header, compression, notes, line_break)
    if forced is formats.URL_LIST or (forced is None and _looks_like_url_list(lines[:50])):
        return Detected(str(path), formats.URL_LIST, {"source_url": "<line>"}, encoding, "\n", 0,
                        [], compression, notes, line_break)
    known = "; ".join(f"{f.name} ({f.label})" for f in formats.FORMATS)
    shown = first_text[:300] + ("…" if len(first_text) > 300 else "")
    what = f"--format {forced.name}: no source URL column" if forced else "unknown export format"
    raise UnknownFormatError(f"{what}. Header seen: {shown!r}. Known formats: {known}",
                             path=str(path), line=1)


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
    _scan(det)
    stats = _ValueStats()
    rows_seen = yielded = 0
    cut: dict[int, int] = {}  # data records set aside for a stray quote → their physical lines
    while True:
        raw_chunks = (_iter_url_list(det, chunk_rows) if det.format is formats.URL_LIST
                      else ((raw, skipped, None) for raw, skipped in _iter_csv(det, chunk_rows, problems, cut)
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
        except _StrayQuote as exc:
            record, line = exc.locate(det, cut)
            if record in cut or len(cut) >= _MAX_CUT_LINES:
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
                                                tuple[pd.DataFrame, pd.DataFrame, _ValueStats, int]]:
    """The work for one raw chunk: canonical links, rejects (in line order), value stats, raw rows."""
    def work(item: tuple[pd.DataFrame, pd.DataFrame, np.ndarray | None]):
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


def _iter_csv(det: Detected, chunk_rows: int, problems: list[str], cut: dict[int, int],
              ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Chunks of raw string cells, and rows the CSV parser had to skip (as rejects).

    Bytes are decoded strictly first (the C parser's fast path); if a byte that is not UTF-8 turns
    up past the sniffed sample, the file is read again line by line (:data:`BY_LINE`) from the
    chunk where it happened, and the lines read as Windows-1252 are named. (Bytes that are not
    UTF-16 in a UTF-16 file are read as U+FFFD, and that is reported.)

    A stray quote (one that opens a cell and never closes, or closes only at a later row's
    quote) would join the rows after it into one cell. The parser says so, or
    :func:`_to_canonical` sees whole rows inside a cell; :func:`iter_export` then sets the line
    with the quote aside as a reject (``cut``: data record → physical line) and reads the file
    again, giving only the chunks it has not given yet.
    """
    yielded = 0
    blanks = _blank_records(det, cut)
    for errors in ("strict", "replace"):
        try:
            for number, item in enumerate(_csv_chunks(det, chunk_rows, problems, errors, cut, blanks)):
                if number >= yielded:
                    yielded += 1
                    yield item
            return
        except UnicodeError as exc:
            if errors == "replace":
                raise EncodingError(f"cannot decode as {det.encoding}: {exc}", path=det.path) from None
            if det.encoding.startswith("utf-8"):
                det.encoding = BY_LINE  # the lines that are not UTF-8 are named at the end
                continue
            note = (f"bytes that are not valid {det.encoding} after record {yielded * chunk_rows:,} "
                    f"({getattr(exc, 'reason', exc)}); they were read as U+FFFD")
            if note not in problems:  # a restart for a stray quote meets them again
                problems.append(note)
        except pd.errors.ParserError as exc:
            problems.append(f"data records from {yielded * chunk_rows + 1:,} on were not read: the CSV parser "
                            f"stopped ({exc})")
            return


#: Lines with a stray quote set aside in one file before the reader gives up on the rest of it.
_MAX_CUT_LINES = 100


class _StrayQuote(Exception):
    """Rows joined by a stray quote: the parser met the end of the file inside a cell that opened
    on its ``row`` (0-based, counting line breaks outside quoted cells), or data ``record``
    (1-based) holds whole rows in a cell."""

    def __init__(self, row: int | None = None, record: int | None = None) -> None:
        super().__init__(row, record)
        self.row, self.record = row, record

    def locate(self, det: Detected, cut: dict[int, int]) -> tuple[int, int]:
        """(data record, physical line) of the quote, in the file as read with ``cut`` set aside."""
        if self.row is not None:  # the csv module splits records as the parser counts rows
            with _records(det, cut, below_header=False) as reader:
                for _ in range(self.row):
                    if next(reader, None) is None:
                        break
                return self.row + 1 - det.header_line, reader.line_num + 1
        with _records(det, cut, below_header=True) as reader:
            before = 0
            for seen, _ in enumerate(reader, start=1):  # blank lines and lines set aside count
                if seen == self.record:
                    break
                before = reader.line_num
            return int(self.record or 0), det.header_line + before + 1


@contextlib.contextmanager
def _records(det: Detected, cut: dict[int, int], below_header: bool) -> Iterator:
    """A csv-module reader over the file as the parser reads it (the lines in ``cut`` blanked),
    from the top or from the line below the header; a long cell does not stop it."""
    limit = csv.field_size_limit(2**31 - 1)
    try:
        with _CutLines(_text_stream(det), set(cut.values())) as text:
            for _ in range(det.header_line if below_header else 0):  # preamble and header
                text.readline()
            yield csv.reader(text, delimiter=det.delimiter, strict=False)
    finally:
        csv.field_size_limit(limit)


def _blank_records(det: Detected, cut: dict[int, int]) -> list[int]:
    """Data records (1-based) that are blank lines between rows (empty, or spaces and tabs only):
    the parser passes over them, but the rows after them keep their numbers (the line below the
    header is record 1). Lines set aside for a stray quote are records of their own (``cut``)."""
    if not det.inner_blank:
        return []
    blanks = []
    with _records(det, cut, below_header=True) as reader:
        for record, cells in enumerate(reader, start=1):
            blank = not cells or (len(cells) == 1 and not cells[0].strip())
            if blank and det.header_line + reader.line_num not in cut.values():
                blanks.append(record)
    return blanks


#: Characters that CRs inside lines are read as (noncharacters: no export holds them; the first
#: one the file does not hold is used), so that the parser does not take them for line ends.
_STAND_INS = ("\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3")


def _scan(det: Detected) -> None:
    """One pass over the file in 4 MB blocks (mapping it instead counted all of it in the audit's
    memory; ~0.3 s for 350 MB), once per reading. It finds:

    - whether a blank line has a non-blank line after it (trailing blank lines change no number),
      so the exact count in :func:`_blank_records` runs only for such files;
    - whether a CR stands inside a line of a file whose lines end in LF or CRLF. Such a CR is
      data (the csv module writes a cell holding one unquoted), but the parser would end the row
      there: it is read as a stand-in character the file does not hold, and put back in the cells.
    """
    if det.scanned:
        return
    as_bytes = not det.encoding.lower().startswith("utf-16")  # line breaks are single bytes
    raw = _open_binary(Path(det.path))[0]
    stream = raw if as_bytes else io.TextIOWrapper(raw, encoding=det.encoding, errors="replace", newline="")

    def literal(text: str):
        return text.encode() if as_bytes else text

    cr, lf, crlf = literal("\r"), literal("\n"), literal("\r\n")
    blank = re.compile(literal(r"\n[ \t]*\r?\n" if det.line_break == "\n" else r"\r[ \t]*\r"))
    space = literal(" \t\r\n")
    pending = inner = lone = after_cr = False  # pending: a blank line seen, only blank lines after it so far
    with stream:
        tail = stream.read(0)
        while block := stream.read(1 << 22):
            if not inner:
                if pending and block.strip(space):
                    inner = True
                data = tail + block
                found = blank.search(data)
                if found and data[found.end():].strip(space):
                    inner = True
                pending, tail = pending or found is not None, data[-64:]
            if det.line_break == "\n" and not lone:
                ends_cr = block.endswith(cr)
                lone = ((after_cr and not block.startswith(lf))
                        or (cr in block and (_lone_cr(block) if as_bytes
                                             else block.count(cr) - block.count(crlf) - ends_cr > 0)))
                after_cr = ends_cr
    det.scanned, det.inner_blank = True, inner
    if lone:
        det.lone_cr = _absent_stand_in(det)


def _lone_cr(block: bytes) -> bool:
    """Whether a CR before the last byte of ``block`` is not followed by LF (with numpy: a third of
    the time of counting CRs and CRLFs in a CRLF file)."""
    codes = np.frombuffer(block, dtype=np.uint8)
    at = np.flatnonzero(codes[:-1] == 13)
    return bool((codes[at + 1] != 10).any())


def _absent_stand_in(det: Detected) -> str:
    """The first of :data:`_STAND_INS` that the file does not hold ("" if it holds them all: then
    its CRs end rows, as they did before); a second pass, only over files with CRs inside lines."""
    as_bytes = not det.encoding.lower().startswith("utf-16")
    raw = _open_binary(Path(det.path))[0]
    stream = raw if as_bytes else io.TextIOWrapper(raw, encoding=det.encoding, errors="replace", newline="")
    candidates = {(c.encode() if as_bytes else c): c for c in _STAND_INS}
    with stream:
        tail = stream.read(0)
        while candidates and (block := stream.read(1 << 22)):
            data = tail + block
            candidates = {code: c for code, c in candidates.items() if code not in data}
            tail = data[-4:]
    return next(iter(candidates.values()), "")


_UNTERMINATED_RE = re.compile(r"EOF inside string starting at row (\d+)")


class _CutLines(io.TextIOBase):
    """A text stream with the given physical lines blanked out (their line breaks kept)."""

    def __init__(self, inner: io.TextIOBase, lines: set[int]) -> None:
        self._inner, self._lines = inner, lines
        self._line, self._pending = 0, ""

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        if self._pending:  # the rest of the lines a sized read() cut through
            head, end, self._pending = self._pending.partition("\n")
            return head + end
        line = self._inner.readline()
        if line:
            self._line += 1
            if self._line in self._lines:
                line = line[len(line.rstrip("\r\n")):]
        return line

    def read(self, size: int | None = -1) -> str:
        parts, have = [], 0
        while size is None or size < 0 or have < size:
            line = self.readline()
            if not line:
                break
            parts.append(line)
            have += len(line)
        text = "".join(parts)
        if size is None or size < 0 or len(text) <= size:
            return text
        self._pending = text[size:]
        return text[:size]

    def close(self) -> None:
        self._inner.close()
        super().close()


def _csv_chunks(det: Detected, chunk_rows: int, problems: list[str], errors: str, cut: dict[int, int],
                blanks: list[int]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """One pass of the C parser over the file (see :func:`_iter_csv`); the physical lines in
    ``cut`` are blanked out (the parser passes over blank lines) and given as rejects instead.
    ``blanks`` are the records of blank lines, which keep their numbers but give no row."""
    path = Path(det.path)
    encoding = "utf-8"  # what a text stream is read as (decoded already, not in det.encoding: BY_LINE is no codec)
    if det.format is formats.BING or det.format is formats.BING_DOMAINS:
        # Bing writes an anchor made of one double quote as `""",` (invalid CSV): repair it.
        with _text_stream(det, errors) as text:
            source: io.IOBase = io.StringIO(re.sub(r'(^|,)""",', r'\1"""",', text.read(), flags=re.M))
    elif cut:
        source = _text_stream(det, errors)
    else:
        source, encoding = _source(det, errors)  # the C parser decodes bytes faster than a Python text stream
    if cut:
        source = _CutLines(source, set(cut.values()))
    # Small files read their text columns as exact strings ("007" stays "007"). Large ones let the
    # C parser infer types, several times faster; a text column that a whole chunk makes numeric
    # is turned back into text and reported, since its formatting ("007", "1.50") may be lost.
    exact = path.stat().st_size < _EXACT_TEXT_BYTES
    text_headers = _text_headers(det)
    try:
        with source:
            with _parser_warnings() as caught:
                reader = pd.read_csv(
                    source, sep=det.delimiter, header=0, skiprows=det.header_line - 1,
                    dtype={h: str for h in text_headers} if exact else None, keep_default_na=False,
                    na_filter=False, chunksize=chunk_rows, engine="c", on_bad_lines="warn",
                    skip_blank_lines=True, index_col=False, encoding=encoding, encoding_errors=errors,
                    low_memory=False,
                    # Lines that end in CR alone: told, the parser does not drop the empty first cell of
                    # a row after a blank line (which shifted every cell of the row one column left).
                    lineterminator="\r" if det.line_break == "\r" else None,
                )
            offset = 0
            # Data record numbers pandas skipped (blank lines and those set aside are known first).
            skipped_records = np.array(sorted([*cut, *blanks]), dtype=np.int64)
            uncut = sorted(cut)  # records set aside whose rejects are still to be given
            while True:
                with _parser_warnings() as more:
                    chunk = next(reader, None)
                caught.extend(more)
                skipped = _skipped_rows(caught, det)
                caught.clear()
                if chunk is None:
                    break
                skipped_records = np.sort(np.concatenate(
                    [skipped_records, skipped["line"].to_numpy(dtype=np.int64) - det.header_line]))
                # The p-th parsed row is the p-th record number that pandas did not skip.
                parsed = np.arange(offset + 1, offset + len(chunk) + 1)
                shift = np.searchsorted(skipped_records - np.arange(len(skipped_records)), parsed,
                                        side="right")
                chunk.index = pd.Index(parsed + shift - 1)
                if det.lone_cr:
                    _restore_crs(chunk, det.lone_cr)
                due = [record for record in uncut if not len(chunk) or record <= chunk.index[-1] + 1]
                if due:
                    skipped = pd.concat([skipped, _cut_rows(det, cut, due)], ignore_index=True)
                    uncut = uncut[len(due):]
                for header in text_headers:
                    if header in chunk and not _is_text(chunk[header]):
                        chunk[header] = chunk[header].astype(str)
                        note = (f"column {header!r} holds only numbers in records "
                                f"{parsed[0]:,}–{parsed[-1]:,}; read as text, so formatting such as "
                                "leading zeros may be lost there")
                        if note not in problems:  # a second, replacing pass sees it again
                            problems.append(note)
                offset += len(chunk)
                yield chunk, skipped
            if uncut:
                skipped = pd.concat([skipped, _cut_rows(det, cut, uncut)], ignore_index=True)
            if len(skipped):
                yield pd.DataFrame(columns=det.header), skipped
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        unterminated = _UNTERMINATED_RE.search(str(exc))
        if unterminated:
            raise _StrayQuote(row=int(unterminated.group(1))) from None
        raise


def _text_headers(det: Detected) -> list[str]:
    """Header cells whose canonical field is text (URLs, anchor, titles, dates, …)."""
    text_kinds = {"str", "datetime"}
    return sorted({header for canonical, header in det.mapping.items()
                   if canonical == "redirect_chain" or schema.KIND.get(canonical) in text_kinds})


def _is_text(col: pd.Series) -> bool:
    """Whether the parser left a raw column as strings."""
    return col.dtype == object or str(col.dtype) in ("str", "string")


def _as_text(col: pd.Series) -> pd.Series:
    """A raw column as strings, whatever the parser inferred."""
    return col if _is_text(col) else col.astype(str)


def _text_stream(det: Detected, errors: str = "replace") -> io.TextIOBase:
    """The file as text as the parser reads it (see :func:`_source`); undecodable bytes become
    U+FFFD unless ``errors`` is ``"strict"``."""
    fh, encoding = _source(det, errors)
    return io.TextIOWrapper(fh, encoding=encoding, errors=errors, newline="")


def _source(det: Detected, errors: str = "strict") -> tuple[io.BufferedIOBase, str]:
    """The bytes the parser reads, and their encoding: the file itself (decompressed), or, when it
    must be decoded line by line or holds CRs inside lines, the file transcoded to UTF-8."""
    raw, _ = _open_binary(Path(det.path))
    if det.encoding != BY_LINE and not det.lone_cr:
        return raw, det.encoding
    return io.BufferedReader(_Transcoded(raw, det, errors), 1 << 16), "utf-8"


class _Transcoded(io.RawIOBase):
    """A file as UTF-8 bytes: decoded in its encoding, or line by line (:data:`BY_LINE`: each line
    that is not UTF-8 read as Windows-1252 and its number added to ``det.fallback_lines``), with
    each CR inside a line replaced by ``det.lone_cr`` when that is set."""

    _BLOCK = 1 << 20

    def __init__(self, raw: io.BufferedIOBase, det: Detected, errors: str) -> None:
        super().__init__()
        self._raw, self._det = raw, det
        self._by_line = det.encoding == BY_LINE
        self._decoder = None if self._by_line else codecs.getincrementaldecoder(det.encoding)(errors)
        self._break = det.line_break.encode()
        self._line = 1  # number of the next line to decode (BY_LINE)
        self._carry = b""  # the start of a line not ended yet (BY_LINE)
        self._cr = ""  # a CR at the end of the text so far, until what follows it is known
        self._out, self._pos, self._done, self._started = b"", 0, False, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._out) and not self._done:
            self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = self._out[self._pos:self._pos + n]
        self._pos += n
        return n

    def _fill(self) -> None:
        """Decode the next block of the file into ``_out``."""
        block = self._raw.read(self._BLOCK)
        final = not block
        if self._by_line:
            data = self._carry + block
            cut = len(data) if final else data.rfind(self._break) + 1
            data, self._carry = data[:cut], data[cut:]
            if data and not self._started:
                data, self._started = data.removeprefix(codecs.BOM_UTF8), True
            text, fallback = decode_lines(data, self._break, self._line)
            self._det.fallback_lines.update(fallback)
            self._line += data.count(self._break)
        else:
            text = self._decoder.decode(block, final)
        if self._det.lone_cr:
            text, self._cr = self._cr + text, ""
            if text.endswith("\r") and not final:
                text, self._cr = text[:-1], "\r"
            text = _LONE_CR.sub(self._det.lone_cr, text)
        self._out, self._pos, self._done = text.encode("utf-8"), 0, final

    def close(self) -> None:
        self._raw.close()
        super().close()


_LONE_CR = re.compile("\r(?!\n)")


def _restore_crs(chunk: pd.DataFrame, stand_in: str) -> None:
    """Put back the CRs that were read as ``stand_in`` (see :func:`_scan`)."""
    for name in chunk.columns:
        col = chunk[name]
        if _is_text(col):
            has = col.str.contains(stand_in, regex=False).fillna(False).to_numpy(bool)
            if has.any():
                chunk.loc[has, name] = col[has].str.replace(stand_in, "\r", regex=False)


#: Per thread that is parsing: the warnings its parser raised (see :func:`_parser_warnings`).
_WARNINGS_OF: dict[int, list[str]] = {}
_ORIGINAL_WARN = warnings.warn
_INSTALL_LOCK = threading.Lock()


def _routed_warn(message, category=None, stacklevel=1, *args, **kwargs):
    """``warnings.warn``, except that a parsing thread's warnings go to that thread's list."""
    sink = _WARNINGS_OF.get(threading.get_ident())
    if sink is not None:
        sink.append(str(message))
        return None
    return _ORIGINAL_WARN(message, category, stacklevel + 1, *args, **kwargs)


@contextlib.contextmanager
def _parser_warnings() -> Iterator[list[str]]:
    """Collect the warnings this thread raises (the C parser's 'Skipping line N') into a list.

    ``warnings.catch_warnings`` cannot be used here: its filters are process-wide, and pandas code
    on the worker threads enters it too; while one is inside with an "ignore" filter, this
    thread's 'Skipping line' warnings would be dropped and those rows lost without a reject.
    ``warnings.warn`` is wrapped instead (once, on first use), routing only registered threads.
    """
    with _INSTALL_LOCK:
        if warnings.warn is not _routed_warn:
            warnings.warn = _routed_warn
    thread, messages = threading.get_ident(), []
    outer = _WARNINGS_OF.get(thread)
    _WARNINGS_OF[thread] = messages
    try:
        yield messages
    finally:
        if outer is None:
            del _WARNINGS_OF[thread]
        else:
            _WARNINGS_OF[thread] = outer


def _skipped_rows(caught: list[str], det: Detected) -> pd.DataFrame:
    """Turn pandas' 'Skipping line N' warnings into reject rows.

    The parser numbers lines from the top of the file, preamble included, as editors do (but a
    quoted cell's line breaks do not count).
    """
    rows = []
    for message in caught:
        for m in _SKIP_RE.finditer(message):
            rows.append((det.path, int(m.group(1)), "", f"malformed CSV row: {m.group(2).strip()}", ""))
    return pd.DataFrame(rows, columns=REJECT_COLUMNS)


def _cut_rows(det: Detected, cut: dict[int, int], records: list[int]) -> pd.DataFrame:
    """Rejects for the records set aside for a stray quote (see :func:`_iter_csv`)."""
    reason = ('a stray quote (") opens a cell here that would swallow the rows after it; the line was '
              "set aside (physical line {:,})")
    return pd.DataFrame([(det.path, record + det.header_line, "", reason.format(cut[record]), "")
                         for record in records], columns=REJECT_COLUMNS)


def _iter_url_list(det: Detected, chunk_rows: int,
                   ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, np.ndarray]]:
    """Raw chunks of a header-less list of URLs; comments (#) and blank lines are skipped."""
    with _text_stream(det) as text:
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


class _ValueStats:
    """Counts of cells that could not be parsed, per column, reported once per file."""

    def __init__(self) -> None:
        self.bad: dict[str, list[int]] = {}
        self.count: dict[str, int] = {}

    def add(self, column: str, lines: np.ndarray) -> None:
        if len(lines):
            self.count[column] = self.count.get(column, 0) + len(lines)
            self.bad.setdefault(column, []).extend(int(x) for x in lines[: 5 - len(self.bad.get(column, []))])

    def extend(self, other: _ValueStats) -> None:
        for column, n in other.count.items():
            self.count[column] = self.count.get(column, 0) + n
            known = self.bad.setdefault(column, [])
            known.extend(other.bad[column][: 5 - len(known)])

    def messages(self) -> list[str]:
        return [f"column {col!r}: {n} value(s) could not be parsed and were read as missing "
                f"(first at line(s) {', '.join(map(str, self.bad[col]))})"
                for col, n in self.count.items()]


def _to_canonical(raw: pd.DataFrame, det: Detected, physical_lines: np.ndarray | None = None,
                  ) -> tuple[pd.DataFrame, pd.DataFrame, _ValueStats]:
    """Map one chunk of raw string cells to canonical columns; split off the rows to reject.

    Also returns the chunk's unparsable-value counts (merged in file order by the caller).
    """
    stats = _ValueStats()
    fmt, mapping = det.format, det.mapping
    n = len(raw)
    record = raw.index.to_numpy() + 1  # 1-based data record number
    lines = physical_lines if physical_lines is not None else record + det.header_line
    out: dict[str, pd.Series] = {}
    reject_reason = pd.Series("", index=raw.index, dtype=object)
    reject_column = pd.Series("", index=raw.index, dtype=object)
    reject_value = pd.Series("", index=raw.index, dtype=object)

    def reject(mask: pd.Series, column: str, reason: pd.Series | str, value: pd.Series | str) -> None:
        new = mask & (reject_reason == "")
        if new.any():
            reject_reason[new] = reason[new] if isinstance(reason, pd.Series) else reason
            reject_column[new] = column
            reject_value[new] = value[new] if isinstance(value, pd.Series) else value

    swallowed = _swallowed_record(raw, det)
    if swallowed is not None:
        raise _StrayQuote(record=swallowed)
    for header_name in set(mapping.values()):
        col = raw[header_name]
        if not _is_text(col) or _max_bytes(col) <= MAX_CELL:
            continue  # numbers and booleans the parser already understood; short text
        too_long = col.str.len() > MAX_CELL
        if too_long.any():
            reject(too_long, header_name,
                   col[too_long].str.len().map(lambda k: f"cell is {k:,} characters long "
                                                          f"(limit {MAX_CELL:,})"), "")
            raw.loc[too_long, header_name] = ""

    for header_name in set(mapping.values()):
        col = raw[header_name]
        if _is_text(col) and _holds_byte(arrow_strings(col), 0):
            nul = col.str.contains("\x00", regex=False).fillna(False)
            reject(nul, header_name, "cell holds a NUL byte (\\x00), which no export tool writes",
                   col.str.replace("\x00", "\\x00", regex=False).str.slice(0, 200))

    for canonical, header_name in mapping.items():
        if canonical.startswith("flag:") or canonical == "redirect_chain":
            continue
        kind = schema.KIND.get(canonical)
        col = raw[header_name]
        if kind == "str":
            if canonical in ("source_url", "target_url"):
                continue
            out[canonical] = pd.array(_trimmed(col), dtype="string")
        elif kind == "bool" or canonical == "lost":
            out[canonical] = _parse_bool(col, canonical, fmt, lines, stats, header_name)
        elif kind == "float":
            out[canonical] = _parse_number(col, lines, stats, header_name)
        elif kind == "datetime":
            out[canonical] = _parse_date(col, lines, stats, header_name)

    if fmt is formats.AHREFS and "link_type" in mapping:
        kind_col = raw[mapping["link_type"]].str.strip().str.lower()
        link_type = kind_col.where(kind_col.isin(["text", "image", "frame", "form"]), pd.NA)
        if "redirect_chain" in mapping:
            link_type = link_type.mask(raw[mapping["redirect_chain"]].str.strip() != "", "redirect")
        out["link_type"] = link_type.astype("string")
    elif fmt.type_flags:
        out["link_type"] = _link_type_from_flags(raw, mapping, fmt)

    # Source URL: required; a row without a usable one is rejected with the reason.
    src_header = mapping["source_url"]
    src, src_err = normalize_url_series(raw[src_header])
    if src_err.notna().any():
        reject(src_err.notna(), src_header, "source URL: " + src_err.fillna(""),
               raw[src_header].str.slice(0, 200))
    out["source_url"] = src
    if "target_url" in mapping:
        tgt_header = mapping["target_url"]
        tgt, tgt_err = normalize_url_series(raw[tgt_header])
        bad_target = tgt_err.notna() & (raw[tgt_header].str.strip() != "")
        if bad_target.any():
            stats.add(tgt_header, lines[bad_target.to_numpy()])
        out["target_url"] = tgt

    out["source_tool"] = pd.array(pa.repeat(fmt.name, n), dtype="string")
    out["source_file"] = pd.array(pa.repeat(det.path, n), dtype="string")
    out["source_row"] = pd.array(record, dtype="Float64")
    out.update(host_columns(out["source_url"], out.get("target_url")))
    table = schema.from_columns(out, raw.index)
    no_suffix = pd.Series(unknown_suffix(table), index=table.index)
    if no_suffix.any():
        reject(no_suffix, src_header, "source URL: " + table["source_host"].fillna("").map(UNKNOWN_SUFFIX.format),
               raw[src_header].str.slice(0, 200))

    bad_mask = (reject_reason != "").to_numpy()
    rejects = pd.DataFrame({
        "file": det.path, "line": lines[bad_mask], "column": reject_column[bad_mask].to_numpy(),
        "reason": reject_reason[bad_mask].to_numpy(), "value": reject_value[bad_mask].to_numpy(),
    }, columns=REJECT_COLUMNS)
    table = table.loc[~bad_mask] if bad_mask.any() else table
    return table.reset_index(drop=True), rejects, stats


def _parse_bool(col: pd.Series, canonical: str, fmt: formats.Format, lines: np.ndarray,
                stats: _ValueStats, header_name: str) -> pd.Series:
    """true/false/yes/no/1/0/+ → boolean; empty → NA (False for formats where empty means no)."""
    if col.dtype == bool:
        return col.astype("boolean")
    low = _as_text(col).str.strip().str.lower()
    result = pd.Series(pd.NA, index=col.index, dtype="boolean")
    result[low.isin(_TRUE)] = True
    result[low.isin(_FALSE)] = False
    empty = low == ""
    if fmt.empty_flag_is_false:
        result[empty] = False
    if canonical == "lost":
        # Ahrefs writes a date in 'Lost' and a reason in 'Lost status': any value means lost.
        result[~empty & result.isna()] = True
        if not fmt.empty_flag_is_false:
            result[empty] = False
        return result
    unknown = ~empty & result.isna()
    if unknown.any():
        stats.add(header_name, lines[unknown.to_numpy()])
    return result


def _parse_number(col: pd.Series, lines: np.ndarray, stats: _ValueStats, header_name: str,
                  ) -> pd.Series:
    """Plain numbers, thousands separators ("1,240"), trailing % (Moz Spam Score)."""
    if pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
        return col.astype("Float64")
    text = _as_text(col).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    retry = values.isna() & (text != "")
    if retry.any():
        cleaned = text[retry].str.replace(r"[,\s%]", "", regex=True)
        values[retry] = pd.to_numeric(cleaned, errors="coerce")
        bad = values.isna() & (text != "")
        if bad.any():
            stats.add(header_name, lines[bad.to_numpy()])
    return values.astype("Float64")


def _parse_date(col: pd.Series, lines: np.ndarray, stats: _ValueStats, header_name: str,
                ) -> pd.Series:
    """ISO dates (tools) and m/d/yy or m/d/yyyy (Excel re-saves)."""
    if _is_text(col):
        try:  # Arrow parses a column of plain ISO dates several times faster than pandas
            stamps = pc.cast(_trimmed(col), pa.timestamp("ns"))
            return pd.Series(stamps.to_numpy(zero_copy_only=False), index=col.index)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # other layouts, time zones, bad values: pandas below, value by value
    text = _as_text(col).str.strip()
    # utc=True: a column mixing offsets (or offsets and none) is one timeline, read as UTC.
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_convert(None)
    retry = parsed.isna() & (text != "")
    for fmt in ("%m/%d/%y %H:%M", "%m/%d/%y", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y"):
        if not retry.any():
            break
        parsed[retry] = pd.to_datetime(text[retry], format=fmt, errors="coerce")
        retry = parsed.isna() & (text != "")
    # Years like 9999 parse, but do not fit the table's nanosecond timestamps: unparsable.
    out_of_range = parsed.notna() & ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max))
    parsed[out_of_range] = pd.NaT
    retry |= out_of_range
    if retry.any():
        stats.add(header_name, lines[retry.to_numpy()])
    return parsed.astype("datetime64[ns]")


def _link_type_from_flags(raw: pd.DataFrame, mapping: dict[str, str], fmt: formats.Format,
                          ) -> pd.Series:
    """Semrush/Majestic/Moz flag columns → one link_type (the most specific flag set wins)."""
    result = pd.Series(pd.NA, index=raw.index, dtype="string")
    seen_any = False
    for flag, link_type in fmt.type_flags.items():
        header = mapping.get(f"flag:{flag}")
        if header is None:
            continue
        seen_any = True
        low = _as_text(raw[header]).str.strip().str.lower()
        is_set = ~low.isin(_FALSE | {""})
        if link_type == "text":
            result = result.mask(is_set & result.isna(), "text")
        else:
            result = result.mask(is_set, link_type)
    if seen_any and fmt.empty_flag_is_false:
        result = result.fillna("text")
    return result


UNKNOWN_SUFFIX = "host '{}' does not end in a known public suffix (TLD)"
IP_LIKE = re.compile(r"^(\d+\.\d+\.\d+\.\d+|\[.*\])$")  # an IPv4 address or a bracketed IPv6 one


def unknown_suffix(table: pd.DataFrame) -> np.ndarray:
    """Rows whose source host has no known public suffix and is not an IP address (unusable)."""
    host = table["source_host"]
    unknown = np.array(host.notna() & table["source_suffix"].isna(), dtype=bool)
    if unknown.any():  # rare: only these rows need the IP address check
        is_ip = host[unknown].str.match(IP_LIKE).fillna(False).to_numpy(bool)
        unknown[np.flatnonzero(unknown)[is_ip]] = False
    return unknown


def referring_site(links: pd.DataFrame) -> np.ndarray:
    """The referring site of each link (its host when no site could be derived), as objects."""
    return links["source_site"].fillna(links["source_host"]).fillna("").to_numpy(object)


def add_hosts(table: pd.DataFrame) -> None:
    """Fill the derived host columns of a canonical table, splitting each distinct host once."""
    for column, values in host_columns(table["source_url"], table["target_url"]).items():
        table[column] = values


#: The columns :func:`host_columns` derives from the source and target URLs.
HOST_COLUMNS = ("source_host", "source_site", "source_domain", "source_suffix", "source_platform",
                "target_host", "target_site")


def host_columns(source_url: pd.Series, target_url: pd.Series | None) -> dict[str, pd.api.extensions.ExtensionArray]:
    """Host, site, domain, suffix and platform of the source URLs, host and site of the targets.

    Each distinct host is split once; a column of few distinct URLs (the targets) has its hosts
    cut once per URL.
    """
    out = {}
    for prefix, url_col, fields in (("source", source_url, ("site", "registered_domain", "suffix", "platform")),
                                    ("target", target_url, ("site",))):
        if url_col is None:
            continue
        urls = arrow_strings(url_col)
        by_url = urls.dictionary_encode() if mostly_repeats(urls) else None
        encoded = url_hosts(urls if by_url is None else by_url.dictionary).dictionary_encode()
        distinct = encoded.dictionary
        indices = encoded.indices if by_url is None else encoded.indices.take(by_url.indices)
        if pc.any(pc.match_substring(distinct, ":")).as_py():  # a port or an IPv6 address (rare)
            distinct = pa.array([host_of(f"http://{h}") for h in distinct.to_pylist()], type=pa.string())
        parts = split_hosts_arrow(distinct)
        out[f"{prefix}_host"] = pd.array(distinct.take(indices), dtype="string")
        for attr in fields:
            column = f"{prefix}_{'domain' if attr == 'registered_domain' else attr}"
            out[column] = pd.array(_blank_as_missing(parts[attr]).take(indices), dtype="string")
    return out


def _swallowed_record(raw: pd.DataFrame, det: Detected) -> int | None:
    """The first data record (1-based) with whole rows of the file inside one of its cells.

    A stray quote opens a cell that the next quote in the file closes, rows later: the rows in
    between become one cell. A cell with a line break followed by a line holding as many
    delimiters as a row has is taken for that (a real multi-line cell does not look like rows).
    """
    need = max(1, len(det.header) - 1)
    first = None
    for name in raw.columns:
        col = raw[name]
        if not _is_text(col):
            continue
        values = arrow_strings(col)
        if not _holds_byte(values, 10):
            continue
        broken = pc.fill_null(pc.match_substring(values, "\n"), False)
        for i in np.flatnonzero(broken.to_numpy(zero_copy_only=False)):
            if any(line.count(det.delimiter) >= need for line in str(col.iat[i]).split("\n")[1:]):
                record = int(raw.index[i]) + 1
                first = record if first is None else min(first, record)
                break
    return first


def _holds_byte(values: pa.Array, byte: int) -> bool:
    """Whether any cell holds ``byte``: one scan of all the cells' bytes, several times faster than a
    match (bytes of cells sliced away may count too: then the exact check finds nothing)."""
    data = values.buffers()[2]
    return data is not None and bool((np.frombuffer(data, dtype=np.uint8) == byte).any())


def _max_bytes(col: pd.Series) -> int:
    """Length in bytes of the longest cell of a text column (at least its length in characters)."""
    longest = pc.max(pc.binary_length(arrow_strings(col))).as_py()
    return longest or 0


def _trimmed(col: pd.Series) -> pa.Array:
    """A raw text column trimmed of whitespace, blank cells as nulls."""
    return _blank_as_missing(pc.utf8_trim_whitespace(arrow_strings(col)))


def _blank_as_missing(values: pa.Array) -> pa.Array:
    """Empty strings as nulls: an empty cell is unknown, not a value."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
