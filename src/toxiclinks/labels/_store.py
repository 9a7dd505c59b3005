"""The label store: every judgment a user made, the links judged, and the domain rules, in SQLite.

Schema versions (``PRAGMA user_version``): 0, the first store (judgments, site rules); 1 adds
``link_rows``, the canonical row of every labelled link (JSON of :mod:`toxiclinks.schema`'s
columns), so retraining needs no export. Opening a store migrates it; a store of a newer version
is refused rather than misread.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema
from ..errors import LabelsError
from ..urls import site_entry

#: The schema version this code writes (see the module docstring).
STORE_VERSION = 1


class LabelStore:
    """Every judgment a user made, in SQLite; the latest one per link wins, history is kept.

    Also holds domain rules (allow/deny) that apply to audits and the service at once, without
    retraining. Safe for concurrent writers: WAL journal, a busy timeout, one transaction per write.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        from ..config import label_store_path

        self.path = Path(path) if path else label_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._reader = None  # a connection kept for rules(), opened on first use
        self._rules_lock = threading.Lock()
        self._rules_version: int | None = None
        self._rules: tuple[list[str], list[str]] = ([], [])
        import sqlite3

        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("BEGIN IMMEDIATE")  # two processes opening an old store migrate it once
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > STORE_VERSION:
                    raise LabelsError(f"the label store has schema version {version}, newer than this "
                                      f"toxiclinks reads ({STORE_VERSION}): upgrade toxiclinks", path=str(self.path))
                for statement in _SCHEMA:  # idempotent: creates a new store, migrates an old one
                    db.execute(statement)
                db.execute(f"PRAGMA user_version={STORE_VERSION}")
                db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:  # not a SQLite file, or a damaged one
            raise LabelsError(f"not a usable label store: {exc}", path=str(self.path)) from None

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
        return self._insert("INSERT INTO judgments (source_url, target_url, label, author, note, origin, created_at)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def latest(self) -> pd.DataFrame:
        """The latest judgment per link, in the labels format (target_url None when not given)."""
        with self._connect() as db:
            frame = pd.read_sql_query(
                "SELECT source_url, target_url, label, note, author, created_at FROM judgments j "
                "WHERE id = (SELECT MAX(id) FROM judgments k WHERE k.source_url = j.source_url "
                "AND k.target_url = j.target_url)", db.connection)
        frame["target_url"] = frame["target_url"].replace("", None)
        return frame

    def keep_rows(self, links: pd.DataFrame, *, origin: str = "") -> int:
        """Keep the canonical rows of labelled links (a later row for the same link replaces the
        earlier one); return how many. Retraining reads them back with :meth:`rows`."""
        import datetime as dt

        if len(links) == 0:
            return 0
        now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        target = links["target_url"].astype(object).where(links["target_url"].notna(), "")
        rows = [(str(s), str(t), text, origin[:500], now)
                for s, t, text in zip(links["source_url"].astype(object), target, _encode(links), strict=True)]
        return self._insert("INSERT OR REPLACE INTO link_rows (source_url, target_url, row, origin, created_at)"
                            " VALUES (?, ?, ?, ?, ?)", rows)

    def _insert(self, sql: str, rows: list[tuple]) -> int:
        """Run one insert statement over ``rows`` in one write transaction; return how many."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(sql, rows)
            db.execute("COMMIT")
        return len(rows)

    def rows(self) -> pd.DataFrame:
        """Every kept link row, as a canonical link table (:mod:`toxiclinks.schema`)."""
        with self._connect() as db:
            texts = [r[0] for r in db.execute("SELECT row FROM link_rows ORDER BY rowid")]
        return _decode(texts)

    def unlinked(self) -> pd.DataFrame:
        """The latest judgments that no kept row matches (by exact link, or by page for a
        judgment without a target URL), in the labels format."""
        labels = self.latest()
        with self._connect() as db:
            kept = db.execute("SELECT source_url, target_url FROM link_rows").fetchall()
        pages = {s for s, _ in kept}
        links = {(s, t) for s, t in kept}
        found = [(s in pages) if t is None or pd.isna(t) else ((s, t) in links)
                 for s, t in zip(labels["source_url"], labels["target_url"], strict=True)]
        return labels.loc[~np.array(found, dtype=bool)].reset_index(drop=True)

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

    def site_rules(self) -> dict[str, str]:
        """Each site's latest rule ever set, ``clear`` included: which sites a person has ruled on."""
        with self._connect() as db:
            rows = db.execute("SELECT site, rule FROM site_rules s WHERE id = "
                              "(SELECT MAX(id) FROM site_rules t WHERE t.site = s.site)").fetchall()
        return dict(rows)

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


#: Every table and index, as of :data:`STORE_VERSION`; each statement is idempotent, so the same
#: list creates a new store and migrates an old one.
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS judgments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source_url TEXT NOT NULL, target_url TEXT NOT NULL DEFAULT '',
        label INTEGER NOT NULL CHECK (label IN (0, 1)),
        author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS judgments_link ON judgments (source_url, target_url, id)",
    """CREATE TABLE IF NOT EXISTS site_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL,
        rule TEXT NOT NULL CHECK (rule IN ('allow', 'deny', 'clear')),
        author TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL)""",
    # Version 1: the canonical row of each labelled link, the latest one given per link.
    """CREATE TABLE IF NOT EXISTS link_rows (
        source_url TEXT NOT NULL, target_url TEXT NOT NULL DEFAULT '',
        row TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
        PRIMARY KEY (source_url, target_url))""",
)


