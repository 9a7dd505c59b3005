"""The label store: every judgment a user made, and the domain rules, in SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd

from ..errors import LabelsError
from ..urls import site_entry


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
