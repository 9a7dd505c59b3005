"""The canonical link table: one row per backlink, the same columns whatever tool exported it.

Every reader produces this table and everything downstream consumes it. A field the export does not
carry is missing (NA), never 0 or False: unknown is not clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa


@dataclass(frozen=True, slots=True)
class Field:
    """One canonical column: its name, kind and meaning."""

    name: str
    kind: str  # str | bool | float | datetime
    description: str


FIELDS: tuple[Field, ...] = (
    Field("source_url", "str", "URL of the page that links (normalised)"),
    Field("target_url", "str", "URL the link points to (normalised)"),
    Field("anchor", "str", "anchor text (alt text for image links)"),
    Field("left_context", "str", "text just before the anchor"),
    Field("right_context", "str", "text just after the anchor"),
    Field("nofollow", "bool", 'rel="nofollow"'),
    Field("ugc", "bool", 'rel="ugc"'),
    Field("sponsored", "bool", 'rel="sponsored"'),
    Field("link_type", "str", "text, image, redirect, frame, form or mention"),
    Field("in_content", "bool", "the link sits in the page's main content"),
    Field("sitewide", "bool", "the link repeats across the source site (template link)"),
    Field("region", "str", "page region from saved HTML: body, header, nav, sidebar, footer, comments, author"),
    Field("links_in_group", "float", "how many identical links the tool grouped into this one"),
    Field("source_title", "str", "title of the linking page"),
    Field("language", "str", "language(s) of the linking page"),
    Field("platform", "str", "CMS or platform of the linking page as the tool reports it"),
    Field("page_type", "str", "page type as the tool reports it (article, forum, …)"),
    Field("http_code", "float", "HTTP status of the linking page"),
    Field("domain_rating", "float", "Ahrefs Domain Rating of the source (0-100)"),
    Field("url_rating", "float", "Ahrefs URL Rating of the source page (0-100)"),
    Field("authority_score", "float", "Semrush page Authority Score (0-100)"),
    Field("trust_flow", "float", "Majestic Trust Flow of the source (0-100)"),
    Field("citation_flow", "float", "Majestic Citation Flow of the source (0-100)"),
    Field("domain_authority", "float", "Moz Domain Authority of the source (0-100)"),
    Field("page_authority", "float", "Moz Page Authority of the source page (0-100)"),
    Field("domain_traffic", "float", "estimated organic traffic of the source domain"),
    Field("page_traffic", "float", "estimated organic traffic of the source page"),
    Field("source_referring_domains", "float", "referring domains of the source page or domain"),
    Field("external_links", "float", "external (outbound) links on the source page"),
    Field("internal_links", "float", "internal links on the source page"),
    Field("linked_domains", "float", "distinct domains the source domain links to"),
    Field("linking_pages", "float", "pages of the source site linking to the target (GSC sites)"),
    Field("first_seen", "datetime", "when the tool first saw the link"),
    Field("last_seen", "datetime", "when the tool last saw the link"),
    Field("lost", "bool", "the tool reports the link as lost"),
    Field("tool_spam_flag", "bool", "the tool's own spam flag (Ahrefs 'Is spam')"),
    Field("tool_spam_score", "float", "the tool's own spam score 0-100 (Moz Spam Score, Semrush Toxicity)"),
    Field("source_tool", "str", "format the row was read from (ahrefs, semrush, gsc, …)"),
    Field("source_file", "str", "file the row was read from"),
    Field("source_row", "float", "record number of the row in its file (1 = first data row)"),
    # Derived from the URLs by the readers.
    Field("source_host", "str", "host of the source URL"),
    Field("source_site", "str", "independent site of the source (blog.example.com on platforms)"),
    Field("source_domain", "str", "registered domain of the source"),
    Field("source_suffix", "str", "public suffix (TLD) of the source"),
    Field("source_platform", "str", "hosting platform the source lives on (blogspot.com, …)"),
    Field("target_host", "str", "host of the target URL"),
    Field("target_site", "str", "independent site of the target"),
)

COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS)
KIND: dict[str, str] = {f.name: f.kind for f in FIELDS}
_DTYPES = {"str": "string", "bool": "boolean", "float": "Float64", "datetime": "datetime64[ns]"}


def dtype(name: str) -> str:
    """The pandas dtype of canonical field ``name``."""
    return _DTYPES[KIND[name]]


def empty_table(n: int = 0) -> pd.DataFrame:
    """A canonical table of ``n`` rows, every field missing."""
    return pd.DataFrame({name: missing_array(name, n) for name in COLUMNS}, index=pd.RangeIndex(n))


def missing_array(name: str, n: int) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``n`` missing values of canonical field ``name``, in its dtype (built without Python objects)."""
    kind = KIND[name]
    if kind == "str":  # the constructor itself: pd.array(..., dtype="string") costs far more per call
        return pd.arrays.ArrowStringArray(pa.chunked_array([pa.nulls(n, pa.large_string())]))
    if kind == "bool":
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    if kind == "float":
        return pd.arrays.FloatingArray(np.zeros(n), np.ones(n, dtype=bool))
    return np.full(n, np.datetime64("NaT", "ns"))


def is_canonical(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` already has the canonical columns, in order, with canonical dtypes."""
    if list(frame.columns[: len(COLUMNS)]) != list(COLUMNS):
        return False
    return all(str(kind) == dtype(name) for name, kind in zip(COLUMNS, frame.dtypes, strict=False))


def canonical_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the canonical columns of ``frame`` (seed and casebook tables carry different extras)."""
    return frame[list(COLUMNS)]


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with exactly the canonical columns, in order, with canonical dtypes."""
    return from_columns(frame, frame.index)


def from_columns(columns: Mapping[str, pd.Series | pd.api.extensions.ExtensionArray], index: pd.Index,
                 ) -> pd.DataFrame:
    """A canonical table from the columns given (aligned with ``index``); the rest missing."""
    out = {}
    for name in COLUMNS:
        if name in columns:
            col = columns[name]
            out[name] = col if str(col.dtype) == dtype(name) else col.astype(dtype(name))
            if isinstance(out[name], pd.Series):
                out[name] = out[name].array
        else:
            out[name] = missing_array(name, len(index))
    return pd.DataFrame(out, index=index, copy=False)
