"""Reading exports: every supported backlink export in, the canonical link table out.

:func:`read_export` reads a whole export (:func:`iter_export` streams it in chunks); rows that
cannot be used come back as rejects with file, line, column and reason. Private modules behind
this face each do one job: ``_sniff`` (container, encoding, delimiter, header and format),
``_csv`` (the CSV parser in chunks, the rows it skipped), ``_transcode`` (decoding line by line,
CRs inside lines), ``_stray`` (stray quotes), ``_values`` (booleans, numbers, dates),
``_canonical`` (the canonical table and its host columns) and ``_read`` (worker threads, file
order). :func:`canonical_links` is also how the service turns a request's links into the same
table. Labels files (the user's judgments) are read here too, since they are joined to exports by
the same normalised URLs.
"""

from __future__ import annotations

from ._canonical import HOST_COLUMNS, add_hosts, canonical_links, host_columns, referring_site
from ._inspect import inspect_file
from ._labels import join_labels, read_labels
from ._read import ReadResult, iter_export, read_export
from ._sniff import REJECT_COLUMNS, Detected, detect

__all__ = [
    "HOST_COLUMNS", "REJECT_COLUMNS", "Detected", "ReadResult", "add_hosts", "canonical_links", "detect",
    "host_columns", "inspect_file", "iter_export", "join_labels", "read_export", "read_labels",
    "referring_site",
]
