"""User judgments: the labels CSV format, and joining labels to exports by normalised URL.

A labels file is CSV with a header: ``source_url`` (required), ``target_url`` (optional),
``label`` (``toxic``/``natural``; also 1/0, true/false, disavow/keep) and ``note`` (optional).
An audit's ``links.csv`` with a filled ``label`` column is a labels file too.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import LabelsError
from ..safeio import decode_text
from ..urls import normalize_url_series
from ._sniff import guess_delimiter

TOXIC_WORDS = frozenset({"toxic", "1", "true", "yes", "bad", "spam", "disavow", "remove"})
NATURAL_WORDS = frozenset({"natural", "0", "false", "no", "good", "ok", "keep", "clean", "fine"})


def read_labels(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a labels CSV: (labels with normalised URLs and label 0/1, rejected rows with reasons).

    Rows are numbered by the line they start on; a row with more or fewer cells than the header
    is rejected with its line, never skipped. UTF-8, UTF-16 (Excel's "Unicode text") and
    Windows-1252 files are read; commas, semicolons or tabs, as the header uses them.
    """
    path = Path(path)
    if path.is_dir():
        raise LabelsError("is a folder, not a labels file", path=str(path))
    if not path.is_file():
        raise LabelsError("no such labels file", path=str(path))
    try:
        text = decode_text(path.read_bytes())[0]
    except ValueError:
        raise LabelsError("binary file, not a labels CSV", path=str(path)) from None
    if not text.strip():
        raise LabelsError("labels file is empty", path=str(path))
    delimiter = guess_delimiter(text.lstrip("\r\n").split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    cells: list[list[str]] = []
    lines: list[int] = []
    malformed: list[tuple[int, str]] = []
    try:
        header = next(reader, [])
        while header is not None and not any(cell.strip() for cell in header):  # blank lines before it
            header = next(reader, None)
        header = header or []
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue  # a blank line holds no judgment
            if len(row) != len(header):
                malformed.append((line, f"row has {len(row)} cells, the header {len(header)}"))
                continue
            cells.append(row)
            lines.append(line)
    except csv.Error as exc:  # a cell past the csv module's 131,072 characters
        raise LabelsError(f"not a readable CSV: {exc}", path=str(path), line=reader.line_num) from None
    raw = pd.DataFrame(cells, columns=header, dtype=object) if cells else pd.DataFrame(columns=header, dtype=object)
    columns = {c.strip().lower().replace(" ", "_"): c for c in raw.columns}
    for required in ("source_url", "label"):
        if required not in columns:
            raise LabelsError(f"labels file needs a {required!r} column; columns seen: "
                              f"{', '.join(map(repr, raw.columns))}", path=str(path), line=1)
    target_col, note_col = columns.get("target_url"), columns.get("note")
    lines = np.array(lines, dtype=np.int64)
    text = raw[columns["label"]].astype(str).str.strip().str.lower()
    label = text.map(lambda v: 1 if v in TOXIC_WORDS else 0 if v in NATURAL_WORDS else -1)
    reviewed = (text != "").to_numpy()  # an audit row nobody reviewed has an empty label
    reason = np.where(label.to_numpy() < 0, "label " + text.str.slice(0, 50).map(repr) + " is not toxic or natural", "")
    column = np.where(reason != "", "label", "")
    source, source_err = normalize_url_series(raw[columns["source_url"]])
    bad = (reason == "") & source_err.notna().to_numpy()
    reason = np.where(bad, "source URL: " + source_err.fillna("").to_numpy(object), reason)
    column = np.where(bad, "source_url", column)
    target = pd.Series([None] * len(raw), dtype=object)
    if target_col:
        given = raw[target_col].astype(str).str.strip() != ""
        target, target_err = normalize_url_series(raw[target_col])
        bad = (reason == "") & given.to_numpy() & target_err.notna().to_numpy()
        reason = np.where(bad, "target URL: " + target_err.fillna("").to_numpy(object), reason)
        column = np.where(bad, "target_url", column)
        target = target.astype(object).where(given, None)
    keep = reviewed & (reason == "")
    notes = raw[note_col].astype(str).str.slice(0, 500) if note_col else pd.Series([""] * len(raw))
    labels = pd.DataFrame({"source_url": source.to_numpy(object)[keep],
                           "target_url": target.astype(object).where(target.notna(), None).to_numpy(object)[keep],
                           "label": label.to_numpy()[keep].astype(int), "note": notes.to_numpy(object)[keep]})
    rejected = reviewed & (reason != "")
    bad_rows = pd.DataFrame({"file": str(path), "line": lines[rejected], "column": column[rejected],
                             "reason": reason[rejected]}, columns=["file", "line", "column", "reason"])
    if malformed:
        bad_rows = pd.concat([bad_rows, pd.DataFrame([(str(path), line, "", why) for line, why in malformed],
                                                     columns=bad_rows.columns)], ignore_index=True)
        bad_rows = bad_rows.sort_values("line", kind="stable", ignore_index=True)
    return labels, bad_rows


def join_labels(links: pd.DataFrame, labels: pd.DataFrame) -> np.ndarray:
    """Label (1.0/0.0) of each link, NaN where unlabelled.

    A label with a target URL applies to that exact link; one without applies to every link from
    that source page. The last label for a link wins.
    """
    result = np.full(len(links), np.nan)
    if len(labels) == 0 or len(links) == 0:
        return result
    labels = labels.drop_duplicates(["source_url", "target_url"], keep="last")
    src = links["source_url"].astype(object).to_numpy()
    tgt = links["target_url"].astype(object).to_numpy()
    with_target = labels[labels["target_url"].notna()]
    page_only = labels[labels["target_url"].isna()]
    if len(page_only):
        by_page = dict(zip(page_only["source_url"], page_only["label"], strict=True))
        result = pd.Series(src).map(by_page).to_numpy(dtype=float)
    if len(with_target):
        # Normalised URLs contain no spaces, so a space separates the pair unambiguously.
        key = pd.Series(src, dtype=object) + " " + pd.Series(tgt, dtype=object).fillna("")
        exact = dict(zip(with_target["source_url"] + " " + with_target["target_url"],
                         with_target["label"], strict=True))
        hit = key.map(exact).to_numpy(dtype=float)
        result = np.where(np.isnan(hit), result, hit)
    return result
