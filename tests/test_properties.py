"""Properties that hold whatever an export or a disavow file holds (Hypothesis).

Random exports (any Unicode in every cell, NULs, quotes, delimiters and line breaks inside cells,
LF/CRLF/CR line ends and mixes of them, blank lines between rows; UTF-8 with and without a
byte-order mark, UTF-16, Windows-1252, and files mixing UTF-8 and Windows-1252 lines) and random
existing disavow files (valid and broken lines, characters some programs take for line breaks, the
same encodings, files over Google's limits):

- every data row of an export is read exactly once, as a link or as a reject, under its own number:
  ``source_row`` is its record number (1 = the line below the header; a blank line counts, the line
  breaks inside a quoted cell do not), a reject's ``line`` the header's line plus that number, as the
  readers document it; a row with a URL of its own and no NUL is a link of that URL with its cells as
  written; a file is refused whole only when it is binary, with the project's own error;
- the same through ``toxiclinks audit``, in links.csv and rejects.csv, never a traceback;
- every existing disavow line reads back whole and is in the merged file or the overflow file,
  verbatim or quoted in a comment beside its repair; every disavow file written passes ``toxiclinks
  disavow validate`` within Google's limits (100,000 lines, 2 MB) or the smaller ones a test sets.

Then plain tests for the inputs these properties found.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from tests.disavow_lines import UNSAFE, missing_lines, problems_of, validate_command
from tests.exports import AHREFS_HEADER, MAJESTIC_HEADER, SEMRUSH_HEADER
from toxiclinks import read_export, schema
from toxiclinks.audit import Recommendation, merge, read, validate
from toxiclinks.audit import _disavow as disavow
from toxiclinks.cli import main
from toxiclinks.errors import DisavowError, EncodingError, ToxiclinksError
from toxiclinks.model import default_model_path
from toxiclinks.reading import REJECT_COLUMNS, iter_export
from toxiclinks.urls import URLError, normalize_host, normalize_url


def _settings(examples: int) -> settings:
    """Few enough examples that the whole file runs in about a minute on two busy cores; the same
    examples on every run (a fixed seed, no example database)."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# ---------------------------------------------------------------------------------------------
# Text and encodings


#: Every code point but the surrogates (which no encoding can write).
ANY_CHARACTER = st.characters(codec="utf-8")
#: What breaks readers: delimiters, quotes, line breaks and characters some programs take for one,
#: NUL and other controls, a byte-order mark, the characters the readers stand in for CRs,
#: spreadsheet formula starts, non-ASCII that Windows-1252 can and cannot hold.
TRICKY = st.sampled_from(['"', '""', ",", ";", "\t", "\r", "\n", "\r\n", "\x00", "\u2028", "\u2029", "\x85",
                          "\x0c", "\x0b", "\x1c", " ", "\ufeff", "\ufdd0", "=", "#", "'", "\\", "é", "€",
                          "\u00a0", "\x1a", "\x7f", "Ω"])
TEXT = st.lists(st.one_of(TRICKY, st.text(ANY_CHARACTER, max_size=4)), max_size=6).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252", "mixed"])
LINE_ENDS = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\n", "\r\n"]}
UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _is_binary(data: bytes) -> bool:
    """Whether a file is binary as the project defines it: not UTF-16 by its mark, and more than
    1 byte in 20 of its first 4 KB a control character other than tab and line breaks."""
    head = data[:4096]
    controls = sum(1 for b in head if b < 9 or 13 < b < 32 or b == 127)
    return not data.startswith(UTF16_MARKS) and controls > len(head) // 20


def _pieces(text: str | bytes, line_break: str) -> list:
    """``text`` cut after each ``line_break`` (the pieces keep it)."""
    if isinstance(text, bytes):
        return re.findall(rb"[^%b]*%b|[^%b]+" % ((line_break.encode(),) * 3), text)
    return re.findall(f"[^{line_break}]*{line_break}|[^{line_break}]+", text)


