"""Disavow files: Google's rules line by line, and merging that never loses an existing line."""

from __future__ import annotations

import datetime as dt

import pytest

from toxiclinks.cli import main
from toxiclinks.disavow import MAX_LINES, Recommendation, merge, parse, read, validate
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


def test_merge_keeps_every_existing_line_in_order_and_marks_redundancy():
    lines = parse(EXISTING)
    rec = Recommendation(domains={"new-spam.top": "casino anchors", "spam-one.xyz": "again"},
                         urls={"https://other.example/x": "toxic 91", "https://sub.new-spam.top/p": "covered"})
    merged = merge(lines, rec, today=dt.date(2026, 11, 23))
    out = merged.lines
    # Every original line survives, in order (marks are extra comment lines before them).
    originals = EXISTING.splitlines()
    it = iter(out)
    assert all(any(line == o for o in it) for line in originals)
    assert "# toxiclinks: next line is redundant (duplicate of line 4); kept as it was" in out
    assert "# toxiclinks: next line is redundant (covered by domain:spam-one.xyz); kept as it was" in out
    assert any("invalid" in m for m in merged.marked)
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
