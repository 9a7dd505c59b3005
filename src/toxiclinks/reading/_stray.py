"""Stray quotes: finding the line whose quote joins the rows after it, and reading the file with it set aside."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..urls import arrow_strings
from ._sniff import REJECT_COLUMNS, Detected
from ._transcode import text_stream
from ._values import holds_byte, is_text

#: Lines with a stray quote set aside in one file before the reader gives up on the rest of it.
MAX_CUT_LINES = 100


class StrayQuote(Exception):
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
        with CutLines(text_stream(det), set(cut.values())) as text:
            for _ in range(det.header_line if below_header else 0):  # preamble and header
                text.readline()
            yield csv.reader(text, delimiter=det.delimiter, strict=False)
    finally:
        csv.field_size_limit(limit)


def blank_records(det: Detected, cut: dict[int, int]) -> list[int]:
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


class CutLines(io.TextIOBase):
    """A text stream with the given physical lines blanked out (their line breaks kept)."""

    def __init__(self, inner: io.TextIOBase, lines: set[int]) -> None:
        self._inner, self._lines = inner, lines
        self._line, self._pending = 0, ""

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        """The next line, blanked if it is set aside (``size`` is ignored: whole lines)."""
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
        """Up to ``size`` characters (all with none), read line by line."""
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


def cut_rows(det: Detected, cut: dict[int, int], records: list[int]) -> pd.DataFrame:
    """Rejects for the records set aside for a stray quote (see :func:`~toxiclinks.reading._csv.iter_csv`)."""
    reason = ('a stray quote (") opens a cell here that would swallow the rows after it; the line was '
              "set aside (physical line {:,})")
    return pd.DataFrame([(det.path, record + det.header_line, "", reason.format(cut[record]), "")
                         for record in records], columns=REJECT_COLUMNS)


def swallowed_record(raw: pd.DataFrame, det: Detected) -> int | None:
    """The first data record (1-based) with whole rows of the file inside one of its cells.

    A stray quote opens a cell that the next quote in the file closes, rows later: the rows in
    between become one cell. A cell with a line break followed by a line holding as many
    delimiters as a row has is taken for that (a real multi-line cell does not look like rows).
    """
    need = max(1, len(det.header) - 1)
    first = None
    for name in raw.columns:
        col = raw[name]
        if not is_text(col):
            continue
        values = arrow_strings(col)
        if not holds_byte(values, 10):
            continue
        broken = pc.fill_null(pc.match_substring(values, "\n"), False)
        for i in np.flatnonzero(broken.to_numpy(zero_copy_only=False)):
            if any(line.count(det.delimiter) >= need for line in str(col.iat[i]).split("\n")[1:]):
                record = int(raw.index[i]) + 1
                first = record if first is None else min(first, record)
                break
    return first

