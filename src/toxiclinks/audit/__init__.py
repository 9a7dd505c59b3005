"""The audit: scored links in, the site decisions, the disavow file and the report out.

:func:`run_audit` reads exports, scores every link and writes ``links.csv``/``links.parquet``,
``domains.csv``, ``disavow.txt`` and ``report.html`` atomically. Which sites to disavow, and
whether by domain or by URL, is decided per referring site; the disavow file is read, merged and
validated against Google's rules so that every line of an uploaded file is kept. Each audit is
recorded per target site under ``$TOXICLINKS_HOME/history`` (``_history``); the next audit of the
site reports what changed (``changes.csv``, the summary, the report), :func:`seen_rows` gives
the label store the recorded rows of judged links, and :func:`recorded`/:func:`recorded_links` list
the recorded audits and read one back (the review page). With ``cluster`` (``tcp://host:8786`` or
``local:N``) :func:`run_audit` runs both passes as Dask tasks (``_cluster``; Dask is imported only
then); :func:`run_batch` audits every export of a folder, in parallel on a cluster, with a summary.
"""

from __future__ import annotations

from ._batch import BatchResult, run_batch
from ._disavow import MARK, MAX_BYTES, MAX_LINES, OVERFLOW_FILE, Line, parse, read, validate
from ._history import Burst, Changes, Recorded, history_dir, recorded, recorded_links, seen_rows
from ._merge import (
    OVERFLOW_NEW,
    OVERFLOW_NOTICE,
    REDUNDANT_MARK,
    SECTION_PATTERN,
    Merged,
    Recommendation,
    merge,
)
from ._pages import add_regions, page_regions
from ._run import AuditResult, Progress, run_audit
from ._sites import domain_table, recommendation

__all__ = [
    "MARK", "MAX_BYTES", "MAX_LINES", "OVERFLOW_FILE", "OVERFLOW_NEW", "OVERFLOW_NOTICE", "REDUNDANT_MARK",
    "SECTION_PATTERN", "AuditResult", "BatchResult", "Burst", "Changes", "Line", "Merged", "Progress", "Recommendation",
    "Recorded", "add_regions", "domain_table", "history_dir", "merge", "page_regions", "parse", "read", "recommendation",
    "recorded", "recorded_links", "run_audit", "run_batch", "seen_rows", "validate",
]