def _encode(links: pd.DataFrame) -> list[str]:
    """Each row's canonical columns as JSON (missing values as null, dates in ISO format)."""
    columns = {}
    for name in schema.COLUMNS:
        col = links[name] if name in links else pd.Series(schema.missing_array(name, len(links)))
        kind = schema.KIND[name]
        if kind == "datetime":
            when = pd.to_datetime(col, errors="coerce")
            values = np.where(when.notna(), when.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").to_numpy(object), None)
        elif kind == "float":
            numbers = pd.to_numeric(col, errors="coerce").to_numpy(float, na_value=np.nan)
            values = np.where(np.isfinite(numbers), numbers.astype(object), None)
        elif kind == "bool":
            values = col.astype("boolean").astype(object).where(col.notna(), None).to_numpy(object)
            values = np.array([None if v is None else bool(v) for v in values], dtype=object)
        else:
            values = col.astype(object).where(col.notna(), None).to_numpy(object)
            values = np.array([None if v is None else str(v) for v in values], dtype=object)
        columns[name] = values
    names = list(columns)
    return [json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False)
            for row in zip(*columns.values(), strict=True)]


def _decode(texts: list[str]) -> pd.DataFrame:
    """The canonical table of JSON rows written by :func:`_encode` (fields they lack are missing)."""
    records = []
    for text in texts:
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        records.append(record if isinstance(record, dict) else {})
    raw = pd.DataFrame.from_records(records, columns=list(schema.COLUMNS)) if records else \
        pd.DataFrame(columns=list(schema.COLUMNS))
    out = {}
    for name in schema.COLUMNS:
        col, kind = raw[name].astype(object).where(raw[name].notna(), None), schema.KIND[name]
        if kind == "datetime":
            out[name] = pd.to_datetime(col, errors="coerce", format="ISO8601").astype("datetime64[ns]")
        elif kind == "float":
            out[name] = pd.to_numeric(col, errors="coerce").astype("Float64")
        elif kind == "bool":
            out[name] = col.map(lambda v: v if isinstance(v, bool) else None).astype("boolean")
        else:
            out[name] = col.map(lambda v: v if isinstance(v, str) else None).astype("string")
    return schema.from_columns(out, pd.RangeIndex(len(raw)))


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
