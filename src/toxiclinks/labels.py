"""User judgments: the labels CSV format, and joining labels to exports by normalised URL.

A labels file is CSV with a header: ``source_url`` (required), ``target_url`` (optional),
``label`` (``toxic``/``natural``; also 1/0, true/false, disavow/keep) and ``note`` (optional).
An audit's ``links.csv`` with a filled ``label`` column is a labels file too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LabelsError
from .urls import URLError, normalize_url

TOXIC_WORDS = frozenset({"toxic", "1", "true", "yes", "bad", "spam", "disavow", "remove"})
NATURAL_WORDS = frozenset({"natural", "0", "false", "no", "good", "ok", "keep", "clean", "fine"})


def read_labels(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a labels CSV: (labels with normalised URLs and label 0/1, rejected rows with reasons)."""
    path = Path(path)
    if not path.is_file():
        raise LabelsError("no such labels file", path=str(path))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                          encoding_errors="replace", on_bad_lines="warn")
    except pd.errors.EmptyDataError:
        raise LabelsError("labels file is empty", path=str(path)) from None
    except pd.errors.ParserError as exc:
        raise LabelsError(f"not a readable CSV: {exc}", path=str(path)) from None
    columns = {c.strip().lower().replace(" ", "_"): c for c in raw.columns}
    for required in ("source_url", "label"):
        if required not in columns:
            raise LabelsError(f"labels file needs a {required!r} column; columns seen: "
                              f"{', '.join(map(repr, raw.columns))}", path=str(path), line=1)
    rows, rejects = [], []
    target_col, note_col = columns.get("target_url"), columns.get("note")
    for i, record in enumerate(raw.itertuples(index=False), start=2):
        values = dict(zip(raw.columns, record, strict=True))
        label_text = str(values[columns["label"]]).strip().lower()
        if not label_text:
            continue  # an audit row nobody reviewed
        if label_text in TOXIC_WORDS:
            label = 1
        elif label_text in NATURAL_WORDS:
            label = 0
        else:
            rejects.append((str(path), i, "label", f"label {label_text[:50]!r} is not toxic or natural"))
            continue
        try:
            source = normalize_url(values[columns["source_url"]])
        except URLError as exc:
            rejects.append((str(path), i, "source_url", f"source URL: {exc}"))
            continue
        target = None
        if target_col and values[target_col].strip():
            try:
                target = normalize_url(values[target_col])
            except URLError as exc:
                rejects.append((str(path), i, "target_url", f"target URL: {exc}"))
                continue
        rows.append((source, target, label, values[note_col][:500] if note_col else ""))
    labels = pd.DataFrame(rows, columns=["source_url", "target_url", "label", "note"])
    bad = pd.DataFrame(rejects, columns=["file", "line", "column", "reason"])
    return labels, bad


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
