"""Disavow files: Google's rules line by line, and merging that never loses an existing line."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.disavow_lines import missing_lines, problems_of
from toxiclinks.audit import (
    MAX_BYTES,
    MAX_LINES,
    Recommendation,
    merge,
    parse,
    read,
    validate,
)
from toxiclinks.audit._disavow import parse_line
from toxiclinks.cli import main
from toxiclinks.errors import DisavowError

EXISTING = """# Disavow file for example.com
# uploaded 2025-01-01
domain:spam-one.xyz
https://blog.spam-two.com/post-1
https://blog.spam-two.com/post-1
https://www.spam-one.xyz/page
domain:https://bad-syntax.com

# end
"""


def test_parse_classifies_lines():
    kinds = [ln.kind for ln in parse(EXISTING)]
    assert kinds == ["comment", "comment", "domain", "url", "url", "url", "invalid", "blank", "comment"]


@pytest.mark.parametrize("line, message", [
    ("domain:https://x.com", "no scheme"), ("domain:x.com/", "no path"), ("domain:*.x.com", "no wildcard"),
    ("example.com", "not a URL or domain: line"), ("https://x.com/" + "a" * 2100, "limit 2,048"),
    ("domain:", "needs a domain"), ("domain:exa mple.com", "not a valid domain name"),
])
def test_validate_names_line_and_rule(tmp_path, line, message):
    path = tmp_path / "d.txt"
    path.write_text(f"# ok\ndomain:good.com\n{line}\n")
    problems = validate(path)
    assert len(problems) == 1 and "line 3" in problems[0] and message in problems[0]


def test_validate_limits_and_encoding(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("# c\n" * (MAX_LINES + 1))
    assert any("limit 100,000" in p for p in validate(big))
    huge = tmp_path / "huge.txt"
    huge.write_text(("https://x.com/" + "a" * 2000 + "\n") * 1100)
    assert any("bytes (limit" in p for p in validate(huge))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("# café\ndomain:x.com\n".encode("cp1252"))
    assert any("not UTF-8" in p for p in validate(latin))
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(DisavowError, match="binary"):
        validate(binary)


def test_merge_keeps_every_existing_line_in_order_and_marks_redundancy(tmp_path):
    lines = parse(EXISTING)
    rec = Recommendation(domains={"new-spam.top": "casino anchors", "spam-one.xyz": "again"},
                         urls={"https://other.example/x": "toxic 91", "https://sub.new-spam.top/p": "covered"})
    merged = merge(lines, rec, today=dt.date(2026, 11, 23))
    out = merged.lines
    # Every original line survives, in order (marks are extra comment lines before them); the
    # invalid domain: line as a comment quoting it, beside its repair.
    originals = EXISTING.splitlines()
    assert missing_lines(originals, out) == []
    it = iter(out)
    assert all(any(line == o for o in it) for line in originals if line != "domain:https://bad-syntax.com")
    assert "# toxiclinks: next line is redundant (duplicate of line 4); kept as it was" in out
    assert "# toxiclinks: next line is redundant (covered by domain:spam-one.xyz on line 3); kept as it was" in out
    repaired = out.index("domain:bad-syntax.com")
    assert out[repaired - 1] == ("# toxiclinks: line 7 repaired on the next line (domain: takes no scheme (write "
                                 "domain:example.com)); it read: domain:https://bad-syntax.com")
    assert any("repaired to domain:bad-syntax.com" in m for m in merged.marked)
    written = tmp_path / "disavow.txt"
    written.write_text(merged.text, encoding="utf-8")
    assert problems_of(written) == []
    # New entries in a dated section; nothing already covered is added again.
    assert any(line.startswith("# Added by toxiclinks on 2026-11-23") for line in out)
    assert merged.added_domains == ["new-spam.top"]
    assert merged.added_urls == ["https://other.example/x"]
    assert out.index("domain:new-spam.top") > out.index("# end")


def test_merge_never_disavows_allowlisted_or_whole_platforms():
    rec = Recommendation(domains={"partner.com": "footer links", "blogspot.com": "x",
                                  "cheap-pills.blogspot.com": "pharma", "sites.google.com": "y"},
                         urls={"https://www.partner.com/links": "z"})
    merged = merge([], rec, allow=["partner.com"])
    assert merged.added_domains == ["cheap-pills.blogspot.com"]
    assert merged.added_urls == []
    assert any("hosting platform" in n for n in merged.notes)
    assert not any("partner.com" in line and not line.startswith("#") for line in merged.lines)
    # A URL with a port is still on the allowlisted site.
    merged = merge([], Recommendation(urls={"https://partner.com:8080/x": "t", "https://spam.example:8080/y": "t"}),
                   allow=["partner.com"])
    assert merged.added_urls == ["https://spam.example:8080/y"]


def test_merge_collapses_urls_rather_than_exceed_limits():
    existing = parse("\n".join(f"domain:old{i}.com" for i in range(MAX_LINES - 40)))
    urls = {f"https://spam{i % 5}.net/page{i}": "t" for i in range(200)}
    merged = merge(existing, Recommendation(urls=urls))
    assert len(merged.lines) <= MAX_LINES
    assert sorted(merged.added_domains) == [f"spam{i}.net" for i in range(5)]
    assert any("collapsed" in n for n in merged.notes)
    assert len(merged.lines) >= len(existing)


def test_merge_keeps_the_most_toxic_that_fit_and_lists_the_rest(tmp_path):
    existing = parse("\n".join(f"domain:old{i}.com" for i in range(MAX_LINES)))
    merged = merge(existing, Recommendation(domains={"new.com": "x"}))
    assert merged.lines[:MAX_LINES] == [ln.raw for ln in existing] and merged.added_domains == []
    assert merged.left_out == ["domain:new.com"] and any("do not fit" in n for n in merged.notes)
    # Far more toxic sites than Google accepts: the first (most toxic) ones are written.
    many = {f"spam{i:06d}.net": "t" for i in range(MAX_LINES + 5000)}
    merged = merge([], Recommendation(domains=many))
    assert len(merged.lines) <= MAX_LINES and len(merged.text.encode()) <= 2 * 1024 * 1024
    assert "domain:spam000000.net" in merged.lines and merged.left_out[-1] == f"domain:spam{MAX_LINES + 4999:06d}.net"
    assert len(merged.added_domains) + len(merged.left_out) == len(many)
    path = tmp_path / "disavow.txt"
    path.write_text(merged.text, encoding="utf-8")
    assert validate(path) == []


def test_validate_command(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("# c\ndomain:a.com\nhttps://b.com/x\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("domain:*.a.com\n")
    assert main(["disavow", "validate", str(good)]) == 0
    assert main(["disavow", "validate", str(bad)]) == 1
    assert main(["disavow", "validate", str(tmp_path / "missing.txt")]) == 2
    out = capsys.readouterr()
    assert "valid" in out.out and "line 1" in out.out and "no such disavow file" in out.err


def test_read_reports_problems_not_tracebacks(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"domain:a.com\r\n# \xe9t\xe9\r\n")
    lines, problems = read(path)
    assert [ln.kind for ln in lines] == ["domain", "comment"] and problems


def test_read_takes_utf16_and_stray_nuls_as_line_problems_and_refuses_folders(tmp_path):
    notepad = tmp_path / "unicode.txt"
    notepad.write_text("# old\ndomain:spam.example\nhttps://x.example/a\n", encoding="utf-16")
    lines, problems = read(notepad)
    assert [ln.kind for ln in lines] == ["comment", "domain", "url"]
    assert any("UTF-16" in p and "save it as UTF-8" in p for p in problems)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"domain:a.example\nhttps://b.example/\x00x\ndomain:c.example\n")
    assert [ln.kind for ln in read(nul)[0]] == ["domain", "invalid", "domain"]
    assert any("line 2: holds a NUL byte" in p for p in validate(nul))
    with pytest.raises(DisavowError, match="is a folder"):
        read(tmp_path)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(DisavowError, match="binary"):
        read(noise)


def test_allowlist_entries_mean_the_same_everywhere():
    from toxiclinks.urls import site_entries, under_sites

    allow = ["https://www.Partner.com/links", "# comment", "domain:friend.org", "  "]
    assert site_entries(allow) == {"partner.com", "friend.org"}
    assert under_sites("blog.partner.com", site_entries(allow)) and not under_sites("notpartner.com", site_entries(allow))
    merged = merge([], Recommendation(domains={"partner.com": "x", "spam.example": "y"},
                                      urls={"https://blog.partner.com/p": "z"}), allow=allow)
    assert merged.added_domains == ["spam.example"] and merged.added_urls == []


@pytest.mark.parametrize("char", ["\u2028", "\u0085", "\x0c", "\x1c", "\u2029", "\x0b", "\r"])
def test_a_line_ends_only_at_its_line_break(tmp_path, char):
    """str.splitlines() also breaks at U+2028, U+0085, form feeds, …: a URL holding one became two
    lines, the first a different URL that was then disavowed. The line stays whole, is invalid, and
    is kept as an escaped comment in the merged file."""
    text = f"domain:a.example\nhttps://b.example/x{char}y\n# note{char}here\ndomain:c.example\n"
    lines = parse(text)
    assert [ln.kind for ln in lines] == ["domain", "invalid", "invalid", "domain"]
    assert "column 20" in lines[1].error
    merged = merge(lines, Recommendation(urls={"https://d.example/p": "toxic"}))
    assert "https://b.example/x" not in merged.lines and not any(ln.startswith("y") for ln in merged.lines)
    assert missing_lines(text.split("\n")[:-1], merged.lines) == []
    path = tmp_path / "disavow.txt"
    path.write_text(merged.text, encoding="utf-8")
    assert problems_of(path) == []
    original = tmp_path / "uploaded.txt"
    original.write_bytes(text.encode())
    problems = validate(original)
    assert [p.split(": ")[1] for p in problems] == ["line 2", "line 3"]


def test_line_ends_lf_crlf_or_cr_alone_in_a_classic_mac_file():
    assert [ln.raw for ln in parse("domain:a.example\r\nhttps://b.example/\ndomain:c.example")] == [
        "domain:a.example", "https://b.example/", "domain:c.example"]
    assert [ln.kind for ln in parse("domain:a.example\rhttps://b.example/\r")] == ["domain", "url"]


def test_a_mixed_encoding_file_is_decoded_line_by_line(tmp_path):
    """Four UTF-8 lines and one pasted from a Windows-1252 editor: the UTF-8 lines stay as they were
    (the whole file was decoded as Windows-1252 before: mojibake), and only line 5 is named."""
    utf8 = ["domain:пример.рф", "https://сайт.рф/путь/страница", "domain:bücher-straße.de",
            "https://größe.de/übersicht"]
    path = tmp_path / "uploaded.txt"
    path.write_bytes("\n".join(utf8).encode() + b"\n" + "https://café.example/crème".encode("cp1252") + b"\n")
    lines, problems = read(path)
    assert [ln.raw for ln in lines] == [*utf8, "https://café.example/crème"]
    assert [ln.kind for ln in lines] == ["domain", "url", "domain", "url", "url"]
    assert lines[0].value == "xn--e1afmkfd.xn--p1ai" and lines[1].value == (
        "https://xn--80aswg.xn--p1ai/%D0%BF%D1%83%D1%82%D1%8C/%D1%81%D1%82%D1%80%D0%B0%D0%BD%D0%B8%D1%86%D0%B0")
    assert problems == [f"{path}: line 5: not UTF-8 (Google accepts UTF-8 or 7-bit ASCII); this line was read "
                        "as Windows-1252"]
    merged = merge(lines, Recommendation())
    assert merged.lines[:5] == [*utf8, "https://café.example/crème"]
    written = tmp_path / "disavow.txt"
    written.write_text(merged.text, encoding="utf-8")
    assert problems_of(written) == []


def test_domain_lines_name_hosts_not_impossible_addresses():
    assert parse_line(1, "domain:999.999.999.999").kind == "invalid"
    assert parse_line(1, "https://999.999.999.999/x").kind == "invalid"
    assert parse_line(1, "domain:203.0.113.9").value == "203.0.113.9"
    assert parse_line(1, "domain:example.com:8080").repair == "example.com"


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["150,000 lines", "3 MB"])
def test_an_existing_file_over_googles_limits_becomes_one_google_accepts_and_an_overflow_file(tmp_path, case):
    """An existing file Google would refuse whole (too many lines, too many bytes, a domain: line
    with a scheme) is repaired and consolidated; what still does not fit is listed in the overflow
    file, and every original line is in one of the two."""
    if case == "150,000 lines":
        original = ([f"domain:spam{i}.example" for i in range(60_000)] + ["# old notes"]
                    + [f"https://x{i}.example/p" for i in range(90_000)])
    else:
        original = [f"https://site{i}.example/{'p' * 100}" for i in range(25_000)]
    original += ["domain:https://x.example/path", "https://x.example/a", "https://x1.example/p"]
    merged = merge(parse("\n".join(original) + "\n"), Recommendation(domains={"new-spam.example": "casino"}),
                   today=dt.date(2026, 12, 1))
    disavow_txt = _write(tmp_path / "disavow.txt", merged.text)
    overflow = _write(tmp_path / "disavow-overflow.txt", merged.overflow_text)
    assert problems_of(disavow_txt) == [] and validate(overflow) == []
    assert missing_lines(original, merged.lines, merged.overflow) == []
    assert "domain:x.example" in merged.lines  # repaired, in the file: domain: lines come first
    assert merged.moved > 0 and merged.left_out == ["domain:new-spam.example"]
    assert merged.full.startswith("the disavow file is full") and "disavow-overflow.txt" in merged.full
    # The URLs that x.example and the duplicate cover went first, to the overflow file, marked.
    assert "https://x.example/a" not in merged.lines and "https://x.example/a" in merged.overflow
    if case == "150,000 lines":
        assert all(f"domain:spam{i}.example" in merged.lines for i in (0, 59_999))


def test_what_goes_into_a_full_file_first():
    """Existing domain: lines, then existing URLs, then existing comments, then new domains (most
    toxic first), then new URLs; up to the first line that does not fit."""
    existing = parse("# notes\nhttps://u1.example/a\ndomain:d1.example\nhttps://u2.example/b\ndomain:d2.example\n")
    rec = Recommendation(domains={"n1.example": "worst", "n2.example": "bad", "n3.example": "bad too"})
    sizes = []
    for max_lines in range(1, 12):
        merged = merge(existing, rec, max_lines=max_lines, comments=False, today=dt.date(2026, 1, 1))
        entries = [line for line in merged.lines if not line.startswith("#") and line]
        sizes.append(len(merged.lines))
        assert len(merged.lines) <= max_lines
        assert missing_lines([ln.raw for ln in existing], merged.lines, merged.overflow) == []
        expected = ["domain:d1.example", "domain:d2.example", "https://u1.example/a", "https://u2.example/b"]
        assert sorted(entries[:4]) == sorted(expected[:len(entries[:4])])
        assert {e for e in entries if e.startswith("domain:d")} == set(expected[:min(2, max_lines)])
        assert merged.left_out == [e for e in ["domain:n1.example", "domain:n2.example", "domain:n3.example"]
                                   if e not in entries]
    assert sizes[-1] == 10 and not merge(existing, rec, max_lines=10, comments=False).overflow


def test_validate_names_special_files_for_what_they_are(tmp_path, capsys):
    import os

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    for path, message in ((fifo, "is a named pipe (FIFO), not a regular file"),
                          (loop, "a loop of symbolic links")):
        assert main(["disavow", "validate", str(path)]) == 2
        assert message in capsys.readouterr().err
    assert MAX_BYTES == 2 * 1024 * 1024
