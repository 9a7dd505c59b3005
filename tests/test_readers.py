"""Readers: every export format as the tools write it, and every kind of bad input."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from tests.exports import (
    AHREFS_HEADER,
    MAJESTIC_HEADER,
    MOZ_HEADER,
    MOZ_PREAMBLE,
    SEMRUSH_AUDIT_HEADER,
    SEMRUSH_HEADER,
    SEMRUSH_OLD_HEADER,
    ahrefs_row,
    write_csv,
)
from toxiclinks import EmptyInputError, EncodingError, UnknownFormatError, read_export
from toxiclinks.cli import main
from toxiclinks.errors import InputError
from toxiclinks.schema import COLUMNS


def test_ahrefs_utf8_maps_every_signal(tmp_path):
    path = write_csv(tmp_path / "a.csv", AHREFS_HEADER, [
        ahrefs_row(),
        ahrefs_row(Referring_page_URL="http://Casino-Bonus.XYZ:80/p?a=1#frag", Anchor="best casino",
                   Nofollow="true", Is_spam="true", Content="false", Links_in_group="40",
                   Redirect_Chain_URLs="http://a.example/, http://b.example/", Lost="2024-07-01",
                   Left_context='He said, "look"'),
    ])
    result = read_export(path)
    links = result.links
    assert result.detected.format.name == "ahrefs"
    assert list(links.columns) == list(COLUMNS)
    assert len(links) == 2 and len(result.rejects) == 0
    first, second = links.iloc[0], links.iloc[1]
    assert first["source_url"] == "https://hikers.example.org/trail"
    assert first["domain_rating"] == 31 and first["url_rating"] == 4.5
    assert bool(first["in_content"]) is True and bool(first["nofollow"]) is False
    assert first["first_seen"] == pd.Timestamp("2024-03-01 10:00:00")
    assert first["link_type"] == "text" and bool(first["lost"]) is False
    assert second["source_url"] == "http://casino-bonus.xyz/p?a=1"
    assert second["source_suffix"] == "xyz" and second["source_site"] == "casino-bonus.xyz"
    assert second["link_type"] == "redirect" and bool(second["lost"]) is True
    assert second["links_in_group"] == 40 and bool(second["tool_spam_flag"]) is True
    assert second["left_context"] == 'He said, "look"'
    assert list(links["source_row"]) == [1, 2]
    # Fields Ahrefs lacks are unknown, not zero or false.
    assert links["trust_flow"].isna().all() and links["sitewide"].isna().all()


def test_ahrefs_utf16_for_excel_with_bom_and_tabs(tmp_path):
    rows = [ahrefs_row(Anchor="Bücher über Wandern", Referring_page_URL="https://bücher.de/wandern")]
    path = write_csv(tmp_path / "excel.csv", AHREFS_HEADER, rows, delimiter="\t",
                     encoding="utf-16", newline="\r\n", quoting=csv.QUOTE_ALL)
    assert path.read_bytes()[:2] == b"\xff\xfe"
    result = read_export(path)
    assert result.detected.encoding == "utf-16" and result.detected.delimiter == "\t"
    row = result.links.iloc[0]
    assert row["anchor"] == "Bücher über Wandern"
    assert row["source_url"] == "https://xn--bcher-kva.de/wandern"


def test_semrush_current_and_older_and_excel_resave(tmp_path):
    current = write_csv(tmp_path / "s.csv", SEMRUSH_HEADER, [{
        "Page ascore": "12", "Source title": "Deals", "Source url": "https://deals.example.net/x",
        "Target url": "https://shop.example.com/", "Anchor": "cheap shoes", "External links": "250",
        "Internal links": "3", "Nofollow": "false", "Sponsored": "true", "Ugc": "false",
        "Text": "false", "Frame": "false", "Form": "false", "Image": "true", "Sitewide": "true",
        "First seen": "2023-05-06", "Last seen": "2024-01-02", "New link": "false", "Lost link": "false"}])
    row = read_export(current).links.iloc[0]
    assert row["authority_score"] == 12 and bool(row["sponsored"]) is True
    assert row["link_type"] == "image" and bool(row["sitewide"]) is True
    older = write_csv(tmp_path / "old.csv", SEMRUSH_OLD_HEADER, [[
        "30", "20", "T", "https://a.example.com/", "https://b.example.com/", "a", "1", "1", "FALSE",
        "FALSE", "FALSE", "FALSE", "FALSE", "2019-01-01", "2019-02-01"]])
    assert read_export(older).detected.format.name == "semrush"
    # Re-saved by Excel in Europe: semicolons, BOM, CRLF, TRUE/FALSE and m/d/yy dates.
    resaved = write_csv(tmp_path / "excel.csv", SEMRUSH_HEADER, [{
        "Page ascore": "5", "Source url": "https://x.example.org/", "Target url": "https://y.example.com/",
        "Anchor": "y", "Nofollow": "TRUE", "Sitewide": "FALSE", "First seen": "3/7/24"}],
        delimiter=";", bom=True, newline="\r\n")
    result = read_export(resaved)
    row = result.links.iloc[0]
    assert result.detected.delimiter == ";" and bool(row["nofollow"]) is True
    assert row["first_seen"] == pd.Timestamp("2024-03-07")


def test_semrush_audit_with_trailing_empty_record(tmp_path):
    path = tmp_path / "audit.csv"
    path.write_text(",".join(SEMRUSH_AUDIT_HEADER) + "\n"
                    'T,https://spam.example.biz/,https://me.example.com/,buy,87,"Link network, Anchor",'
                    "2024-01-01,2024-02-01,TRUE\n,,,,,,,,\n", encoding="utf-8")
    result = read_export(path)
    assert result.detected.format.name == "semrush_audit"
    assert result.links.iloc[0]["tool_spam_score"] == 87
    # The empty trailing record has no source URL: reported, not dropped silently.
    assert len(result.rejects) == 1 and "empty" in result.rejects.iloc[0]["reason"]


def test_gsc_tables(tmp_path):
    latest = tmp_path / "https___www.example.com_-Latest links-2026-05-18.csv"
    latest.write_bytes("Linking page,Last crawled\r\nhttps://a.example.org/Sydney/Flooring Supply,"
                       "2026-05-01\r\nhttps://b.example.jp/iphoneのjavascript,2026-04-30".encode())
    result = read_export(latest)
    assert result.detected.format.name == "gsc_latest"
    assert list(result.links["source_url"]) == [
        "https://a.example.org/Sydney/Flooring%20Supply",
        "https://b.example.jp/iphone%E3%81%AEjavascript"]
    assert result.links["target_url"].isna().all() and result.links["anchor"].isna().all()
    sample = tmp_path / "sample.csv"
    sample.write_text("Linking page\nhttps://c.example.net/\n")
    assert read_export(sample).detected.format.name == "gsc_sample"
    sites = tmp_path / "sites.csv"
    sites.write_text('Site,Linking pages,Target pages\nspam.example.xyz,"1,240",3\n')
    result = read_export(sites)
    assert result.detected.format.name == "gsc_sites"
    assert result.links.iloc[0]["linking_pages"] == 1240
    assert result.links.iloc[0]["source_host"] == "spam.example.xyz"


def test_majestic_empty_flags_mean_no(tmp_path):
    row = {h: "" for h in MAJESTIC_HEADER}
    row.update({"Target URL": "https://me.example.com/", "Source URL": "https://dir.example.info/x",
                "Anchor Text": "me", "Source Crawl Date": "2024-02-02",
                "Source First Found Date": "2023-02-02", "FlagImageLink": "+",
                "SourceTrustFlow": "3", "SourceCitationFlow": "25"})
    result = read_export(write_csv(tmp_path / "m.csv", MAJESTIC_HEADER, [row], compress=True))
    links = result.links
    assert result.detected.format.name == "majestic" and result.detected.compression == "gzip"
    assert bool(links.iloc[0]["nofollow"]) is False and links.iloc[0]["link_type"] == "image"
    assert links.iloc[0]["trust_flow"] == 3 and links.iloc[0]["citation_flow"] == 25


def test_moz_preamble_and_urls_without_scheme(tmp_path):
    path = write_csv(tmp_path / "moz.csv", MOZ_HEADER, [[
        "blog.example.com/post", "Post", "Brand", "4%", "20", "35", "3", "120", "", "example.org/",
        "Yes", "No", "No", "Yes", "No"]], preamble=MOZ_PREAMBLE)
    result = read_export(path)
    assert result.detected.format.name == "moz" and result.detected.header_line == 7
    row = result.links.iloc[0]
    assert row["source_url"] == "http://blog.example.com/post"
    assert row["tool_spam_score"] == 4 and row["domain_authority"] == 35
    assert bool(row["nofollow"]) is False


def test_bing_single_quote_anchor_is_repaired(tmp_path):
    path = tmp_path / "bing.csv"
    path.write_bytes(b'\xef\xbb\xbf"Source Url","Anchor text","Target Url"\r\n'
                     b'"https://a.example.com/","""","https://me.example.com/"\r\n'
                     b'"https://b.example.com/","nice, post","https://me.example.com/x"\r\n')
    result = read_export(path)
    assert result.detected.format.name == "bing"
    assert list(result.links["anchor"]) == ['"', "nice, post"]
    assert len(result.rejects) == 0


