"""Write the hostile-input corpus in this folder (run from the repository root after changing it:
``.venv/bin/python tests/hostile/make_corpus.py``). The files are committed; this script says how
each was made. ``exports/`` holds broken and crafted backlink exports, ``disavow/`` existing
disavow files, ``requests.json`` HTTP requests; tests/test_hostile.py and tests/test_service.py
run them through the command line and every endpoint."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ["Referring page title", "Referring page URL", "Domain rating", "Target URL", "Left context", "Anchor",
          "Right context", "Type", "Nofollow", "First seen", "Last seen"]


def row(url: str, anchor: str = "Gear Example", **cells: str) -> list[str]:
    """An Ahrefs row of the columns above."""
    values = {"Referring page title": "Trail notes", "Referring page URL": url, "Domain rating": "31",
              "Target URL": "https://gear.example.com/", "Left context": "see", "Anchor": anchor,
              "Right context": "here", "Type": "text", "Nofollow": "false", "First seen": "2024-03-01",
              "Last seen": "2024-06-01"}
    values.update({k.replace("_", " "): v for k, v in cells.items()})
    return [values[h] for h in HEADER]


def csv_text(rows: list[list[str]], *, newline: str = "\n", delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL,
             header: list[str] = HEADER) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline, delimiter=delimiter, quoting=quoting)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def good(n: int, start: int = 0) -> list[list[str]]:
    return [row(f"https://site{i}.example.com/page") for i in range(start, start + n)]


def exports() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    out["cr_in_cell.csv"] = csv_text([*good(2), row("https://cr.example.com/", "foo\rbar"), *good(2, 2)]).encode()
    out["cr_in_quoted_cell_crlf.csv"] = csv_text(
        [*good(2), row("https://cr.example.com/", "foo\rbar\r\nbaz"), *good(2, 2)], newline="\r\n").encode()
    out["classic_mac_cr_only.csv"] = csv_text(good(3), newline="\r").encode()
    lines = csv_text([*good(2), row("https://mixed.example.com/", "café crème"),
                      row("https://утф.example.com/", "Пример"), row("https://x.example.com/", "straße")]).encode().split(b"\n")
    lines[3] = lines[3].decode().encode("cp1252")
    out["mixed_utf8_cp1252.csv"] = b"\n".join(lines)
    out["cp1252_excel_semicolons.csv"] = csv_text([row("https://a.example.com/", "crème brûlée €")], delimiter=";",
                                                  newline="\r\n").encode("cp1252")
    out["utf16_tabs_bom.csv"] = codecs.BOM_UTF16_LE + csv_text(
        [*good(2), row("https://u.example.com/", "tab\tin\u2028cell")], delimiter="\t").encode("utf-16-le")
    out["utf16_odd_byte.csv"] = out["utf16_tabs_bom.csv"] + b"\x00"
    out["nul_early.csv"] = csv_text([row("https://nul.example.com/", "x\x00y"), *good(3)]).encode()
    out["nul_late.csv"] = csv_text([*good(60), row("https://nul.example.com/", "x\x00y"), *good(3, 60)]).encode()
    out["separators_in_cells.csv"] = csv_text(
        [row(f"https://sep{i}.example.com/", f"a{ch}b", Right_context=f"r{ch}") for i, ch in
         enumerate(["\u2028", "\u2029", "\x85", "\x0c", "\x0b", "\x1c", "\x1d", "\x1e"])]).encode()
    out["stray_quote.csv"] = (csv_text(good(2)) + 'Trail,"https://q.example.com/,31,x,y,z\n' + csv_text(good(2, 2))
                              .split("\n", 1)[1]).encode()
    out["stray_quote_closed_later.csv"] = (csv_text(good(1)) + 'T,https://q.example.com/,31,"x,y\n'
                                           + csv_text(good(3, 1)).split("\n", 1)[1] + 'T,https://r.example.com/,31,",z\n').encode()
    out["wrong_field_counts.csv"] = (csv_text(good(1)) + "only,three,cells\n" + ",".join(row("https://w.example.com/"))
                                     + ",extra,cells\n").encode()
    out["huge_cell.csv"] = csv_text([row("https://big.example.com/", "x" * 40_000), *good(2)]).encode()
    out["formula_and_markup.csv"] = csv_text([
        row("https://f.example.com/", '=HYPERLINK("http://evil.example","x")'),
        row("https://g.example.com/", "<script>alert(1)</script>", Referring_page_title="</textarea><img src=x>"),
        row("https://h.example.com/", "+cmd|' /C calc'!A0", Left_context="@SUM(1)", Right_context="-2+3")]).encode()
    out["bad_urls_and_hosts.csv"] = csv_text([
        row("http://999.999.999.999/"), row("javascript:alert(1)"), row("https://" + "a" * 300 + ".com/"),
        row("https://exa mple.com/"), row("http://[::1]/x"), row("http://203.0.113.9/ok"), row("https://localhost/"),
        row("data:text/html,<b>x</b>"), row("https://xn--.com/"), row("https://bücher.de/straße?q=ü#frag"),
        row("https://a.example.com/" + "p" * 3000)]).encode()
    out["impossible_dates_and_numbers.csv"] = csv_text([
        row("https://d1.example.com/", First_seen="9999-12-31", Last_seen="0000-00-00", Domain_rating="NaN"),
        row("https://d2.example.com/", First_seen="2024-02-30", Domain_rating="1e309"),
        row("https://d3.example.com/", First_seen="yesterday", Domain_rating="-5")]).encode()
    out["blank_lines_and_spaces.csv"] = (csv_text(good(1)) + "\n   \n\t\n" + csv_text(good(2, 1)).split("\n", 1)[1]).encode()
    out["header_only.csv"] = csv_text([]).encode()
    out["empty.csv"] = b""
    out["only_bom.csv"] = codecs.BOM_UTF8
    out["only_line_breaks.csv"] = b"\r\n\n\r\n"
    out["unknown_header.csv"] = b"foo,bar,baz\n1,2,3\n"
    out["binary.xlsx"] = b"PK\x03\x04" + bytes(range(256)) * 8
    out["binary_png.csv"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    out["empty.zip"] = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a.csv", csv_text(good(1)))
        archive.writestr("b.csv", csv_text(good(1)))
    out["two_files.zip"] = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("links.csv", csv_text([*good(2), row("https://z.example.com/", "zip\rcell")]))
    out["one_export.zip"] = buf.getvalue()
    out["truncated.csv.gz"] = gzip.compress(csv_text(good(50)).encode(), mtime=0)[:300]
    out["gzip_of_binary.gz"] = gzip.compress(bytes(range(256)) * 8, mtime=0)
    out["url_list_hostile.txt"] = ("https://a.example.com/\njavascript:alert(1)\n# comment\ndomain:b.example.com\n"
                                   "https://c.example.com/x\ry\nhttps://d.example.com/\u2028e\n\x00\n"
                                   "http://999.999.999.999/\n" + "https://e.example.com/" + "q" * 5000 + "\n").encode()
    out["moz_preamble_with_separator.csv"] = (
        "-" * 20 + "\nInbound Links for,example.com\u2028really\n" + "-" * 20 + "\n\n"
        "URL,Title,Anchor Text,Spam Score,Page Authority,Domain Authority,Target URL\n"
        "a.example.com/x,T,anchor,3%,20,30,https://me.example.com/\n").encode()
    out["bing_lone_quote_anchor.csv"] = (b'"Source Url","Anchor text","Target Url"\r\n'
                                         b'"https://a.example.com/","""","https://me.example.com/"\r\n')
    return out


