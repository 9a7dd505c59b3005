"""What an export is: its container, encoding, delimiter, header line and format, sniffed from its start."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EmptyInputError, EncodingError, InputError, UnknownFormatError
from ..safeio import (
    BY_LINE,
    decode_lines,
    input_problem,
    line_break_of,
    looks_binary,
    split_lines,
    utf16_encoding,
)
from . import _formats as formats

_SAMPLE_BYTES = 256 * 1024
_HEADER_SEARCH_LINES = 30

#: The columns of every table of rejected rows.
REJECT_COLUMNS = ["file", "line", "column", "reason", "value"]


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
    # Found by _transcode.scan: a blank line with rows after it; and, when CRs stand inside lines of a file
    # whose lines end in LF or CRLF, the character they are read as (the CRs are data).
    scanned: bool = False
    inner_blank: bool = False
    lone_cr: str = ""
    fallback_lines: set[int] = field(default_factory=set)  # lines read as Windows-1252 (BY_LINE)


def open_binary(path: Path) -> tuple[io.BufferedIOBase, str | None]:
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

    ``format`` forces one of the formats (``toxiclinks.reading._formats``) instead of detecting it.
    """
    path = Path(path)
    problem = input_problem(path, "export file", missing="no such file")
    if problem:
        raise InputError(problem, path=str(path))
    notes: list[str] = []
    fh, compression = open_binary(path)
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
