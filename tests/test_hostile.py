"""The hostile-input corpus (tests/hostile/, made by make_corpus.py) through the command line:
broken and crafted exports through `audit`, existing disavow files through `disavow validate` and
`audit --existing-disavow`, and files that are not files. The HTTP endpoints get the same corpus
in tests/test_service.py.

Whatever the input: exit status 0 (read, with every row a link or a reject, in its place) or 2
(one line naming the file), never a traceback; the input is not changed and no temporary file is
left; every disavow file written is one Google accepts and keeps every existing line."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest

from tests.disavow_lines import missing_lines, problems_of
from toxiclinks.audit import read
from toxiclinks.cli import main

CORPUS = Path(__file__).resolve().parent / "hostile"

#: Export → (exit status, source_row of each link, line of each reject) or (2, what the error says).
EXPORTS: dict[str, tuple] = {
    "bad_urls_and_hosts.csv": (0, [5, 6, 10], [2, 3, 4, 5, 8, 9, 10, 12]),
    "binary.xlsx": (2, "looks like a zip archive but cannot be opened"),
    "binary_png.csv": (2, "this is a binary file"),
    "bing_lone_quote_anchor.csv": (0, [1], []),
    "blank_lines_and_spaces.csv": (0, [1, 5, 6], []),
    "classic_mac_cr_only.csv": (0, [1, 2, 3], []),
    "cp1252_excel_semicolons.csv": (0, [1], []),
    "cr_in_cell.csv": (0, [1, 2, 3, 4, 5], []),
    "cr_in_quoted_cell_crlf.csv": (0, [1, 2, 3, 4, 5], []),
    "empty.csv": (2, "file is empty"),
    "empty.zip": (2, "zip archive holds no files"),
    "formula_and_markup.csv": (0, [1, 2, 3], []),
    "gzip_of_binary.gz": (2, "this is a binary file"),
    "header_only.csv": (0, [], []),
    "huge_cell.csv": (0, [2, 3], [2]),
    "impossible_dates_and_numbers.csv": (0, [1, 2, 3], []),
    "mixed_utf8_cp1252.csv": (0, [1, 2, 3, 4, 5], []),
    "moz_preamble_with_separator.csv": (0, [1], []),
    "nul_early.csv": (0, [2, 3, 4], [2]),
    "nul_late.csv": (0, [*range(1, 61), 62, 63, 64], [62]),
    "one_export.zip": (0, [1, 2, 3], []),
    "only_bom.csv": (2, "file is empty"),
    "only_line_breaks.csv": (2, "file is empty"),
    "separators_in_cells.csv": (0, [1, 2, 3, 4, 5, 6, 7, 8], []),
    "stray_quote.csv": (0, [1, 2, 4, 5], [4]),
    "stray_quote_closed_later.csv": (0, [1, 3, 4, 5], [3, 7]),
    "truncated.csv.gz": (2, "cannot read compressed data"),
    "two_files.zip": (2, "zip archive holds 2 files"),
    "unknown_header.csv": (2, "unknown export format"),
    "url_list_hostile.txt": (0, [1, 4, 6], [2, 5, 7, 8, 9]),
    "utf16_odd_byte.csv": (0, [1, 2, 3], [5]),
    "utf16_tabs_bom.csv": (0, [1, 2, 3], []),
    "wrong_field_counts.csv": (0, [1], [3, 4]),
}

#: Existing disavow file → exit status of `disavow validate` (1: problems Google would refuse).
DISAVOW = {
    "backslashes.txt": 0, "bad_domain_lines.txt": 1, "binary.bin": 2, "classic_mac.txt": 0, "crlf_with_bom.txt": 0,
    "empty.txt": 0, "line_separators.txt": 1, "long_url.txt": 1, "mixed_encoding.txt": 1, "no_final_newline.txt": 0,
    "nul_in_line.txt": 1, "redundant.txt": 0, "utf16_notepad.txt": 1, "whitespace_and_tabs.txt": 0,
}


def test_the_corpus_is_what_the_tables_describe():
    assert sorted(p.name for p in (CORPUS / "exports").iterdir()) == sorted(EXPORTS)
    assert sorted(p.name for p in (CORPUS / "disavow").iterdir()) == sorted(DISAVOW)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_error_line(err: str, path: Path) -> str:
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: ") and str(path) in err, err
    return err


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_hostile_export_through_audit(tmp_path, capsys, small_model, name):
    path = CORPUS / "exports" / name
    before = _digest(path)
    out = tmp_path / "out"
    status = main(["audit", str(path), "--out", str(out), "--model", str(small_model.folder)])
    captured = capsys.readouterr()
    expected = EXPORTS[name]
    assert status == expected[0], captured.err
    assert _digest(path) == before
    if status == 2:
        assert expected[1] in _one_error_line(captured.err, path)
        assert not out.exists() or list(out.iterdir()) == []
        return
    assert captured.err == ""
    links = pd.read_csv(out / "links.csv", dtype=str, keep_default_na=False)
    rejects = (pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False) if (out / "rejects.csv").exists()
               else pd.DataFrame(columns=["line"]))
    assert [int(r) for r in links["source_row"]] == expected[1]
    assert [int(r) for r in rejects["line"]] == expected[2]
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())
    assert problems_of(out / "disavow.txt") == []


def test_special_files_through_the_command_line(tmp_path, capsys, small_model):
    """Nothing that is not a regular file is opened (a named pipe would wait for a writer for ever)."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "gone.csv")
    cases = [(fifo, "is a named pipe (FIFO), not a regular file"), (loop, "a loop of symbolic links"),
             (dangling, "(a symbolic link to a missing file)"), (tmp_path, "is a folder"),
             (Path("/dev/null"), "is a device, not a regular file")]
    for path, message in cases:
        commands = [["inspect", str(path)], ["audit", str(path), "--out", str(tmp_path / "o"), "--model",
                                             str(small_model.folder)], ["disavow", "validate", str(path)]]
        commands += [["audit", str(CORPUS / "exports" / "cr_in_cell.csv"), "--out", str(tmp_path / "o"),
                      "--model", str(small_model.folder), option, str(path)]
                     for option in ("--existing-disavow", "--allowlist", "--denylist")]
        for command in commands:
            assert main(command) == 2, command
            assert message in _one_error_line(capsys.readouterr().err, path), command
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", sorted(DISAVOW))
def test_hostile_disavow_file_through_validate_and_audit(tmp_path, capsys, small_model, name):
    path = CORPUS / "disavow" / name
    before = _digest(path)
    assert main(["disavow", "validate", str(path)]) == DISAVOW[name]
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    out = tmp_path / "out"
    status = main(["audit", str(CORPUS / "exports" / "formula_and_markup.csv"), "--out", str(out),
                   "--model", str(small_model.folder), "--existing-disavow", str(path)])
    captured = capsys.readouterr()
    assert _digest(path) == before
    if DISAVOW[name] == 2:
        assert status == 2 and "binary file" in _one_error_line(captured.err, path)
        return
    assert status == 0, captured.err
    written = out / "disavow.txt"
    assert problems_of(written) == []
    assert main(["disavow", "validate", str(written)]) == 0
    capsys.readouterr()
    original = [ln.raw for ln in read(path)[0]]
    assert missing_lines(original, written.read_text(encoding="utf-8").split("\n")) == []