def disavow_files() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    utf8 = "# мой файл\ndomain:пример.рф\nhttps://сайт.рф/путь\ndomain:bücher-straße.de\nhttps://größe.de/übersicht\n"
    out["mixed_encoding.txt"] = utf8.encode() + "https://café.example/crème\n".encode("cp1252")
    out["line_separators.txt"] = ("domain:a.example\nhttps://b.example/x\u2028y\nhttps://c.example/x\x85y\n"
                                  "https://d.example/x\x0cy\nhttps://e.example/x\x1cy\nhttps://f.example/x\ry\n"
                                  "# note\u2029here\ndomain:g.example\n").encode()
    out["bad_domain_lines.txt"] = (b"domain:https://x.example/path\ndomain:y.example/\ndomain:z.example:8080\n"
                                   b"domain:*.w.example\ndomain:\ndomain:999.999.999.999\ndomain:exa mple.com\n"
                                   b"domain:http://\nexample.com\nhttps://v.example/ok\n")
    out["redundant.txt"] = (b"domain:r.example\nhttps://r.example/a\nhttps://www.r.example/b\ndomain:sub.r.example\n"
                            b"https://s.example/x\nhttps://s.example/x\ndomain:r.example\n")
    out["utf16_notepad.txt"] = "# Notepad\r\ndomain:spam.example\r\nhttps://x.example/a\r\n".encode("utf-16")
    out["nul_in_line.txt"] = b"domain:a.example\nhttps://b.example/\x00x\ndomain:c.example\n"
    out["classic_mac.txt"] = b"domain:a.example\rhttps://b.example/x\r# end\r"
    out["crlf_with_bom.txt"] = codecs.BOM_UTF8 + b"# BOM\r\ndomain:a.example\r\nhttps://b.example/x\r\n"
    out["long_url.txt"] = ("domain:a.example\nhttps://b.example/" + "p" * 2100 + "\n").encode()
    out["no_final_newline.txt"] = b"domain:a.example\nhttps://b.example/x"
    out["whitespace_and_tabs.txt"] = b"  domain:a.example  \n\thttps://b.example/x\t\n \t \n#\tcomment\twith\ttabs\n"
    out["backslashes.txt"] = b"https://b.example/a\\b\\u2028\n# C:\\path\\x0c\ndomain:c.example\n"
    out["empty.txt"] = b""
    out["binary.bin"] = bytes(range(256)) * 8
    return out


