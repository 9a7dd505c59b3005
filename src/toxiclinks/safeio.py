"""Atomic writes and spreadsheet-safe CSV: no half-written output after a crash or Ctrl-C."""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import os
import re
import stat
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
                newline: str | None = None, durable: bool = True) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and move it into place only if the block succeeds.

    ``durable=False`` skips the fsync, for scratch files that need to be whole, not to survive a crash.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding,
                       newline=None if "b" in mode else newline) as fh:
            yield fh
            fh.flush()
            if durable:
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

    The cells are built in Arrow, much faster than ``to_csv``:
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


def decode_text(data: bytes) -> tuple[str, str, list[int]]:
    """Text of a small hand-made file (a disavow file, an allowlist), the encoding it was read in,
    and the lines that were not UTF-8 (read as Windows-1252; empty when none).

    UTF-8 with or without a byte-order mark; UTF-16 by its mark or by the NUL bytes of ASCII text
    in it (Windows Notepad's "Unicode"); otherwise line by line: UTF-8 where a line is valid UTF-8,
    Windows-1252 (which decodes any byte) where it is not, so one pasted Windows line does not turn
    the UTF-8 lines around it into mojibake. Raises ``ValueError`` for binary data: more than 1 byte
    in 20 of the start a control character (text has next to none; a stray NUL on one line is that
    line's problem, not the file's).
    """
    head = data[:4096]
    encoding = utf16_encoding(head)
    if encoding:
        return data.decode(encoding, errors="replace"), encoding, []
    if looks_binary(head):
        raise ValueError("binary data")
    data = data.removeprefix(codecs.BOM_UTF8)
    text, fallback = decode_lines(data, line_break_of(data))
    return text, ("utf-8" if not fallback else BY_LINE), fallback


#: The encoding of text decoded by :func:`decode_lines` when some lines were not UTF-8.
BY_LINE = "utf-8, else windows-1252 line by line"


def decode_lines(data: bytes, line_break: bytes = b"\n", first_line: int = 1) -> tuple[str, list[int]]:
    """``data`` decoded line by line: UTF-8 where a line is valid UTF-8, else Windows-1252 (its few
    undefined bytes as U+FFFD); and the numbers of the lines that needed Windows-1252, counting
    from ``first_line`` (lines end at the one byte ``line_break``).

    The lines that cannot be UTF-8 are found in one vectorised pass over the bytes, and runs of
    lines are decoded together: a Windows-1252 export of a million lines is not a million
    decoder calls.
    """
    try:
        return codecs.utf_8_decode(data, "strict", True)[0], []
    except UnicodeDecodeError:
        pass
    arr = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(arr == line_break[0])
    starts = np.concatenate([[0], breaks + 1])
    stops = np.append(breaks, len(arr))  # each line's end, before its line break
    bad = np.unique(np.searchsorted(breaks, _not_utf8(arr)))
    parts: list[str] = []
    fallback: list[int] = []
    done = 0  # lines decoded so far
    runs = np.split(bad, np.flatnonzero(np.diff(bad) != 1) + 1) if len(bad) else []
    for run in runs:
        first, last = int(run[0]), int(run[-1])
        if first > done:  # the lines before the run: UTF-8 (one call; line by line if that fails)
            parts.append(_utf8_lines(data, starts, stops, done, first - 1, line_break, fallback, first_line))
            parts.append(line_break.decode())
        parts.append(data[starts[first]:stops[last]].decode("cp1252", errors="replace"))
        fallback.extend(range(first + first_line, last + first_line + 1))
        done = last + 1
        if done < len(starts):
            parts.append(line_break.decode())
    if done < len(starts):
        parts.append(_utf8_lines(data, starts, stops, done, len(starts) - 1, line_break, fallback, first_line))
    return "".join(parts), sorted(fallback)


def _not_utf8(arr: np.ndarray) -> np.ndarray:
    """Positions of bytes that break UTF-8's structure: a lead byte no valid sequence starts with or
    without its continuation bytes, a continuation byte without its lead. (Overlong forms and
    surrogates pass; the decoder catches those.)"""
    pos = np.flatnonzero(arr >= 0x80)
    if not len(pos):
        return pos
    byte = arr[pos]
    cont = (byte & 0xC0) == 0x80
    need = np.select([byte >= 0xF0, byte >= 0xE0, byte >= 0xC2], [3, 2, 1], 0)
    broken = ~cont & ((byte < 0xC2) | (byte > 0xF4))
    claimed = np.zeros(len(arr), dtype=bool)
    for k in (1, 2, 3):
        lead = np.flatnonzero(~cont & ~broken & (need >= k))
        target = pos[lead] + k
        ok = target < len(arr)
        ok[ok] = (arr[target[ok]] & 0xC0) == 0x80
        broken[lead[~ok]] = True
        claimed[target[ok]] = True
    broken |= cont & ~claimed[pos]
    return pos[broken]


