"""The file as the CSV parser reads it: one scan for blank lines and CRs inside lines, and the
bytes transcoded to UTF-8 when they must be decoded line by line or hold such CRs."""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..safeio import BY_LINE, decode_lines
from ._sniff import Detected, open_binary
from ._values import is_text

#: Characters that CRs inside lines are read as (noncharacters: no export holds them; the first
#: one the file does not hold is used), so that the parser does not take them for line ends.
_STAND_INS = ("\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3")


def scan(det: Detected) -> None:
    """One pass over the file in 4 MB blocks (not a memory map, which would count the whole file in
    the audit's memory), once per reading. It finds:

    - whether a blank line has a non-blank line after it (trailing blank lines change no number),
      so the exact count in :func:`~toxiclinks.reading._stray.blank_records` runs only for such files;
    - whether a CR stands inside a line of a file whose lines end in LF or CRLF. Such a CR is
      data (the csv module writes a cell holding one unquoted), but the parser would end the row
      there: it is read as a stand-in character the file does not hold, and put back in the cells.
    """
    if det.scanned:
        return
    as_bytes = not det.encoding.lower().startswith("utf-16")  # line breaks are single bytes
    raw = open_binary(Path(det.path))[0]
    stream = raw if as_bytes else io.TextIOWrapper(raw, encoding=det.encoding, errors="replace", newline="")

    def literal(text: str) -> str | bytes:
        """``text`` as the stream gives it: bytes, or text for UTF-16."""
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
    """Whether a CR before the last byte of ``block`` is not followed by LF."""
    codes = np.frombuffer(block, dtype=np.uint8)
    at = np.flatnonzero(codes[:-1] == 13)
    return bool((codes[at + 1] != 10).any())


def _absent_stand_in(det: Detected) -> str:
    """The first of :data:`_STAND_INS` that the file does not hold ("" if it holds them all: then
    its CRs end rows, as they did before); a second pass, only over files with CRs inside lines."""
    as_bytes = not det.encoding.lower().startswith("utf-16")
    raw = open_binary(Path(det.path))[0]
    stream = raw if as_bytes else io.TextIOWrapper(raw, encoding=det.encoding, errors="replace", newline="")
    candidates = {(c.encode() if as_bytes else c): c for c in _STAND_INS}
    with stream:
        tail = stream.read(0)
        while candidates and (block := stream.read(1 << 22)):
            data = tail + block
            candidates = {code: c for code, c in candidates.items() if code not in data}
            tail = data[-4:]
    return next(iter(candidates.values()), "")


def text_stream(det: Detected, errors: str = "replace") -> io.TextIOBase:
    """The file as text as the parser reads it (see :func:`parser_source`); undecodable bytes become
    U+FFFD unless ``errors`` is ``"strict"``."""
    fh, encoding = parser_source(det, errors)
    return io.TextIOWrapper(fh, encoding=encoding, errors=errors, newline="")


def parser_source(det: Detected, errors: str = "strict") -> tuple[io.BufferedIOBase, str]:
    """The bytes the parser reads, and their encoding: the file itself (decompressed), or, when it
    must be decoded line by line or holds CRs inside lines, the file transcoded to UTF-8."""
    raw, _ = open_binary(Path(det.path))
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

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` with the next transcoded bytes; 0 at the end."""
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


def restore_crs(chunk: pd.DataFrame, stand_in: str) -> None:
    """Put back the CRs that were read as ``stand_in`` (see :func:`scan`)."""
    for name in chunk.columns:
        col = chunk[name]
        if is_text(col):
            has = col.str.contains(stand_in, regex=False).fillna(False).to_numpy(bool)
            if has.any():
                chunk.loc[has, name] = col[has].str.replace(stand_in, "\r", regex=False)
