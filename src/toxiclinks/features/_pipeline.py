"""The feature pipeline: the canonical link table in, the feature matrix out (one transformer).

:class:`LinkFeatures` turns the canonical link table (:mod:`toxiclinks.schema`) into a numeric
matrix whose columns are listed, with descriptions, in the registry (``features/FEATURES.md``).
It is fitted on training data (the TLD spam rates and the reference lists become part of the
fitted object), so batch and real-time scoring use the same fitted state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .. import schema
from ..reading import HOST_COLUMNS, add_hosts
from . import _anchor as anchor
from . import _domain as domain
from . import _names as names
from . import _placement as placement
from . import _reference as reference
from . import _topic as topic
from ._context import Context, ContextBuilder
from ._registry import COLUMN, FEATURES

T = TypeVar("T")


class LinkFeatures(TransformerMixin, BaseEstimator):
    """Canonical link table → feature matrix (``group__name`` columns).

    Parameters
    ----------
    site_topic:
        A few words about the audited site ("outdoor gear, hiking boots"); sharpens topical
        relevance when target URLs and anchors say little.
    tld_smoothing:
        Pseudo-count pulling each TLD's learned spam rate towards the overall rate, so that a
        rare TLD seen a few times in training cannot become a verdict on its own.
    reference_split:
        Which part of the reference domain lists the membership features use (``known`` keeps
        one domain in five back for honest evaluation; ``all`` uses everything).
    """

    def __init__(self, site_topic: str | None = None, tld_smoothing: float = 200.0,
                 reference_split: str = "known") -> None:
        self.site_topic = site_topic
        self.tld_smoothing = tld_smoothing
        self.reference_split = reference_split

    def fit(self, X: pd.DataFrame, y=None) -> LinkFeatures:
        """Learn the TLD spam rates (when ``y`` is given) and load the reference lists."""
        links = _validate(X)
        self.use_reference(self.reference_split)
        if y is not None:
            labels = np.asarray(y, dtype=float)
            suffix = links["source_suffix"].fillna("").to_numpy(object)
            prior = float(np.nanmean(labels)) if len(labels) else 0.5
            stats = pd.DataFrame({"suffix": suffix, "y": labels}).groupby("suffix")["y"].agg(["sum", "count"])
            m = float(self.tld_smoothing)
            self.tld_rates_ = ((stats["sum"] + m * prior) / (stats["count"] + m)).to_dict()
            self.tld_prior_ = prior
        else:
            self.tld_rates_, self.tld_prior_ = {}, np.nan
        self.feature_names_out_ = np.array(list(FEATURES), dtype=object)
        return self

    def use_reference(self, split: str) -> LinkFeatures:
        """Load the reference lists of ``split`` (see :func:`toxiclinks.features.spam_domains`)."""
        self.reference_split = split
        self.spam_domains_ = reference.spam_domains(split)
        self.popular_ranks_ = reference.popular_domains(split)
        # The name model never learns the held-out fifth: "all" names it from the known part.
        self.name_model_ = names.fit("known" if split == "all" else split)
        return self

    def tld_rate(self, suffix: str) -> float:
        """Learned spam rate of a TLD; the overall rate for TLDs unseen in training."""
        return float(self.tld_rates_.get(suffix, self.tld_prior_)) if suffix else np.nan

    def transform(self, X: pd.DataFrame, context: Context | None = None) -> np.ndarray:
        """Feature matrix, one row per link, columns as :meth:`get_feature_names_out`.

        ``context`` holds the profile-level values of a larger batch this table is a chunk of
        (see :mod:`._context`); without it, the table is its own batch.
        """
        return self.transform_with_context(X, context)[0]

    def transform_with_context(self, X: pd.DataFrame, context: Context | None = None,
                               anchors: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, Context]:
        """:meth:`transform`, also returning the batch context used, with the links' source topic
        vectors (reasons name the target and source topics).

        ``anchors`` are the links' anchor features as :meth:`add_to_context` returned them, when
        the first pass of a batch held on to them (they are not computed again).
        """
        check_is_fitted(self, "feature_names_out_")
        links = _validate(X)
        if len(links) == 0:
            return np.empty((0, len(FEATURES)), dtype=np.float32), context or self.context_builder().finish()
        if context is not None and len(context) != len(links):
            raise ValueError(f"the context covers {len(context):,} links, the table has {len(links):,}")
        if anchors is not None and any(len(v) != len(links) for v in anchors.values()):
            raise ValueError(f"the anchor features given do not cover the table's {len(links):,} links")
        # Column-major: each column is one contiguous copy (strided writes into a row-major matrix
        # are slow), and LightGBM reads either order with the same results.
        matrix = np.empty((len(FEATURES), len(links)), dtype=np.float32)
        filled: set[str] = set()

        def fill(values: dict[str, np.ndarray]) -> None:
            for name, column in values.items():
                matrix[COLUMN[name]] = column
            filled.update(values)

        source_topics = np.empty((len(links), len(topic.NAMES)), dtype=np.float32)

        def topics_of(rows: slice) -> None:
            source_topics[rows] = topic.source_vectors(links.iloc[rows])

        # The Python-heavy families (host traits, anchors, batch context) run on this thread. The
        # rest, mostly Arrow and numpy kernels that release the GIL, is queued for a second thread
        # in parts; what it has not started when this thread is done, this thread takes back.
        # Each part writes its own columns (rows of ``matrix``) as soon as they are ready. Touching
        # the matrix first maps its pages on the second thread, so this thread's first writes
        # take no page faults.
        side_work = [lambda: matrix.fill(np.nan), lambda: fill(placement.compute(links, self)),
                     *(functools.partial(topics_of, slice(start, start + _PART_ROWS))
                       for start in range(0, len(links), _PART_ROWS)),
                     lambda: fill(domain.metrics(links))]
        with contextlib.ExitStack() as stack:
            pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="toxiclinks-features")) \
                if len(links) >= PARALLEL_ROWS else None
            side = _start(pool, side_work)
            values = {**domain.compute(links, self, None if context is None else context.hosts),
                      **(anchor.compute(links, self) if anchors is None else anchors)}
            if context is None:
                builder = self.context_builder()
                builder.add(links, values)
                context = builder.finish()
            fill(values)
            filled.update(context.fill({name: matrix[COLUMN[name]] for name in COLUMN}))
            side()
        fill(topic.compute(source_topics, context.target_vectors, context.target_codes,
                           links["target_site"].isna().to_numpy()))
        if len(filled) != len(FEATURES):
            raise RuntimeError(f"features not computed: {sorted(set(FEATURES) - filled)}")
        return matrix.T, dataclasses.replace(context, source_vectors=source_topics)

    def context_builder(self) -> ContextBuilder:
        """A builder for the profile-level context of a streamed batch (see :mod:`._context`)."""
        return ContextBuilder(getattr(self, "site_topic", None))

    def add_to_context(self, builder: ContextBuilder, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """First pass of a streamed batch: add one chunk's keys to ``builder``. Returns the chunk's
        anchor features, computed on the way, for :meth:`transform_with_context` (``anchors``)."""
        check_is_fitted(self, "feature_names_out_")
        links = _validate(X)
        values = anchor.compute(links, self)
        builder.add(links, values)
        return values

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns (``group__name``)."""
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags



