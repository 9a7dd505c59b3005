"""Atomic writes and spreadsheet-safe CSV: no half-written output after a crash or Ctrl-C."""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_FORMULA_PATTERN = "^[=+\\-@\t\r]"


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding,
                       newline=None if "b" in mode else newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def csv_bytes(frame: pd.DataFrame, header: bool = True) -> bytes:
    """``frame`` as UTF-8 CSV, formula-escaped, as pandas' ``to_csv(index=False)`` writes it.

    The cells are built in Arrow (a million rows in well under a second; ``to_csv`` takes ~9 s):
    text cells starting with = + - @ tab or CR get a leading quote (spreadsheets would run them),
    cells holding a comma, quote or line break are quoted with quotes doubled, missing values
    are empty, numbers are written as Python writes them. One difference from ``to_csv``: a cell
    with a bare CR is quoted too, as RFC 4180 asks (pandas leaves it bare, which breaks the row).
    """
    if frame.shape[1] == 0:
        raise ValueError("a CSV needs at least one column")
    cells = [_csv_cells(frame[name]) for name in frame.columns]
    names = _quoted(pa.array([str(name) for name in frame.columns], pa.large_string()))
    if len(cells) == 1:  # the csv module quotes an empty lone cell, so a blank line stands for a row
        cells, names = [_lone(cells[0])], _lone(names)
    return (",".join(names.to_pylist()).encode() + b"\n" if header else b"") + _join_rows(cells)


def _csv_cells(column: pd.Series) -> pa.Array:
    """One column's CSV cells, as an Arrow large-string array without nulls."""
    dtype = column.dtype
    if dtype.kind == "f":
        values = column.to_numpy(np.float64, na_value=np.nan)
        codes, uniq = pd.factorize(values, use_na_sentinel=False)  # each distinct number formatted once
        text = np.where(np.isnan(uniq), "", uniq.astype(str)) if len(uniq) else uniq.astype(str)
        return pa.array(text.astype(object), pa.large_string()).take(pa.array(codes))
    if dtype.kind in "iub" or isinstance(dtype, pd.BooleanDtype):
        cells = _contiguous(pa.array(column, from_pandas=True))
        if pa.types.is_boolean(cells.type):  # Python's spelling, as the csv module writes it
            cells = pc.if_else(cells, "True", "False")
        return pc.fill_null(pc.cast(cells, pa.large_string()), _text(""))
    text = _contiguous(pa.array(column, from_pandas=True)) if isinstance(dtype, (pd.StringDtype, pd.ArrowDtype)) \
        else None  # no copy for one chunk
    if text is None or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        values = column.to_numpy(object, na_value=None)
        try:
            text = pa.array(values, pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: the csv module writes str(value)
            text = pa.array([None if v is None or v != v else str(v) for v in values], pa.string())
    text = pc.fill_null(text.cast(pa.large_string()), _text(""))
    text = _where(text, pc.match_substring_regex(text, _FORMULA_PATTERN),
                  lambda risky: pc.binary_join_element_wise(_text("'"), risky, _text("")))
    return _quoted(text)


def _contiguous(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow array (a column concatenated from chunks is a ChunkedArray, which the kernels
    below and the row join do not take)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _where(text: pa.Array, mask: pa.Array, change) -> pa.Array:
    """``text`` with the cells under ``mask`` replaced by ``change`` of them (usually a few cells)."""
    if not pc.any(mask).as_py():
        return text
    return pc.replace_with_mask(text, mask, change(pc.filter(text, mask)))


def _text(value: str) -> pa.Scalar:
    """A text constant for Arrow kernels on large strings."""
    return pa.scalar(value, pa.large_string())


def _lone(cells: pa.Array) -> pa.Array:
    """Empty cells of a one-column CSV as ``""``."""
    return pc.if_else(pc.equal(pc.binary_length(cells), 0), _text('""'), cells)


def _quoted(text: pa.Array) -> pa.Array:
    """Cells holding a delimiter, quote or line break in quotes, quotes doubled."""
    return _where(text, pc.match_substring_regex(text, '[",\r\n]'), lambda cells: pc.binary_join_element_wise(
        _text('"'), pc.replace_substring(cells, '"', '""'), _text('"'), _text("")))


def _join_rows(cells: list[pa.Array]) -> bytes:
    """The cells joined by commas, one line per row, as UTF-8 bytes."""
    if not len(cells[0]):
        return b""
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*cells, _text(",")), _text(""), _text("\n"))
    offsets = np.frombuffer(lines.buffers()[1], np.int64)
    begin, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return lines.buffers()[2].slice(begin, end - begin).to_pybytes()


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as UTF-8 CSV, formula-escaped, atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(csv_bytes(frame))


def decode_text(data: bytes) -> tuple[str, str, int]:
    """Text of a small hand-made file (a disavow file, an allowlist), the encoding it was read in,
    and the line of its first byte that is not UTF-8 (0 when none).

    UTF-8 with or without a byte-order mark; UTF-16 by its mark or by the NUL bytes of ASCII text
    in it (Windows Notepad's "Unicode"); otherwise Windows-1252, which decodes any byte. Raises
    ``ValueError`` for binary data: more than 1 byte in 20 of the start a control character (text
    has next to none; a stray NUL on one line is that line's problem, not the file's).
    """
    head = data[:4096]
    encoding = utf16_encoding(head)
    if encoding:
        return data.decode(encoding, errors="replace"), encoding, 0
    if sum(head.count(bytes([c])) for c in _CONTROL_BYTES) > len(head) // 20:
        raise ValueError("binary data")
    try:
        return data.decode("utf-8-sig"), "utf-8", 0
    except UnicodeDecodeError as exc:
        return data.decode("cp1252", errors="replace"), "cp1252", data[: exc.start].count(b"\n") + 1


_CONTROL_BYTES = (*range(0, 9), *range(14, 32), 127)


def utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 codec of a file's first bytes, by its byte-order mark (``utf-16``) or, without
    one, by the NUL bytes that ASCII text has in every other byte (``utf-16-le``/``-be``); else None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if len(head) >= 4 and min(even, odd) == 0 and max(even, odd) > len(head) // 4:
        return "utf-16-le" if odd else "utf-16-be"
    return None
