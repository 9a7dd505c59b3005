"""CSV chunks: the C parser over the file in chunks of raw cells, the rows it skipped as rejects."""

from __future__ import annotations

import contextlib
import io
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import schema
from ..errors import EncodingError
from ..safeio import BY_LINE
from . import _formats as formats
from ._sniff import REJECT_COLUMNS, Detected
from ._stray import CutLines, StrayQuote, blank_records, cut_rows
from ._transcode import parser_source, restore_crs, text_stream
from ._values import is_text

_EXACT_TEXT_BYTES = 16 * 1024 * 1024
_SKIP_RE = re.compile(r"Skipping line (\d+): (.*)")
_UNTERMINATED_RE = re.compile(r"EOF inside string starting at row (\d+)")


def iter_csv(det: Detected, chunk_rows: int, problems: list[str], cut: dict[int, int],
              ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Chunks of raw string cells, and rows the CSV parser had to skip (as rejects).

    Bytes are decoded strictly first (the C parser's fast path); if a byte that is not UTF-8 turns
    up past the sniffed sample, the file is read again line by line (:data:`BY_LINE`) from the
    chunk where it happened, and the lines read as Windows-1252 are named. (Bytes that are not
    UTF-16 in a UTF-16 file are read as U+FFFD, and that is reported.)

    A stray quote (one that opens a cell and never closes, or closes only at a later row's
    quote) would join the rows after it into one cell. The parser says so, or
    :func:`~toxiclinks.reading._canonical.to_canonical` sees whole rows inside a cell;
    :func:`~toxiclinks.reading.iter_export` then sets the line
    with the quote aside as a reject (``cut``: data record → physical line) and reads the file
    again, giving only the chunks it has not given yet.
    """
    yielded = 0
    blanks = blank_records(det, cut)
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


def _csv_chunks(det: Detected, chunk_rows: int, problems: list[str], errors: str, cut: dict[int, int],
                blanks: list[int]) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """One pass of the C parser over the file (see :func:`iter_csv`); the physical lines in
    ``cut`` are blanked out (the parser passes over blank lines) and given as rejects instead.
    ``blanks`` are the records of blank lines, which keep their numbers but give no row."""
    path = Path(det.path)
    encoding = "utf-8"  # what a text stream is read as (decoded already, not in det.encoding: BY_LINE is no codec)
    if det.format is formats.BING or det.format is formats.BING_DOMAINS:
        # Bing writes an anchor made of one double quote as `""",` (invalid CSV): repair it.
        with text_stream(det, errors) as text:
            source: io.IOBase = io.StringIO(re.sub(r'(^|,)""",', r'\1"""",', text.read(), flags=re.M))
    elif cut:
        source = text_stream(det, errors)
    else:
        source, encoding = parser_source(det, errors)  # the C parser decodes bytes faster than a Python text stream
    if cut:
        source = CutLines(source, set(cut.values()))
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
                    restore_crs(chunk, det.lone_cr)
                due = [record for record in uncut if not len(chunk) or record <= chunk.index[-1] + 1]
                if due:
                    skipped = pd.concat([skipped, cut_rows(det, cut, due)], ignore_index=True)
                    uncut = uncut[len(due):]
                for header in text_headers:
                    if header in chunk and not is_text(chunk[header]):
                        chunk[header] = chunk[header].astype(str)
                        note = (f"column {header!r} holds only numbers in records "
                                f"{parsed[0]:,}–{parsed[-1]:,}; read as text, so formatting such as "
                                "leading zeros may be lost there")
                        if note not in problems:  # a second, replacing pass sees it again
                            problems.append(note)
                offset += len(chunk)
                yield chunk, skipped
            if uncut:
                skipped = pd.concat([skipped, cut_rows(det, cut, uncut)], ignore_index=True)
            if len(skipped):
                yield pd.DataFrame(columns=det.header), skipped
    except pd.errors.EmptyDataError:
        return
    except pd.errors.ParserError as exc:
        unterminated = _UNTERMINATED_RE.search(str(exc))
        if unterminated:
            raise StrayQuote(row=int(unterminated.group(1))) from None
        raise


def _text_headers(det: Detected) -> list[str]:
    """Header cells whose canonical field is text (URLs, anchor, titles, dates, …)."""
    text_kinds = {"str", "datetime"}
    return sorted({header for canonical, header in det.mapping.items()
                   if canonical == "redirect_chain" or schema.KIND.get(canonical) in text_kinds})


#: Per thread that is parsing: the warnings its parser raised (see :func:`_parser_warnings`).
_WARNINGS_OF: dict[int, list[str]] = {}
_ORIGINAL_WARN = warnings.warn
_INSTALL_LOCK = threading.Lock()


def _routed_warn(message: Warning | str, category: type[Warning] | None = None, stacklevel: int = 1,
                 *args: Any, **kwargs: Any) -> None:
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