def test_plain_url_list_with_spaces_and_typos(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"http://a.example.com/video related\r\nhttps://A.example.com/x\r\n"
                     b"www.b.example.org\r\n# comment\r\n\r\nhttp://bad.onli2ne\r\n")
    result = read_export(path)
    assert result.detected.format.name == "url_list"
    assert list(result.links["source_url"]) == [
        "http://a.example.com/video%20related", "https://a.example.com/x", "http://www.b.example.org/"]
    assert list(result.rejects["line"]) == [6]


def test_unknown_format_names_formats_and_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("foo,bar,baz\n1,2,3\n")
    with pytest.raises(UnknownFormatError) as err:
        read_export(path)
    message = str(err.value)
    assert "foo,bar,baz" in message and "ahrefs" in message and "majestic" in message
    assert str(path) in message


def test_forced_format(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Linking page\nhttps://c.example.net/\n")
    assert read_export(path, format="gsc_sample").n_rows == 1
    with pytest.raises(UnknownFormatError, match="no source URL column"):
        read_export(path, format="ahrefs")
    with pytest.raises(UnknownFormatError, match="unknown format 'nope'"):
        read_export(path, format="nope")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b"\xff\xfe"])
def test_empty_files(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(EmptyInputError, match="empty"):
        read_export(path)


def test_header_only_is_reported(tmp_path):
    path = write_csv(tmp_path / "h.csv", AHREFS_HEADER, [])
    result = read_export(path)
    assert result.n_rows == 0 and any("no data rows" in p for p in result.problems)


def test_binary_file(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20)
    with pytest.raises(EncodingError, match="binary"):
        read_export(path)


def test_windows_1252_is_read_and_reported(tmp_path):
    path = write_csv(tmp_path / "w.csv", AHREFS_HEADER, [ahrefs_row(Anchor="café crème")],
                     encoding="cp1252")
    result = read_export(path)
    assert result.links.iloc[0]["anchor"] == "café crème"
    assert any("Windows-1252" in p for p in result.problems)


def test_bad_rows_are_rejected_with_line_and_the_rest_loads(tmp_path):
    header = ",".join(AHREFS_HEADER)
    good = ",".join(ahrefs_row().values())
    extra = good + ",surplus,cells"
    not_url = ",".join(ahrefs_row(Referring_page_URL="javascript:alert(1)").values())
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([header, good, not_url, extra, good]) + "\n")
    result = read_export(path)
    assert result.n_rows == 2
    rejects = result.rejects  # in line order, whichever step rejected the row
    assert list(rejects["line"]) == [3, 4]
    assert "javascript" in rejects.iloc[0]["reason"]
    assert rejects.iloc[0]["column"] == "Referring page URL"
    assert "expected 37 fields, saw 39" in rejects.iloc[1]["reason"]


