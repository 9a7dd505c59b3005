"""The work on one chunk of links that every audit does, in this process or as a cluster's task:
features (with the chunk's slice of the profile context), the model's judgment, links.csv's rows and
the chunk's share of the accumulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..features import Context
from ..model import ToxicityModel, featurize, judge, scored_table
from ..safeio import csv_bytes
from ._accumulate import Part, compact
from ._fetching import FETCH_COLUMNS, mark_gone


def parquet_schema(columns: list[str]) -> pa.Schema:
    """links.parquet's columns: row numbers and toxicity as numbers, the rest as text."""
    return pa.schema([(c, pa.int64() if c == "source_row" else pa.float64() if c == "toxicity" else pa.string())
                      for c in columns])


@dataclass
class ChunkJob:
    """What scoring a chunk needs besides the chunk and its context: the same for every chunk, on
    this process or on a cluster's workers."""

    model: ToxicityModel
    allow: list[str]
    deny: list[str]
    site_topic: str | None
    columns: list[str]  # of links.csv
    pages: str | None = None
    page_index: dict[str, Path] | None = None  # normalised page URL → saved file (``--pages``)


def chunk_features(job: ChunkJob, chunk: pd.DataFrame, chunk_context: Context,
                   anchors: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, Context, np.ndarray, np.ndarray]:
    """Step 1 of scoring a chunk: regions from saved pages, then the feature matrix (with the
    chunk's slice of the profile context and, if the first pass kept them, its anchor features)
    and the allow/deny masks."""
    if job.page_index is not None:
        from ._pages import add_regions

        add_regions(chunk, job.pages or "", (job.page_index, []))
    return featurize(job.model, chunk, allow=job.allow, deny=job.deny, site_topic=job.site_topic,
                     context=chunk_context, anchors=anchors)


def chunk_judgment(job: ChunkJob, X: np.ndarray, allowed: np.ndarray, denied: np.ndarray) -> Any:
    """Step 2: the model's scores and reasons (LightGBM releases the GIL; one thread), as the
    model's ``Judgment`` (which the model stage does not name on its face)."""
    return judge(job.model, X, allowed, denied, "flagged", 1)


def chunk_rows(job: ChunkJob, chunk: pd.DataFrame, X: np.ndarray, chunk_context: Context, judgment: Any,
               ) -> tuple[pd.DataFrame, Part]:
    """Step 3: the chunk's rows of links.csv and its share of the accumulator."""
    scored = scored_table(job.model, chunk, X, chunk_context, judgment)
    scored["verdict"] = mark_gone(chunk, scored["verdict"].to_numpy(object), judgment.denied)
    return link_rows(chunk, scored, job.columns), compact(chunk, scored)


def score_chunk(job: ChunkJob, chunk: pd.DataFrame, chunk_context: Context) -> tuple[pd.DataFrame, Part]:
    """The three steps in a row (a cluster's task; the local loop overlaps them across chunks)."""
    X, chunk_context, allowed, denied = chunk_features(job, chunk, chunk_context)
    return chunk_rows(job, chunk, X, chunk_context, chunk_judgment(job, X, allowed, denied))


def encoded_rows(table: pd.DataFrame, schema: pa.Schema, first: bool,
                 to_csv: Callable[..., bytes] = csv_bytes) -> tuple[bytes, pa.Table]:
    """A chunk's rows as links.csv bytes (the header with the export's first chunk) and as Arrow.
    (The local loop passes ``to_csv`` from its own module, where tests replace it to fail a write.)"""
    return to_csv(table, header=first), pa.Table.from_pandas(table, schema=schema, preserve_index=False)


def link_rows(links: pd.DataFrame, scored: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows of links.csv for one chunk."""
    table = pd.DataFrame({c: links[c] for c in ("source_file", "source_row", "source_url", "target_url",
                                                "anchor", "source_site")})
    table["source_row"] = table["source_row"].astype("Int64")
    for c in ("toxicity", "verdict", "reasons", "anchor_class", "placement"):
        table[c] = scored[c].to_numpy()
    table["label"] = ""
    for c in FETCH_COLUMNS:
        if c in columns:
            table[c] = links[c] if c in links else pd.Series(pd.NA, index=links.index, dtype="string")
    return table[columns]


def target_counts_of(links: pd.DataFrame) -> dict[str, int]:
    """Links per target site of one chunk (the audited site is the one most links point to)."""
    return {name: int(n) for name, n in links["target_site"].value_counts().items()}
