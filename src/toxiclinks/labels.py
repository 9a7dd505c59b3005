"""User judgments: the labels CSV format, and joining labels to exports by normalised URL.

A labels file is CSV with a header: ``source_url`` (required), ``target_url`` (optional),
``label`` (``toxic``/``natural``; also 1/0, true/false, disavow/keep) and ``note`` (optional).
An audit's ``links.csv`` with a filled ``label`` column is a labels file too.
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import LabelsError
from .readers import guess_delimiter
from .safeio import decode_text
from .urls import normalize_url_series, site_entry

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


class LabelStore:
    """Every judgment a user made, in SQLite; the latest one per link wins, history is kept.

    Also holds domain rules (allow/deny) that apply to audits and the service at once, without
    retraining. Safe for concurrent writers: WAL journal, a busy timeout, one transaction per write.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        from .config import label_store_path

        self.path = Path(path) if path else label_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader = None  # a connection kept for rules(), opened on first use
        self._rules_lock = threading.Lock()
        self._rules_version: int | None = None
        self._rules: tuple[list[str], list[str]] = ([], [])
        with self._connect() as db:
            db.executescript("""
                PRAGMA journal_mode=WAL;
                CREATE TABLE IF NOT EXISTS judgments (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    source_url TEXT NOT NULL, target_url TEXT NOT NULL DEFAULT '',
                    label INTEGER NOT NULL CHECK (label IN (0, 1)),
                    author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '',
                    created_at TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS judgments_link ON judgments (source_url, target_url, id);
                CREATE TABLE IF NOT EXISTS site_rules (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL,
                    rule TEXT NOT NULL CHECK (rule IN ('allow', 'deny', 'clear')),
                    author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
            """)

    def _connect(self):
        import sqlite3

        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise LabelsError(f"cannot open the label store: {exc}", path=str(self.path)) from None
        db.execute("PRAGMA busy_timeout=30000")
        return _Closing(db)

    def add(self, labels: pd.DataFrame, *, author: str, origin: str = "") -> int:
        """Store judgments (columns source_url, target_url, label, note); return how many."""
        import datetime as dt

        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        def text(value) -> str:
            return "" if value is None or pd.isna(value) else str(value)

        rows = [(r.source_url, text(r.target_url), int(r.label), author[:200], text(r.note)[:500], origin[:500], now)
                for r in labels.itertuples(index=False)]
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO judgments (source_url, target_url, label, author, note, origin, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        return len(rows)

    def latest(self) -> pd.DataFrame:
        """The latest judgment per link, in the labels format (target_url None when not given)."""
        with self._connect() as db:
            frame = pd.read_sql_query(
                "SELECT source_url, target_url, label, note, author, created_at FROM judgments j "
                "WHERE id = (SELECT MAX(id) FROM judgments k WHERE k.source_url = j.source_url "
                "AND k.target_url = j.target_url)", db.connection)
        frame["target_url"] = frame["target_url"].replace("", None)
        return frame

    def history(self) -> pd.DataFrame:
        """Every judgment ever stored, oldest first."""
        with self._connect() as db:
            return pd.read_sql_query("SELECT * FROM judgments ORDER BY id", db.connection)

    def set_rule(self, site: str, rule: str, *, author: str, note: str = "") -> None:
        """Allow, deny or clear a site (``domain:`` prefixes and URLs accepted)."""
        import datetime as dt

        site = site_entry(site)
        if not site or "." not in site:
            raise LabelsError(f"{site!r} is not a domain")
        if rule not in ("allow", "deny", "clear"):
            raise LabelsError(f"rule must be allow, deny or clear, not {rule!r}")
        with self._connect() as db:
            db.execute("INSERT INTO site_rules (site, rule, author, note, created_at) VALUES (?, ?, ?, ?, ?)",
                       (site, rule, author[:200], note[:500], dt.datetime.now(dt.UTC).isoformat()))

    def rules(self) -> tuple[list[str], list[str]]:
        """(allowed sites, denied sites) by each site's latest rule.

        The service asks on every request, so the answer is kept and read again only when
        another connection (a CLI ``labels allow``, another worker) has changed the database
        since: SQLite's ``data_version`` says so for the price of one pragma, not a connection.
        """
        import sqlite3

        with self._rules_lock:
            if self._reader is None:
                self._reader = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            version = self._reader.execute("PRAGMA data_version").fetchone()[0]
            if version != self._rules_version:
                rows = self._reader.execute("SELECT site, rule FROM site_rules s WHERE id = "
                                            "(SELECT MAX(id) FROM site_rules t WHERE t.site = s.site)").fetchall()
                self._rules = [s for s, r in rows if r == "allow"], [s for s, r in rows if r == "deny"]
                self._rules_version = version
            allowed, denied = self._rules
        return list(allowed), list(denied)

    def close(self) -> None:
        """Close the connection :meth:`rules` keeps (the others close after each call)."""
        with self._rules_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader, self._rules_version = None, None

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Closing:
    """Context manager that closes a sqlite3 connection (sqlite3's own only ends transactions)."""

    def __init__(self, db) -> None:
        self.connection = db

    def __enter__(self):
        return self

    def execute(self, *args):
        return self.connection.execute(*args)

    def executemany(self, *args):
        return self.connection.executemany(*args)

    def executescript(self, *args):
        return self.connection.executescript(*args)

    def __exit__(self, *exc) -> None:
        if exc[0] is not None and self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()