def test_unparsable_numbers_and_dates_become_missing_and_are_reported(tmp_path):
    path = write_csv(tmp_path / "n.csv", AHREFS_HEADER, [
        ahrefs_row(Domain_rating="high", First_seen="yesterday"), ahrefs_row()])
    result = read_export(path)
    assert pd.isna(result.links.iloc[0]["domain_rating"])
    assert pd.isna(result.links.iloc[0]["first_seen"])
    assert any("'Domain rating'" in p and "line(s) 2" in p for p in result.problems)
    assert any("'First seen'" in p for p in result.problems)


def test_dates_with_mixed_offsets_and_impossible_years(tmp_path):
    path = write_csv(tmp_path / "d.csv", AHREFS_HEADER, [
        ahrefs_row(First_seen="2024-01-05 10:00:00"), ahrefs_row(First_seen="2024-01-05 10:00:00+02:00"),
        ahrefs_row(First_seen="2024-01-05T08:30:00Z"), ahrefs_row(First_seen="9999-12-31"),
        ahrefs_row(First_seen="3/7/24")])
    result = read_export(path)
    assert [str(v) for v in result.links["first_seen"]] == [
        "2024-01-05 10:00:00", "2024-01-05 08:00:00", "2024-01-05 08:30:00", "NaT", "2024-03-07 00:00:00"]
    assert any("'First seen': 1 value(s)" in p and "line(s) 5" in p for p in result.problems)