def _utf8_lines(data: bytes, starts: np.ndarray, stops: np.ndarray, first: int, last: int,
                line_break: bytes, fallback: list[int], first_line: int) -> str:
    """Lines ``first``..``last`` (0-based, inclusive) as UTF-8, or line by line with the Windows-1252
    fallback when some are not (an overlong form or a surrogate, which :func:`_not_utf8` passes)."""
    chunk = data[starts[first]:stops[last]]
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError:
        pass
    out = []
    for number, line in enumerate(chunk.split(line_break), start=first + first_line):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(line.decode("cp1252", errors="replace"))
            fallback.append(number)
    return line_break.decode().join(out)


def line_break_of(text: bytes | str) -> bytes | str:
    """How lines end in ``text``: LF (also for CRLF), or CR in a file without any LF (classic Mac)."""
    lf, cr = ("\n", "\r") if isinstance(text, str) else (b"\n", b"\r")
    return cr if lf not in text and cr in text else lf


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends. Lines end at LF or CRLF, or at CR in a file without
    any LF (classic Mac); no other character ends a line (``str.splitlines`` also breaks at U+2028,
    U+0085, form feeds and more, which would cut a URL in two)."""
    if not text:
        return []
    if line_break_of(text) == "\r":
        lines = text.split("\r")
    else:
        lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    if lines[-1] == "":
        lines.pop()  # the end of the last line, not an empty line after it
    return lines


#: Characters that some reader of a text file takes for a line break (CR, VT, FF, FS, GS, RS,
#: NEL, U+2028, U+2029) or that no hand-made text holds (other C0 and C1 controls, DEL); tab is fine.
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def escape_unsafe(text: str) -> str:
    """``text`` with backslashes doubled and each :data:`UNSAFE_CHARACTERS` character written as a
    Python escape (``\\r``, ``\\x0c``, ``\\u2028``), so that it fits on one safe line."""
    return UNSAFE_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                                 text.replace("\\", "\\\\"))


def unescape_unsafe(text: str) -> str:
    """The inverse of :func:`escape_unsafe`."""
    return re.sub(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4}|[rnt])",
                  lambda m: m.group(1) if m.group(1) == "\\" else m.group().encode().decode("unicode_escape"),
                  text)


def input_problem(path: str | Path, what: str, missing: str = "") -> str | None:
    """Why ``path`` cannot be read as an input file (``what`` names it: "disavow file"), or None;
    ``missing`` is the message for a path that does not exist (default "no such <what>").

    A named pipe or device is refused rather than opened: reading it would wait for a writer, or
    never end.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return (missing or f"no such {what}") + (" (a symbolic link to a missing file)" if path.is_symlink() else "")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"a loop of symbolic links, not {_article(what)} {what}"
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return f"is a folder, not {_article(what)} {what}"
    if not stat.S_ISREG(mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        return f"is {kind}, not a regular file; copy what it holds into a file and pass that file"
    return None


def _article(word: str) -> str:
    """'a' or 'an' before ``word``."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (through links and symbolic links too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet), or is a loop of links: compare where they would be
        try:
            return Path(a).resolve() == Path(b).resolve()
        except (OSError, RuntimeError):  # a loop of symbolic links (it is reported where it is read)
            return os.path.abspath(a) == os.path.abspath(b)


_CONTROL_BYTES = (*range(0, 9), *range(14, 32), 127)


def looks_binary(head: bytes) -> bool:
    """Whether a file's first bytes (not UTF-16) are binary data: more than 1 in 20 a control
    character. Text has next to none; a stray NUL on one line is that line's problem, not the file's."""
    return sum(head.count(bytes([c])) for c in _CONTROL_BYTES) > len(head) // 20


def utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 codec of a file's first bytes, by its byte-order mark (``utf-16``) or, without
    one, by the NUL bytes that ASCII text has in every other byte (``utf-16-le``/``-be``); else None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if len(head) >= 4 and min(even, odd) == 0 and max(even, odd) > len(head) // 4:
        return "utf-16-le" if odd else "utf-16-be"
    return None


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (model artifacts and compiled libraries are checked by it)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
