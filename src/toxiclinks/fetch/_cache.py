"""The fetch cache: one SQLite row per page URL, committed as each page arrives.

A later run reuses rows younger than ``refetch_after_days`` (failed fetches: younger than
``retry_failed_after_days``), so an interrupted run resumes where it stopped. Bodies are kept
zlib-compressed, after the size caps. One process writes, from its event loop thread.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from pathlib import Path

from ._net import Fetched
from ._options import FetchError, FetchOptions

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    fetched_at REAL NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    status INTEGER,
    final_url TEXT,
    content_type TEXT,
    x_robots_tag TEXT,
    body BLOB
)
"""
_DAY = 86_400.0


class Cache:
    """Pages fetched before, by requested URL."""

    def __init__(self, path: Path, options: FetchOptions) -> None:
        self.path = Path(path)
        self.options = options
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # WAL: readers (another look at the file) never block the writer, commits stay cheap.
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise FetchError(f"cannot use the fetch cache ({exc})", path=str(self.path)) from None

    def get(self, url: str, now: float | None = None) -> tuple[Fetched, float] | None:
        """The cached page and its fetch time, when fresh enough to reuse."""
        row = self.db.execute(
            "SELECT fetched_at, outcome, reason, status, final_url, content_type, x_robots_tag, body"
            " FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        fetched_at, outcome, reason, status, final_url, content_type, x_robots_tag, body = row
        days = self.options.retry_failed_after_days if outcome == "failed" else self.options.refetch_after_days
        if (now or time.time()) - fetched_at > days * _DAY:
            return None
        try:
            data = zlib.decompress(body) if body is not None else None
        except zlib.error:
            return None  # a damaged row is fetched again
        return Fetched(outcome, reason, status, final_url, content_type, x_robots_tag, data), fetched_at

    def put(self, url: str, page: Fetched, fetched_at: float) -> None:
        """Store one page (replacing any older row) and commit it at once."""
        # Level 1: level 6 costs 3× the CPU (the largest cost of a fetch) for a file ~15% smaller.
        body = zlib.compress(page.body, 1) if page.body is not None else None
        self.db.execute(
            "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (url, fetched_at, page.outcome, page.reason, page.status, page.final_url, page.content_type,
             page.x_robots_tag, body))

    def close(self) -> None:
        """Close the file."""
        self.db.close()