def test_huge_single_field(tmp_path):
    huge = "A" * 100_000_000
    path = write_csv(tmp_path / "huge.csv", AHREFS_HEADER, [ahrefs_row(Anchor=huge), ahrefs_row()])
    result = read_export(path)
    assert result.n_rows == 1
    assert "100,000,000 characters" in result.rejects.iloc[0]["reason"]
    assert result.rejects.iloc[0]["column"] == "Anchor"


def test_hostile_strings_are_kept_as_data(tmp_path):
    hostile = "=HYPERLINK(\"http://evil.example\")<script>alert(1)</script>\u202e'; DROP TABLE x;--"
    path = write_csv(tmp_path / "h.csv", AHREFS_HEADER, [ahrefs_row(Anchor=hostile,
                                                                    Referring_page_title=hostile)])
    row = read_export(path).links.iloc[0]
    assert row["anchor"] == hostile


def test_chunked_reading_keeps_row_numbers(tmp_path):
    from toxiclinks.reading import iter_export
    rows = [ahrefs_row(Referring_page_URL=f"https://s{i}.example.com/") for i in range(25)]
    path = write_csv(tmp_path / "c.csv", AHREFS_HEADER, rows)
    chunks = [links for links, _ in iter_export(path, chunk_rows=10)]
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert list(pd.concat(chunks)["source_row"]) == list(range(1, 26))


@pytest.mark.parametrize("closing", [None, 230], ids=["never-closes", "closed-by-a-later-quote"])
def test_a_stray_quote_costs_its_own_line_only(tmp_path, closing):
    """A stray quote opening a cell joins the rows after it into that cell, to the end of the file
    or to the next quote. Before, the first lost everything from its chunk on (with a one-line
    note) and the second the rows in between (one reject for a too-long cell, or nothing)."""
    from toxiclinks.reading import iter_export

    rows = [",".join(ahrefs_row(Referring_page_URL=f"https://s{i}.example.com/p").values()) for i in range(1, 301)]
    rows[149] = rows[149].replace("Gear Example", '"Gear Example', 1)  # record 150, in the third chunk
    rows[9] = rows[9].replace("Gear Example", '"Gear, Example"', 1)  # well-formed quoted cells
    if closing:
        rows[closing - 1] = rows[closing - 1].replace("Gear Example", '"Gear ""Pro"" Example"', 1)
    path = tmp_path / "stray.csv"
    path.write_text("Backlinks report\n\n" + ",".join(AHREFS_HEADER) + "\n" + "\n".join(rows) + "\n")
    problems: list[str] = []
    parts = list(iter_export(path, chunk_rows=64, problems=problems))
    links = pd.concat([links for links, _ in parts], ignore_index=True)
    rejects = pd.concat([bad for _, bad in parts], ignore_index=True)
    assert list(rejects["line"]) == [153]  # below a two-line preamble and the header
    assert "stray quote" in rejects.iloc[0]["reason"] and "physical line 153" in rejects.iloc[0]["reason"]
    assert len(links) == 299
    assert links.loc[links["source_row"] == 10, "anchor"].item() == "Gear, Example"
    if closing:
        assert links.loc[links["source_row"] == closing, "anchor"].item() == 'Gear "Pro" Example'
    kept = [i for i in range(1, 301) if i != 150]
    assert list(links["source_row"]) == kept  # rows after the line set aside keep their numbers
    assert list(links["source_url"]) == [f"https://s{i}.example.com/p" for i in kept]
    assert not any("not read" in p for p in problems)