#: Batches of at least this many links compute some families on a second thread.
PARALLEL_ROWS = 20_000
_PART_ROWS = 250_000  # the source topics of a big batch go in parts of this many links


def _start(pool: ThreadPoolExecutor | None, work: list[Callable[[], T]]) -> Callable[[], list[T]]:
    """Queue ``work`` on ``pool`` (or run it now, without one); return what gives the results.

    When the results are asked for, what the pool has not started yet runs on the asking thread
    (last first), so neither thread idles while the other still has work queued.
    """
    if pool is None:
        done = [w() for w in work]
        return lambda: done
    futures = [pool.submit(w) for w in work]

    def results() -> list[T]:
        taken = {i: work[i]() for i in reversed(range(len(work))) if futures[i].cancel()}
        return [taken[i] if i in taken else f.result() for i, f in enumerate(futures)]

    return results


def _validate(X) -> pd.DataFrame:
    """Accept a canonical link table (missing columns are unknown) and nothing else."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"LinkFeatures expects the canonical link table as a DataFrame, got {type(X).__name__}")
    if "source_url" not in X:
        raise ValueError("the link table has no 'source_url' column")
    if schema.is_canonical(X):  # from a reader or the service: nothing to convert
        return X
    missing_hosts = any(c not in X for c in HOST_COLUMNS)
    links = schema.conform(X)
    if missing_hosts:
        add_hosts(links)
    return links