def _by_line(piece: bytes) -> str:
    """One line as a reader that decodes line by line reads it: UTF-8 where it is valid UTF-8
    (also a Windows-1252 line whose bytes happen to be), else Windows-1252."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return piece.decode("cp1252")


@dataclass
class Encoded:
    """Text written in one of the encodings exports and disavow files come in."""

    data: bytes
    exact: bool  # whether the text reads back as it was (not so for Windows-1252 lines that are valid UTF-8)


def _encode(text: str, encoding: str, line_break: str, cp1252_lines: list[bool]) -> Encoded:
    """``text`` in ``encoding``. "cp1252" writes each line that Windows-1252 can hold in it, the
    others in UTF-8; "mixed" does so for the lines ``cp1252_lines`` flags (cycled), as a file edited
    in two editors is."""
    if encoding in ("utf-8", "utf-8-sig"):
        return Encoded(text.encode(encoding), True)
    if encoding == "utf-16":
        return Encoded(codecs.BOM_UTF16_LE + text.encode("utf-16-le"), True)
    if encoding == "utf-16-be":
        return Encoded(codecs.BOM_UTF16_BE + text.encode("utf-16-be"), True)
    out, exact = [], True
    for k, piece in enumerate(_pieces(text, line_break)):
        try:
            data = piece.encode("cp1252" if encoding == "cp1252" or cp1252_lines[k % len(cp1252_lines)] else "utf-8")
        except UnicodeEncodeError:
            data = piece.encode()
        exact = exact and _by_line(data) == piece
        out.append(data)
    return Encoded(b"".join(out), exact)


def _refused_whole(data: bytes, exc: ToxiclinksError) -> None:
    """The only file a reader may refuse whole here: a binary one, with the project's own error."""
    assert isinstance(exc, EncodingError | DisavowError) and "binary" in str(exc), exc
    assert _is_binary(data), exc


# ---------------------------------------------------------------------------------------------
# Exports


#: Header cells whose values the link table keeps as text, to compare with what was written.
TEXT_FIELDS = {"Anchor": "anchor", "Anchor Text": "anchor", "Referring page title": "source_title",
               "Source title": "source_title"}
BING_HEADER = ["Source URL", "Anchor Text", "Target URL"]
SOURCE = {"ahrefs": "Referring page URL", "semrush": "Source url", "majestic": "Source URL", "bing": "Source URL"}


@dataclass
class Export:
    """A written export and what a reader must make of it."""

    data: bytes
    header: list[str]
    rows: list[list[str]]  # each data row's cells as written
    records: list[int]  # each row's record number (1 = the line below the header; blank lines count)
    good: list[bool]  # rows that must be links: a URL of their own, no NUL anywhere
    exact: bool  # whether the cells read back as written (see Encoded.exact)
    describe: str


def _own_url(i: int) -> str:
    return f"https://s{i}.example.com/p"


def _csv_row(cells: list[str], delimiter: str, quoting: int, bare_cr: bool) -> str:
    """One row as the csv module writes it, without its line break. ``bare_cr``: as it writes rows
    that end in LF, leaving a cell that holds a CR (but no LF) unquoted."""
    buf = io.StringIO()
    terminator = "\n" if bare_cr else "\r\n"  # it quotes cells holding a character of its line break
    csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator=terminator).writerow(cells)
    return buf.getvalue()[:-len(terminator)]


def _not_like_rows(cell: str, delimiter: str, columns: int) -> str:
    """A cell whose lines after the first do not hold a row's worth of delimiters. A quoted cell
    holding such a line cannot be told from a stray quote that swallowed the rows after it: the
    readers take it for one and set the quote's line aside (``readers._swallowed_record``)."""
    lines = cell.split("\n")
    need = max(1, columns - 1)
    return "\n".join([lines[0], *(ln.replace(delimiter, " ") if ln.count(delimiter) >= need else ln
                                   for ln in lines[1:])])