@pytest.mark.parametrize("packing", ["plain", "gzip", "utf-16"])
def test_rows_after_blank_lines_keep_the_numbers_of_their_lines(tmp_path, packing):
    """The parser passes over blank lines (and lines of spaces): the rows after them were numbered
    one short per blank line, and so were the lines of their rejects."""
    import gzip

    from toxiclinks.reading import iter_export

    good = [",".join(ahrefs_row(Referring_page_URL=f"https://s{i}.example.com/p").values()) for i in range(1, 9)]
    bad_url = ",".join(ahrefs_row(Referring_page_URL="javascript:alert(1)").values())
    lines = [",".join(AHREFS_HEADER), good[0], "", good[1], "   ", good[2], bad_url, good[3], "", "", good[4],
             good[5] + ",surplus,cells", good[6], good[7], "", ""]  # blank lines at the end change nothing
    text = "\n".join(lines) + "\n"
    path = tmp_path / "blanks.csv"
    if packing == "gzip":
        path = tmp_path / "blanks.csv.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_bytes(text.encode("utf-16") if packing == "utf-16" else text.encode())
    parts = list(iter_export(path, chunk_rows=3))
    links = pd.concat([links for links, _ in parts], ignore_index=True)
    rejects = pd.concat([bad for _, bad in parts], ignore_index=True)
    line_of = {f"https://s{i}.example.com/p": lines.index(good[i - 1]) + 1 for i in (1, 2, 3, 4, 5, 7, 8)}
    assert dict(zip(links["source_url"], links["source_row"] + 1, strict=True)) == line_of
    assert list(rejects["line"]) == [7, 12]  # the javascript: URL and the row with surplus cells


def test_rejected_lines_are_numbered_from_the_top_of_a_file_with_a_preamble(tmp_path):
    path = write_csv(tmp_path / "moz.csv", MOZ_HEADER, [
        ["blog.example.com/post", "Post", "Brand", "4%", "20", "35", "3", "120", "", "example.org/",
         "Yes", "No", "No", "Yes", "No"],
        ["bad.example.com/", "Bad", "Brand", "1%", "20", "35", "3", "120", "", "example.org/",
         "Yes", "No", "No", "Yes", "No", "extra", "cells"],
        ["next.example.com/", "Next", "Brand", "4%", "20", "35", "3", "120", "", "example.org/",
         "Yes", "No", "No", "Yes", "No"]], preamble=MOZ_PREAMBLE)
    result = read_export(path)
    assert result.detected.header_line == 7
    assert list(result.rejects["line"]) == [9]  # the header's line + 2: what an editor shows
    assert list(result.links["source_row"]) == [1, 3]


def test_inspect_command(tmp_path, capsys):
    path = write_csv(tmp_path / "s.csv", SEMRUSH_HEADER, [{
        "Page ascore": "1", "Source url": "https://a.example.com/", "Target url": "https://b.example.com/",
        "Anchor": "b"}, {"Source url": "not a url"}])
    assert main(["inspect", str(path), "--rejects-dir", str(tmp_path / "rej")]) == 0
    out = capsys.readouterr().out
    assert "semrush" in out and "rows read: 1; rows rejected: 1" in out
    assert "signals lacking:" in out and "surrounding text" in out
    assert (tmp_path / "rej" / "s.csv.rejects.csv").exists()


