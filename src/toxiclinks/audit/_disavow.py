"""Google disavow files: parse, validate line by line, and merge without losing anything.

Google's rules: plain text, UTF-8 (or 7-bit ASCII); one URL or ``domain:example.com`` per line;
``#`` comments; at most 100,000 lines (blank and comment lines count) and 2 MB; URLs at most 2,048
characters; ``domain:`` takes no scheme, path or wildcard. An upload *replaces* the previous file,
so :func:`merge` keeps every existing line, in order, and only appends; what it cannot keep as it
was (an invalid line) it keeps as a comment, and what cannot fit within the limits it lists in an
overflow file instead (see :func:`merge` for the order).

Lines end at LF or CRLF (at CR in a file without any LF); a line holding any other character that
some program takes for a line break (U+2028, U+0085, a form feed, a CR inside it, …) is invalid
rather than cut in two, since either half could be a different URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DisavowError
from ..safeio import UNSAFE_CHARACTERS, decode_text, input_problem, split_lines
from ..urls import (
    URLError,
    host_of,
    normalize_host,
    normalize_url,
)

MAX_LINES = 100_000
MAX_BYTES = 2 * 1024 * 1024
MAX_URL = 2048
#: The file :func:`merge` names for what does not fit (the audit writes it beside disavow.txt).
OVERFLOW_FILE = "disavow-overflow.txt"
#: Where a comment written by toxiclinks starts; the rest of the line says what it is about.
MARK = "# toxiclinks: "


@dataclass(frozen=True)
class Line:
    """One line of a disavow file."""

    number: int
    raw: str
    kind: str  # comment | blank | domain | url | invalid
    value: str = ""  # normalised domain or URL
    error: str = ""
    repair: str = ""  # an invalid domain: line whose host is clear: that host


_CHARACTER_NAMES = {
    "\x00": "a NUL byte", "\r": "a carriage return (CR) inside the line", "\x0b": "a vertical tab",
    "\x0c": "a form feed", "\x1c": "a file separator (U+001C)", "\x1d": "a group separator (U+001D)",
    "\x1e": "a record separator (U+001E)", "\x85": "a next-line character (U+0085)",
    "\u2028": "a line separator (U+2028)", "\u2029": "a paragraph separator (U+2029)",
}


def _unsafe(raw: str) -> str:
    """Why a line cannot be written as it is, or "" (see :data:`UNSAFE_CHARACTERS`)."""
    found = UNSAFE_CHARACTERS.search(raw)
    if not found:
        return ""
    char = found.group()
    name = _CHARACTER_NAMES.get(char, f"a control character (U+{ord(char):04X})")
    breaks = char != "\x00" and char in _CHARACTER_NAMES
    return f"holds {name} at column {found.start() + 1}" + ("; some programs read it as a line break" if breaks else "")


def parse_line(number: int, raw: str) -> Line:
    """Classify and check one line."""
    unsafe = _unsafe(raw)
    if unsafe:
        return Line(number, raw, "invalid", error=unsafe)
    text = raw.strip()
    if not text:
        return Line(number, raw, "blank")
    if text.startswith("#"):
        return Line(number, raw, "comment")
    if text.lower().startswith("domain:"):
        value = text[len("domain:"):].strip()
        if not value:
            return Line(number, raw, "invalid", error="domain: needs a domain name")
        if "*" in value:
            return Line(number, raw, "invalid", error="domain: takes no wildcard; it already covers subdomains")
        for mark, error in (("://", "domain: takes no scheme (write domain:example.com)"),
                            ("/", "domain: takes no path (write domain:example.com)"),
                            (":", "domain: takes no port (write domain:example.com)")):
            if mark in value:
                return Line(number, raw, "invalid", error=error, repair=_host_in(value))
        try:
            host = normalize_host(value)
        except URLError as exc:
            return Line(number, raw, "invalid", error=str(exc))
        if host.startswith("["):
            return Line(number, raw, "invalid", error="domain: takes a domain name or an IPv4 address, "
                                                      "not an IPv6 address; list its URLs instead")
        return Line(number, raw, "domain", host)
    if len(text) > MAX_URL:
        return Line(number, raw, "invalid", error=f"URL is {len(text):,} characters long (limit {MAX_URL:,})")
    if "://" not in text:
        return Line(number, raw, "invalid",
                    error="not a URL or domain: line; write a full URL (https://…) or domain:example.com")
    try:
        return Line(number, raw, "url", normalize_url(text))
    except URLError as exc:
        return Line(number, raw, "invalid", error=str(exc))


def _host_in(value: str) -> str:
    """The host a ``domain:`` value with a scheme, path or port names ("" when it names none, or
    names an IPv6 address, which a ``domain:`` line cannot hold)."""
    try:
        host = host_of(normalize_url(value))
    except URLError:
        return ""
    return "" if host.startswith("[") else host


def parse(text: str) -> list[Line]:
    """All lines of a disavow file's text (see the module's note on line ends)."""
    return [parse_line(i, raw) for i, raw in enumerate(split_lines(text), start=1)]


#: Lines named one by one in a note about a file; the rest are counted.
_NAMED_LINES = 50


def read(path: str | Path) -> tuple[list[Line], list[str]]:
    """Read a disavow file: its lines, and problems with the file as a whole or its encoding."""
    path = Path(path)
    problem = input_problem(path, "disavow file")
    if problem:
        raise DisavowError(f"{path}: {problem}")
    try:
        text, encoding, fallback = decode_text(path.read_bytes())
    except ValueError:
        raise DisavowError(f"{path}: binary file, not a disavow text file") from None
    problems = []
    if encoding.startswith("utf-16"):  # Windows Notepad's "Unicode": readable, but not what Google reads
        problems.append(f"{path}: line 1: UTF-16 text; Google reads disavow files as UTF-8 or 7-bit ASCII: "
                        "save it as UTF-8 before uploading")
    for number in fallback[:_NAMED_LINES]:
        problems.append(f"{path}: line {number}: not UTF-8 (Google accepts UTF-8 or 7-bit ASCII); "
                        "this line was read as Windows-1252")
    if len(fallback) > _NAMED_LINES:
        problems.append(f"{path}: {len(fallback) - _NAMED_LINES:,} more lines are not UTF-8 "
                        f"(the first {_NAMED_LINES} are listed); they were read as Windows-1252")
    return parse(text), problems


def validate(path: str | Path, *, max_lines: int | None = None, max_bytes: int | None = None) -> list[str]:
    """Every rule a disavow file breaks, as ``file: line N: message``; empty when valid. The limits
    are Google's (:data:`MAX_LINES`, :data:`MAX_BYTES`) unless given."""
    max_lines = MAX_LINES if max_lines is None else max_lines
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    lines, problems = read(path)
    size = Path(path).stat().st_size
    if size > max_bytes:
        problems.append(f"{path}: file is {size:,} bytes (limit {max_bytes:,})")
    if len(lines) > max_lines:
        problems.append(f"{path}: file has {len(lines):,} lines (limit {max_lines:,}, comments and blanks count)")
    seen: dict[str, int] = {}
    domains: dict[str, int] = {}
    for ln in lines:
        if ln.kind == "domain":
            domains.setdefault(ln.value, ln.number)
    for ln in lines:
        if ln.kind == "invalid":
            problems.append(f"{path}: line {ln.number}: {ln.error}: {ln.raw.strip()[:100]!r}")
        elif ln.kind in ("domain", "url"):
            key = f"{ln.kind}:{ln.value}"
            if key in seen:
                problems.append(f"{path}: line {ln.number}: duplicate of line {seen[key]} (allowed, but redundant)")
            seen.setdefault(key, ln.number)
            if ln.kind == "url":
                covering = covered_by(ln.value, domains)
                if covering:
                    problems.append(f"{path}: line {ln.number}: already covered by domain:{covering} "
                                    f"on line {domains[covering]} (allowed, but redundant)")
    return problems


def covered_by(url_or_host: str, domains: set[str] | dict[str, object]) -> str | None:
    """The ``domain:`` entry (if any) in ``domains`` that covers a URL or host."""
    host = url_or_host.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    labels = host.split(".")
    for i in range(len(labels) - 1):
        candidate = ".".join(labels[i:])
        if candidate in domains:
            return candidate
    return None
