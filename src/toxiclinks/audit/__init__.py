"""The audit: scored links in, the site decisions, the disavow file and the report out.

:func:`run_audit` reads exports, scores every link and writes ``links.csv``/``links.parquet``,
``domains.csv``, ``disavow.txt`` and ``report.html`` atomically. Which sites to disavow, and
whether by domain or by URL, is decided per referring site; the disavow file is read, merged and
validated against Google's rules so that every line of an uploaded file is kept. Each audit is
recorded per target site under ``$TOXICLINKS_HOME/history`` (``_history``); the next audit of the
site reports what changed (``changes.csv``, the summary, the report), and :func:`seen_rows` gives
the label store the recorded rows of judged links.
"""

from __future__ import annotations

from ._disavow import MAX_BYTES, MAX_LINES, OVERFLOW_FILE, Line, parse, read, validate
from ._history import Burst, Changes, history_dir, seen_rows
from ._merge import Merged, Recommendation, merge
from ._pages import add_regions, page_regions
from ._run import AuditResult, Progress, run_audit
from ._sites import domain_table, recommendation

__all__ = [
    "MAX_BYTES", "MAX_LINES", "OVERFLOW_FILE", "AuditResult", "Burst", "Changes", "Line", "Merged", "Progress", "Recommendation",
    "add_regions", "domain_table", "history_dir", "merge", "page_regions", "parse", "read", "recommendation", "run_audit",
    "seen_rows", "validate",
]