def test_inspect_command_errors_are_one_line(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err


def test_bad_bytes_after_the_sniffed_sample_are_read_as_windows_1252_named_and_lose_no_row(tmp_path):
    rows = [ahrefs_row(Referring_page_URL=f"https://site{i}.example.org/p", Anchor=f"anchor {i} — ü")
            for i in range(3000)]
    path = write_csv(tmp_path / "late.csv", AHREFS_HEADER, rows)
    data = path.read_bytes()
    cut = data.index("anchor 2500 — ü".encode())
    path.write_bytes(data[:cut] + "anchor 2500 — ü".encode("cp1252") + data[cut + len("anchor 2500 — ü".encode()):])
    assert cut > 256 * 1024  # past the part the encoding sniffer reads
    result = read_export(path)
    assert len(result.links) == 3000 and len(result.rejects) == 0
    assert (result.links["anchor"] == [f"anchor {i} — ü" for i in range(3000)]).all()  # every line as written
    assert [p for p in result.problems if "UTF-8" in p] == [
        "line 2,502: not valid UTF-8; read as Windows-1252 (as Excel on Windows saves it), the other lines as UTF-8"]


def test_large_files_infer_types_but_keep_text_columns_as_text(tmp_path, monkeypatch):
    from toxiclinks.reading import _csv, iter_export

    monkeypatch.setattr(_csv, "_EXACT_TEXT_BYTES", 0)  # take the large-file path
    rows = [ahrefs_row(Referring_page_URL=f"https://s{i}.example.org/", Anchor=str(1000 + i),
                       Referring_page_title="") for i in range(50)]
    rows += [ahrefs_row(Referring_page_URL=f"https://t{i}.example.org/", Anchor=f"Gear {i}") for i in range(50)]
    path = write_csv(tmp_path / "numeric.csv", AHREFS_HEADER, rows)
    chunks = list(iter_export(path, chunk_rows=50, problems=(problems := [])))
    links = pd.concat([c for c, _ in chunks], ignore_index=True)
    assert links["anchor"].iloc[0] == "1000" and links["anchor"].iloc[99] == "Gear 49"
    assert links["anchor"].dtype == "string" and links["source_title"].iloc[:50].isna().all()
    assert links["domain_rating"].iloc[0] == 31 and links["nofollow"].iloc[0] == False  # noqa: E712
    assert links["source_row"].tolist() == list(range(1, 101))
    assert any("'Anchor' holds only numbers in records 1–50" in p for p in problems)


def test_a_large_export_with_an_empty_number_cell_is_read(tmp_path, monkeypatch):
    """The parser guessed types block by block within a chunk: an empty cell in one block of a
    numeric column left that column a mix of numbers and strings, and reading ended in a traceback
    (pyarrow's 'Expected bytes, got a 'int' object') for any export past 16 MB with such a cell."""
    from toxiclinks.reading import _csv, iter_export

    monkeypatch.setattr(_csv, "_EXACT_TEXT_BYTES", 0)  # take the large-file path
    n = 30_000
    rows = [ahrefs_row(Referring_page_URL=f"https://s{i}.example.org/p", Domain_rating="" if i == n - 1 else "31")
            for i in range(n)]
    path = write_csv(tmp_path / "sparse.csv", AHREFS_HEADER, rows)
    links = pd.concat([c for c, _ in iter_export(path, chunk_rows=n)], ignore_index=True)
    assert len(links) == n
    assert links["domain_rating"].iloc[0] == 31 and pd.isna(links["domain_rating"].iloc[-1])


def test_worker_threads_change_nothing(tmp_path, monkeypatch):
    """Chunks canonicalised on worker threads come out in file order, rejects and notes included."""
    from toxiclinks.reading import _read as readers

    rows = []
    for i in range(230):
        row = ahrefs_row(Referring_page_URL=f"https://s{i}.example.com/p{i}", Anchor=f"anchor {i}")
        if i % 37 == 5:
            row["Referring page URL"] = "javascript:alert(1)"
        if i % 41 == 7:
            row["Domain rating"] = "high"
        rows.append(row)
    path = write_csv(tmp_path / "w.csv", AHREFS_HEADER, rows)
    results = {}
    for workers in (1, 3):
        monkeypatch.setattr(readers, "_WORKERS", workers)
        problems: list[str] = []
        chunks = list(readers.iter_export(path, chunk_rows=20, problems=problems))
        links = pd.concat([c for c, _ in chunks], ignore_index=True)
        rejects = pd.concat([r for _, r in chunks], ignore_index=True)
        results[workers] = (links, rejects, problems)
    (links1, rejects1, problems1), (links3, rejects3, problems3) = results[1], results[3]
    pd.testing.assert_frame_equal(links1, links3)
    pd.testing.assert_frame_equal(rejects1, rejects3)
    assert problems1 == problems3 and any("'Domain rating': 6 value(s)" in p for p in problems3)
    assert list(rejects3["line"]) == [i + 2 for i in range(230) if i % 37 == 5]
    assert list(links3["source_row"]) == [i + 1 for i in range(230) if i % 37 != 5]


def test_host_columns_agree_with_one_url_at_a_time():
    """Hosts cut per distinct URL (repeating targets) or per row, ports and IPv6 included, match host_of."""
    from toxiclinks.reading import host_columns
    from toxiclinks.urls import host_of, split_host

    urls = ["https://www.a.example.co.uk/x", "http://b.blogspot.com:8080/p", "http://[2001:db8::1]:81/",
            "https://1.2.3.4/q", None, "https://x.y.z.github.io/#f", "https://c.com/a/b/c"]
    for repeat in (600, 1):  # mostly repeats (per distinct URL), then distinct URLs (per row)
        column = pd.Series([u if u is None else u.replace("/x", f"/x{i}") if repeat == 1 else u
                            for i in range(repeat) for u in urls], dtype="string")
        got = host_columns(column, column)
        for i, url in enumerate(column):
            if pd.isna(url):
                assert pd.isna(got["source_host"][i]) and pd.isna(got["target_site"][i])
                continue
            one = split_host(host_of(url))
            assert got["source_host"][i] == host_of(url)
            assert (got["source_site"][i], got["source_domain"][i], got["target_site"][i]) == (
                one.site, one.registered_domain, one.site), url
            assert (got["source_suffix"][i] if pd.notna(got["source_suffix"][i]) else "") == one.suffix, url


def test_parser_rejects_survive_worker_threads_silencing_warnings(tmp_path, monkeypatch):
    """pandas code on the worker threads enters warnings.catch_warnings with "ignore" filters,
    which are process-wide; the parser's 'Skipping line' reports must still reach the rejects."""
    import time
    import warnings

    from toxiclinks.reading import _read as readers

    good = ",".join(ahrefs_row().values())
    lines = [",".join(AHREFS_HEADER)] + [good + ",surplus,cells" if i % 9 == 4 else good for i in range(400)]
    path = tmp_path / "many_bad.csv"
    path.write_text("\n".join(lines) + "\n")
    canonical = readers._to_canonical

    def silencing(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            time.sleep(0.005)  # the parser reads its next chunk meanwhile
            return canonical(*args, **kwargs)

    monkeypatch.setattr(readers, "_to_canonical", silencing)
    monkeypatch.setattr(readers, "_WORKERS", 2)
    chunks = list(readers.iter_export(path, chunk_rows=10))
    links = pd.concat([c for c, _ in chunks], ignore_index=True)
    rejects = pd.concat([r for _, r in chunks], ignore_index=True)
    bad = [i + 2 for i in range(400) if i % 9 == 4]
    assert sorted(rejects["line"]) == bad  # every bad row reported, none lost
    assert len(links) + len(rejects) == 400
    assert list(links["source_row"]) == [i + 1 for i in range(400) if i % 9 != 4]


@pytest.mark.parametrize("quoting, newline", [(csv.QUOTE_MINIMAL, "\n"), (csv.QUOTE_ALL, "\n"),
                                              (csv.QUOTE_MINIMAL, "\r\n")])
def test_a_cr_inside_a_cell_stays_in_its_row(tmp_path, quoting, newline):
    """Python's csv module writes a cell holding a bare CR unquoted when rows end in LF: the parser
    ended the row at the CR, losing the rest of it, adding a false reject and shifting every later
    row's number."""
    rows = [ahrefs_row(Referring_page_URL=f"https://site{i}.example.com/p", Anchor="foo\rbar" if i == 2 else f"a{i}",
                       Right_context="right context") for i in range(5)]
    path = write_csv(tmp_path / "cr.csv", AHREFS_HEADER, rows, quoting=quoting, newline=newline)
    result = read_export(path)
    assert len(result.rejects) == 0 and not [p for p in result.problems if "parsed" in p]
    assert list(result.links["source_row"]) == [1, 2, 3, 4, 5]
    assert list(result.links["anchor"]) == ["a0", "a1", "foo\rbar", "a3", "a4"]
    assert list(result.links["right_context"]) == ["right context"] * 5
    assert (result.links["domain_rating"] == 31).all()


def test_a_cr_inside_a_line_of_a_url_list_is_that_lines_problem_and_classic_mac_files_end_lines_at_cr(tmp_path):
    listed = tmp_path / "list.txt"
    listed.write_bytes(b"https://a.example.com/\nhttps://b.example.com/x\ry\nhttps://c.example.com/\n")
    result = read_export(listed)
    assert list(result.links["source_url"]) == ["https://a.example.com/", "https://c.example.com/"]
    assert list(result.rejects["line"]) == [2] and "control characters" in result.rejects["reason"].iloc[0]
    mac = write_csv(tmp_path / "mac.csv", AHREFS_HEADER, [ahrefs_row(Anchor=f"a{i}") for i in range(3)], newline="\r")
    result = read_export(mac)
    assert list(result.links["anchor"]) == ["a0", "a1", "a2"] and list(result.links["source_row"]) == [1, 2, 3]


def test_a_mixed_encoding_export_is_decoded_line_by_line(tmp_path):
    """UTF-8 rows with one row saved in Windows-1252: the whole file was read as Windows-1252, so the
    UTF-8 rows came out as mojibake, and the note named only the first bad line."""
    anchors = ["Пример анкора", "Größe übersicht", "café crème", "straße", "обзор"]
    rows = [ahrefs_row(Referring_page_URL=f"https://site{i}.example.com/", Anchor=anchor)
            for i, anchor in enumerate(anchors)]
    path = write_csv(tmp_path / "mixed.csv", AHREFS_HEADER, rows)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].decode().encode("cp1252")  # the row of "café crème" (line 4)
    path.write_bytes(b"\n".join(lines))
    result = read_export(path)
    assert list(result.links["anchor"]) == anchors and len(result.rejects) == 0
    assert [p for p in result.problems if "UTF-8" in p] == [
        "line 4: not valid UTF-8; read as Windows-1252 (as Excel on Windows saves it), the other lines as UTF-8"]


def test_nul_bytes_cost_their_row_wherever_they_are(tmp_path):
    """A NUL in the first 4 KB rejected the whole file as binary; one further on went into the link
    table as it was. Either way it is its row's problem: rejected with its line and column."""
    rows = [ahrefs_row(Referring_page_URL=f"https://site{i}.example.com/", Anchor="x\x00y" if i in (1, 400) else "ok")
            for i in range(500)]
    path = write_csv(tmp_path / "nul.csv", AHREFS_HEADER, rows)
    assert path.read_bytes().index(b"\x00") < 4096 < path.read_bytes().rindex(b"\x00")
    result = read_export(path)
    assert len(result.links) == 498 and not result.links["anchor"].str.contains("\x00").any()
    assert list(result.rejects["line"]) == [3, 402] and set(result.rejects["column"]) == {"Anchor"}
    assert result.rejects["reason"].str.contains("NUL byte").all()


def test_special_files_are_named_for_what_they_are_and_a_pipe_is_not_waited_on(tmp_path):
    import os
    import subprocess
    import sys
    import zipfile

    fifo = tmp_path / "links.csv"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "toxiclinks.cli", "inspect", str(fifo)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "is a named pipe (FIFO), not a regular file" in proc.stderr
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    empty_zip = tmp_path / "empty.zip"
    zipfile.ZipFile(empty_zip, "w").close()
    for path, message in ((loop, "a loop of symbolic links"), (empty_zip, "zip archive holds no files")):
        with pytest.raises(InputError, match=message):
            read_export(path)


def test_a_host_ending_in_a_number_must_be_an_ip_address(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text("http://999.999.999.999/\nhttp://203.0.113.7/page\nhttp://a.b.42/\n")
    result = read_export(path)
    assert list(result.links["source_url"]) == ["http://203.0.113.7/page"]
    assert list(result.rejects["line"]) == [1, 3]
    assert result.rejects["reason"].str.contains("not a valid IPv4 address").all()