@st.composite
def exports(draw, max_rows: int = 30) -> Export:
    """An export in a format the readers recognise, with random cells, delimiter, quoting, line
    ends, blank lines between rows and encoding."""
    kind = draw(st.sampled_from(["ahrefs", "ahrefs", "semrush", "majestic", "bing"]))
    if kind == "ahrefs":  # the two columns it needs and a few of the others, in any order
        others = [h for h in AHREFS_HEADER if h not in ("Referring page URL", "Target URL")]
        header = draw(st.permutations(["Referring page URL", "Target URL",
                                       *draw(st.lists(st.sampled_from(others), unique=True, max_size=6))]))
    else:
        header = {"semrush": SEMRUSH_HEADER, "majestic": MAJESTIC_HEADER, "bing": BING_HEADER}[kind]
    at = header.index(SOURCE[kind])
    line_ends = draw(st.sampled_from(sorted(LINE_ENDS)))
    delimiter = draw(st.sampled_from([",", ",", "\t", ";"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    bare_cr = line_ends == "lf" and quoting == csv.QUOTE_MINIMAL and draw(st.booleans())
    rows, good = [], []
    for i in range(draw(st.integers(0, max_rows))):
        cells = [draw(TEXT) for _ in header]
        how = draw(st.sampled_from(["own", "own", "own", "own+text", "text"]))
        cells[at] = {"own": _own_url(i), "own+text": _own_url(i) + cells[at], "text": cells[at]}[how]
        if line_ends == "cr":  # a file whose lines end in CR alone holds no other line break
            cells = [c.replace("\r", " ").replace("\n", " ") for c in cells]
        rows.append([_not_like_rows(c, delimiter, len(header)) for c in cells])
        good.append(how == "own" and not any("\x00" in c for c in cells))
    lines, records = [delimiter.join(header)], []
    blanks = draw(st.lists(st.sampled_from([None, None, None, "", " ", "  "]), min_size=len(rows),
                           max_size=len(rows))) if draw(st.booleans()) else [None] * len(rows)
    for cells, blank in zip(rows, blanks, strict=True):
        if blank is not None:  # a record of its own that gives no row
            lines.append(blank)
        lines.append(_csv_row(cells, delimiter, quoting, bare_cr))
        records.append(len(lines) - 1)
    final = draw(st.booleans())
    text = "".join(line + (draw(st.sampled_from(LINE_ENDS[line_ends])) if k < len(lines) - 1 or final else "")
                   for k, line in enumerate(lines))
    # Bing writes an anchor made of one quote as `""",`, which the readers repair; valid CSV that
    # reads the same (a cell starting with `",`) cannot be told from it.
    assume(kind != "bing" or not re.search(r'(^|,)""",', text, flags=re.M))
    encoding = draw(ENCODINGS)
    encoded = _encode(text, encoding, "\r" if line_ends == "cr" else "\n",
                      draw(st.lists(st.booleans(), min_size=1, max_size=8)))
    # A CR that ends a row's last cell, left unquoted, reads as part of a CRLF line end.
    exact = encoded.exact and not (bare_cr and any(line.endswith("\r") for line in lines))
    describe = (f"{kind}, {len(header)} columns, delimiter {delimiter!r}, line ends {line_ends}, quoting {quoting}, "
                f"bare CR {bare_cr}, {encoding}, {len(rows)} rows, records {records}")
    return Export(encoded.data, header, rows, records, good, exact, describe)


def _read(path: Path, chunk_rows: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Links and rejects of an export: read whole, or in chunks of ``chunk_rows`` rows."""
    if chunk_rows is None:
        result = read_export(path)
        return result.links, result.rejects
    parts = list(iter_export(path, chunk_rows=chunk_rows))
    if not parts:
        return schema.empty_table(), pd.DataFrame(columns=REJECT_COLUMNS)
    return (pd.concat([links for links, _ in parts], ignore_index=True),
            pd.concat([bad for _, bad in parts], ignore_index=True))


def _check_rows(export: Export, row_numbers: list[int], reject_lines: list[int], hosts: list[str]) -> None:
    """Every row once, as a link or a reject, under its own number; a good row a link of its own URL."""
    header_line = 1
    got = Counter(row_numbers) + Counter(line - header_line for line in reject_lines)
    assert got == Counter(export.records), f"read {sorted(got.elements())}, written {export.records}"
    row_of = {record: i for i, record in enumerate(export.records)}
    as_links = set(row_numbers)
    for i, record in enumerate(export.records):
        assert not export.good[i] or record in as_links, f"row {i} (record {record}) is good, but was rejected"
    for number, host in zip(row_numbers, hosts, strict=True):
        own = re.fullmatch(r"s(\d+)\.example\.com", "" if pd.isna(host) else host)
        assert not own or int(own.group(1)) == row_of[number], f"record {number} has the URL of row {own.group(1)}"
    event(f"rows: {'none' if not export.records else 'all links' if not reject_lines else 'some rejected'}")


def _check_cells(export: Export, links: pd.DataFrame) -> None:
    """The text cells of good rows read back as written (trimmed of spaces; a blank one unknown)."""
    if not export.exact:
        return
    row_of = {record: i for i, record in enumerate(export.records)}
    for header_cell, field in TEXT_FIELDS.items():
        if header_cell not in export.header:
            continue
        at = export.header.index(header_cell)
        for number, value in zip(links["source_row"], links[field], strict=True):
            i = row_of[int(number)]
            if export.good[i]:
                written, read_back = export.rows[i][at].strip(), "" if pd.isna(value) else value.strip()
                assert read_back == written, f"row {i}, {header_cell!r}: read {read_back!r}, written {written!r}"
                event("cells compared")


@_settings(120)
@given(export=exports(), chunk_rows=st.sampled_from([None, None, 1, 4]))
def test_every_export_row_is_read_once_as_a_link_or_a_reject_under_its_own_number(tmp_path, export, chunk_rows):
    """Each data row of a random export is one link or one reject, under its record number (1 =
    the line below the header; a blank line counts, a quoted cell's line breaks do not), read whole
    or in small chunks; a row with a URL of its own and no NUL is a link of that URL, its text cells
    as written; a file is refused whole only as binary, with the project's own error."""
    note(export.describe)
    path = tmp_path / "export.csv"
    path.write_bytes(export.data)
    try:
        links, rejects = _read(path, chunk_rows)
    except ToxiclinksError as exc:
        _refused_whole(export.data, exc)
        event("refused whole as binary")
        return
    note(f"links {list(links['source_row'])}, rejects {list(rejects['line'])}")
    assert not _is_binary(export.data)
    _check_rows(export, [int(x) for x in links["source_row"]], [int(x) for x in rejects["line"]],
                list(links["source_host"]))
    assert list(rejects["line"]) == sorted(rejects["line"]) and (rejects["reason"] != "").all()
    _check_cells(export, links)


# ---------------------------------------------------------------------------------------------
# Disavow files


LABEL = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
TLDS = ["com", "net", "org", "xyz", "co.uk", "de", "example", "рф", "blogspot.com", "github.io", "top"]
HOST = st.builds(lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3),
                 st.sampled_from(TLDS))
LINE_TEXT = TEXT.map(lambda s: s.replace("\n", " "))
PATH = st.one_of(LINE_TEXT, st.text("abcxyz019/?=&%#._~-+", max_size=20))
#: Characters that some program takes for a line break, or that no hand-made text holds (and tab).
INSIDE = st.sampled_from(["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\r", "\x00",
                          "\x01", "\x7f", "\x9b", "\t"])


def _disavow_line() -> st.SearchStrategy[str]:
    """A line of an existing disavow file: entries, broken entries, comments, blanks, garbage, and
    any of them with a character inside that some programs take for a line break."""
    plain = st.one_of(
        HOST.map(lambda h: f"domain:{h}"),
        st.builds(lambda h, how: how.format(h), HOST, st.sampled_from([
            "Domain: {} ", "DOMAIN:{}", "domain:https://{}/path", "domain:http://{}", "domain:{}/", "domain:{}:8080",
            "domain:*.{}", "domain:www.{}", "  domain:{}\t", "domain:{}/a b"])),
        st.sampled_from(["domain:", "domain:999.999.999.999", "domain:203.0.113.7", "domain:[2001:db8::1]",
                         "https://[2001:db8::1]/x", "http://203.0.113.7/page", "domain:localhost"]),
        st.builds(lambda scheme, h, path: f"{scheme}{h}/{path}",
                  st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "", "//"]), HOST, PATH),
        st.builds(lambda h, n: f"https://{h}/" + "a" * n, HOST, st.sampled_from([2000, 2100])),
        LINE_TEXT.map(lambda s: "#" + s), st.sampled_from(["", " ", "\t", "#", "# end"]),
        LINE_TEXT,
    )
    return st.one_of(plain, st.builds(lambda line, char, at: line[:at] + char + line[at:], plain, INSIDE,
                                      st.integers(0, 40)))


@dataclass
class DisavowFile:
    """A written disavow file and the lines a reader must find in it."""

    data: bytes
    lines: list[str]
    describe: str


@st.composite
def disavow_files(draw, max_lines: int = 40) -> DisavowFile:
    """An existing disavow file of random lines, line ends and encoding, written so that its lines
    are not ambiguous: a line breaks only at LF or CRLF (at CR in a file without LF)."""
    lines = draw(st.lists(_disavow_line(), max_size=max_lines))
    line_ends = draw(st.sampled_from(sorted(LINE_ENDS)))
    encoding = draw(ENCODINGS)
    final = draw(st.booleans())
    if line_ends == "cr":  # no LF in the file: CR alone ends a line, so no line holds one
        lines = [line.replace("\r", " ") for line in lines]
    else:  # a CR just before LF would be a CRLF; a CR in a file without LF, a line break
        lines = [line + "." if line.endswith("\r") else line for line in lines]
        final = final or any("\r" in line for line in lines)
    if lines and lines[-1] == "":  # an empty last line is there only if a line break ends it
        final = True
    if lines and encoding in ("utf-8", "cp1252", "mixed"):  # else a leading U+FEFF is a byte-order mark
        lines[0] = lines[0].lstrip("\ufeff")
    text = "".join(line + (draw(st.sampled_from(LINE_ENDS[line_ends])) if k < len(lines) - 1 or final else "")
                   for k, line in enumerate(lines))
    line_break = "\r" if line_ends == "cr" else "\n"
    encoded = _encode(text, encoding, line_break, draw(st.lists(st.booleans(), min_size=1, max_size=8)))
    if not encoded.exact:  # Windows-1252 lines that are also valid UTF-8 read as UTF-8
        lines = [_by_line(piece).removesuffix(line_break) for piece in _pieces(encoded.data, line_break)]
        lines = [line.removesuffix("\r") for line in lines] if line_break == "\n" else lines
    return DisavowFile(encoded.data, lines, f"{len(lines)} lines, line ends {line_ends}, {encoding}")


def _normal(normalize, value: str) -> str | None:
    try:
        return normalize(value)
    except URLError:
        return None


@st.composite
def recommendations(draw, lines: list[str]) -> tuple[Recommendation, list[str]]:
    """What an audit would recommend (normalised sites and URLs, with ports, IP addresses, hosting
    platforms, some of them already in the file) and an allowlist."""
    known = sorted({m.group() for line in lines for m in [re.search(r"[a-z0-9-]+(\.[a-z0-9-]+)+", line)] if m})
    hosts = st.one_of(HOST, st.sampled_from(["203.0.113.9", "[2001:db8::2]", "blogspot.com", "spam.blogspot.com"]),
                      *([st.sampled_from(known)] if known else []))
    domains = {}
    for host in draw(st.lists(hosts, max_size=8)):
        if site := _normal(normalize_host, host):
            domains[site] = draw(LINE_TEXT)
    urls = {}
    for scheme, host, port, path in draw(st.lists(st.tuples(st.sampled_from(["https", "http"]), hosts,
                                                            st.sampled_from(["", "", ":8080"]), PATH), max_size=8)):
        if url := _normal(normalize_url, f"{scheme}://{host}{port}/{path}"):
            urls[url] = draw(TEXT)
    allow = draw(st.lists(st.one_of(hosts, LINE_TEXT), max_size=3))
    return Recommendation(domains, urls), allow


TODAY = dt.date(2026, 12, 1)


def _check_merged(workdir: Path, existing: DisavowFile, rec: Recommendation, allow: list[str],
                  limits: tuple[int, int] | None) -> None:
    """Read an existing file, merge and write as the audit does, and check what was written."""
    path = workdir / "uploaded.txt"
    path.write_bytes(existing.data)
    try:
        lines, _ = read(path)
    except DisavowError as exc:
        _refused_whole(existing.data, exc)
        event("refused whole as binary")
        return
    assert [ln.raw for ln in lines] == existing.lines
    max_lines, max_bytes = limits or (disavow.MAX_LINES, disavow.MAX_BYTES)
    written, overflow = workdir / "disavow.txt", workdir / disavow.OVERFLOW_FILE
    with pytest.MonkeyPatch.context() as mp:  # the limits that problems_of and validate hold files to
        mp.setattr(disavow, "MAX_LINES", max_lines)
        mp.setattr(disavow, "MAX_BYTES", max_bytes)
        merged = merge(lines, rec, allow=allow, today=TODAY, source=str(path))
        note(f"merged {len(merged.lines)} lines, overflow {len(merged.overflow)}; notes {merged.notes}")
        written.write_text(merged.text, encoding="utf-8")
        outputs = [written.read_text(encoding="utf-8").split("\n")]
        if merged.overflow:
            overflow.write_text(merged.overflow_text, encoding="utf-8")
            outputs.append(overflow.read_text(encoding="utf-8").split("\n"))
        assert missing_lines(existing.lines, *outputs) == []
        assert problems_of(written) == []
        assert validate_command(written) == 0
    assert bool(merged.full) == bool(merged.overflow)
    event("overflow" if merged.overflow else "all fit")
    if merged.overflow:  # not for uploading as it is, but each of its lines is one Google accepts
        assert not UNSAFE.search(overflow.read_text(encoding="utf-8").replace("\n", ""))
        assert [p for p in validate(overflow, max_lines=10**9, max_bytes=10**12) if "redundant" not in p] == []
        assert set(merged.left_out) <= set(outputs[1])


#: Google's limits, or (lines, bytes) small enough that random files overflow them.
LIMITS = st.one_of(st.none(), st.tuples(st.integers(1, 60), st.integers(40, 4000)))


@_settings(300)
@given(data=st.data(), existing=disavow_files(), limits=LIMITS)
def test_every_existing_disavow_line_survives_the_merge_and_every_written_file_is_valid(tmp_path, data, existing,
                                                                                         limits):
    """An existing disavow file of random lines (any Unicode, characters that some programs take
    for line breaks, mixed encodings, LF/CRLF/CR) merged with random recommendations: every line
    reads back whole, and is in the merged file or the overflow file, verbatim or quoted in a
    comment beside its repair; the merged file passes `toxiclinks disavow validate` within the
    limits (Google's, or small ones that force an overflow); the overflow file holds only lines
    Google accepts."""
    note(existing.describe)
    rec, allow = data.draw(recommendations(existing.lines))
    _check_merged(Path(tempfile.mkdtemp(dir=tmp_path)), existing, rec, allow, limits)


@st.composite
def large_disavow_files(draw) -> DisavowFile:
    """An existing file over Google's limits, more than 100,000 lines or more than 2 MB of long
    URLs, with a few random lines among them."""
    many_lines = draw(st.booleans())
    event("over 100,000 lines" if many_lines else "over 2 MB")
    if many_lines:
        step = draw(st.integers(2, 9))
        lines = [f"domain:bulk{i}.example" if i % step else f"https://u{i}.example/p"
                 for i in range(draw(st.integers(disavow.MAX_LINES + 1, disavow.MAX_LINES + 8_000)))]
    else:
        lines = [f"https://site{i}.example/{'p' * 1990}" for i in range(draw(st.integers(1_050, 1_300)))]
    for line in draw(st.lists(_disavow_line(), max_size=12)):
        lines.insert(draw(st.integers(0, len(lines))), line.replace("\r", " "))
    lines[0] = lines[0].lstrip("\ufeff")
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return DisavowFile((end.join(lines) + end).encode(), lines, f"{len(lines):,} lines")


@_settings(3)
@given(data=st.data(), existing=large_disavow_files())
def test_an_existing_file_over_googles_limits_gives_one_google_accepts_and_an_overflow(tmp_path, data, existing):
    """A file over Google's limits (more than 100,000 lines, or more than 2 MB) merged with random
    recommendations: the merged file is valid and within the limits, and every line is in it or in
    the overflow file."""
    note(existing.describe)
    rec, allow = data.draw(recommendations(existing.lines[-50:]))
    _check_merged(Path(tempfile.mkdtemp(dir=tmp_path)), existing, rec, allow, None)


# ---------------------------------------------------------------------------------------------
# Through the command line


@_settings(25)
@given(export=exports(max_rows=12), existing=st.one_of(st.none(), disavow_files(max_lines=15)))
def test_an_audit_writes_every_row_to_links_or_rejects_and_a_valid_disavow_file(tmp_path, capsys, export, existing):
    """`toxiclinks audit` (with the shipped model) on a random export, with a random existing
    disavow file or none: exit 0, or 2 with one error line for a binary file, never a traceback;
    links.csv and rejects.csv hold every row once under its own number; disavow.txt passes
    `toxiclinks disavow validate` and keeps every existing line."""
    note(export.describe)
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    path, out = workdir / "export.csv", workdir / "out"
    path.write_bytes(export.data)
    command = ["audit", str(path), "--out", str(out), "--model", str(default_model_path())]
    if existing is not None:
        (workdir / "uploaded.txt").write_bytes(existing.data)
        command += ["--existing-disavow", str(workdir / "uploaded.txt")]
    status = main(command)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    if status == 2:
        assert err.count("\n") == 1 and "binary" in err, err
        assert _is_binary(existing.data if existing is not None and "uploaded.txt" in err else export.data), err
        event("refused whole as binary")
        return
    assert status == 0, err
    links = pd.read_csv(out / "links.csv", dtype=str, keep_default_na=False)
    rejects = (pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False) if (out / "rejects.csv").exists()
               else pd.DataFrame(columns=REJECT_COLUMNS))
    hosts = [re.sub(r"^https?://([^/]*).*", r"\1", url, flags=re.S) for url in links["source_url"]]
    _check_rows(export, [int(x) for x in links["source_row"]], [int(x) for x in rejects["line"]], hosts)
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())
    assert problems_of(out / "disavow.txt") == []
    if existing is not None:
        assert missing_lines(existing.lines, (out / "disavow.txt").read_text(encoding="utf-8").split("\n")) == []