def requests() -> list[dict]:
    """Requests of every endpoint: ``json`` is sent as JSON, ``body`` as raw bytes (latin-1 text)."""
    link = {"source_url": "https://a.example.com/", "anchor": "x"}
    return [
        {"path": "/score", "json": {"links": [{"source_url": "https://a.example.com/", "anchor": "\u2028\x00<script>"}]},
         "status": [200]},
        {"path": "/score", "json": {"links": [{"source_url": "http://999.999.999.999/"}, link]}, "status": [200],
         "rejected": [0]},
        {"path": "/score", "json": {"links": [{"source_url": "https://a.example.com/", "first_seen": "9999-12-31T23:59:59-12:00"}]},
         "status": [400]},
        {"path": "/score", "json": {"links": [{"source_url": "https://a.example.com/", "domain_rating": "NaN"}]},
         "status": [400]},
        {"path": "/score", "json": {"links": [{"source_url": ["nested", {"deep": [1]}]}]}, "status": [400]},
        {"path": "/score", "json": {"links": [link], "allowlist": ["\u2028", "domain:*", "x" * 301]}, "status": [400]},
        {"path": "/score", "json": {"links": [link], "site_topic": "x" * 501}, "status": [400]},
        {"path": "/score", "json": [link], "status": [400]},
        {"path": "/score", "json": None, "status": [400]},
        {"path": "/score", "body": "{\"links\": [" * 2000, "status": [400]},
        {"path": "/score", "body": "\u00ff\u00fe{\u0000", "status": [400]},
        {"path": "/score", "body": "{\"links\": [{\"source_url\": \"https://a.example.com/\"}], \"links\": 5}",
         "status": [400]},
        {"path": "/disavow", "json": {"existing_disavow": "domain:a.example\nhttps://b.example/x\u2028y\n"}, "status": [200]},
        {"path": "/disavow", "json": {"existing_disavow": "domain:https://x.example/path\n\x00\n"}, "status": [200]},
        {"path": "/disavow", "json": {"existing_disavow": 5}, "status": [400]},
        {"path": "/disavow", "json": {"links": [{"source_url": "javascript:x"}], "existing_disavow": ""}, "status": [200]},
        {"path": "/feedback", "json": {"labels": [{"source_url": "https://a.example.com/", "label": "toxic"}]},
         "status": [401, 403]},
        {"path": "/reload", "json": {}, "status": [401, 403]},
        {"path": "/score_export", "json": {"file": "not a file"}, "status": [400]},
    ]


def main() -> None:
    for folder, files in (("exports", exports()), ("disavow", disavow_files())):
        (HERE / folder).mkdir(exist_ok=True)
        for name, data in files.items():
            (HERE / folder / name).write_bytes(data)
    (HERE / "requests.json").write_text(json.dumps(requests(), indent=1, ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
