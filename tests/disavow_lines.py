"""Checks shared by the disavow tests: every existing line kept, every written file one Google accepts."""

from __future__ import annotations

import re
from pathlib import Path

from toxiclinks.audit import _disavow as disavow
from toxiclinks.audit import validate
from toxiclinks.cli import main

#: How a comment written by toxiclinks starts.
MARK = "# toxiclinks: "
#: Characters that some program takes for a line break, and other controls (tab is fine).
UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def escaped(line: str) -> str:
    """A line as a toxiclinks comment quotes it: as it is, or, when it holds an unsafe character,
    with backslashes doubled and each unsafe character as a Python escape."""
    if not UNSAFE.search(line):
        return line
    return UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), line.replace("\\", "\\\\"))


def missing_lines(original: list[str], *outputs: list[str]) -> list[str]:
    """The original lines found in none of the outputs: verbatim as a line, or quoted whole at the end
    of a toxiclinks comment (an invalid line kept as a comment, ``\\``-escaped where it holds a
    line-breaking character; a repaired line, whose repair is the next line)."""
    verbatim = {line for lines in outputs for line in lines}
    comments = [line for lines in outputs for line in lines if line.startswith(MARK)]
    missing = []
    for line in original:
        shown = escaped(line)
        if shown == line and line in verbatim:
            continue
        if not any(c.endswith(f": {shown}") for c in comments):
            missing.append(line)
    return missing


def problems_of(path: Path) -> list[str]:
    """What Google would object to in a written disavow file (redundant lines are allowed), after
    checking that it is UTF-8, its lines end in LF and it is within the limits (Google's, or those a
    test set on the disavow module)."""
    max_lines, max_bytes = disavow.MAX_LINES, disavow.MAX_BYTES
    data = path.read_bytes()
    text = data.decode("utf-8")  # raises if not UTF-8
    assert not UNSAFE.search(text.replace("\n", "")), path
    assert text.count("\n") <= max_lines and len(data) <= max_bytes and text.endswith("\n"), path
    return [p for p in validate(path, max_lines=max_lines, max_bytes=max_bytes) if "redundant" not in p]


def validate_command(path: Path) -> int:
    """Exit status of ``toxiclinks disavow validate PATH``."""
    return main(["disavow", "validate", str(path)])