# ---------------------------------------------------------------------------------------------
# What the properties found


def test_urls_collapsed_to_fit_become_domain_lines_of_hosts_never_of_ports_or_ipv6_addresses(tmp_path):
    """Over the limits, new URLs are collapsed into domain: lines of their sites. A URL with a port
    gave `domain:spam.example:8080` and an IPv6 URL `domain:[2001:db8::2]`, lines Google refuses; an
    IPv6 site keeps its URL line instead."""
    rec = Recommendation(urls={"https://[2001:db8::2]/": "", "https://spam.example:8080/p": "",
                               "http://203.0.113.9:81/x": ""})
    merged = merge([], rec, max_lines=4, comments=False, today=TODAY)  # 3 URLs and the section's 2 lines do not fit
    assert merged.added_domains == ["203.0.113.9", "spam.example"]
    assert merged.left_out == ["https://[2001:db8::2]/"] and merged.left_out[0] in merged.overflow
    path = tmp_path / "disavow.txt"
    path.write_text(merged.text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(disavow, "MAX_LINES", 4)
        assert problems_of(path) == []


@pytest.mark.parametrize("kind", ["bing", "stray quote"])
def test_a_windows_1252_line_in_a_bing_export_or_one_read_again_after_a_stray_quote(tmp_path, kind):
    """Bing exports (repaired as text) and exports read again after a stray quote were given to the
    parser with the name of the line-by-line decoding as their encoding: a Windows-1252 line made the
    audit fail with an internal error (LookupError)."""
    if kind == "bing":
        text = "Source URL,Anchor Text,Target URL\nhttps://a.example.com/p,café,https://t.example.com/\n"
    else:
        text = ("Referring page URL,Target URL,Anchor\nhttps://a.example.com/p,https://t.example.com/,\"café\n"
                "https://b.example.com/p,https://t.example.com/,crème\n")
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("cp1252"))
    result = read_export(path)
    if kind == "bing":
        assert list(result.links["anchor"]) == ["café"] and len(result.rejects) == 0
    else:
        assert list(result.links["anchor"]) == ["crème"] and list(result.links["source_row"]) == [2]
        assert list(result.rejects["line"]) == [2] and "stray quote" in result.rejects["reason"].iloc[0]
    assert any("read as Windows-1252" in p for p in result.problems)


def test_a_row_starting_with_an_empty_cell_after_a_blank_line_of_a_cr_file_keeps_its_columns(tmp_path):
    """In a file whose lines end in CR alone, the parser dropped the empty first cell of a row that
    follows a blank line: every cell moved one column left, and the target URL was read as the
    source URL."""
    path = tmp_path / "mac.csv"
    path.write_bytes(b"Anchor,Referring page URL,Target URL\r,https://s0.example.com/p,https://t.example.com/\r"
                     b"\r,https://s1.example.com/p,https://t.example.com/\r")
    result = read_export(path)
    assert list(result.links["source_url"]) == ["https://s0.example.com/p", "https://s1.example.com/p"]
    assert list(result.links["target_url"]) == ["https://t.example.com/"] * 2
    assert list(result.links["source_row"]) == [1, 3] and len(result.rejects) == 0
