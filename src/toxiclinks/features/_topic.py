"""topic__ features: does the source page talk about what the target site is about?

Both sides become vectors of topic and money-niche word counts (lexicons in
:mod:`._lexicons`); relevance is their cosine. Cheap, offline and explainable ("casino vs outdoor
gear"). The target's topic comes from its URL words, the words the user gives (``site_topic``) and
the natural anchors of its profile (collected for the whole batch by :mod:`._context`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..urls import arrow_strings
from ._lexicons import MONEY_NAMES, TOPIC_NAMES
from ._text import lexicon_counts, tokens, topic_vector, url_words

FEATURES: dict[str, str] = {
    "topic__similarity": "cosine of source and target topic vectors (0 = unrelated topics)",
    "topic__source_topic_words": "topic words found in the source title and URL (how much we know)",
    "topic__source_money_words": "money-niche words in the source title and URL",
    "topic__target_money_niche": "the target site itself is in a money niche (casino anchors may be fine)",
    "topic__source_money_match": "the source's money niche is also the target's niche",
}
N_TOPICS = len(TOPIC_NAMES)
# Scheme and file extensions ("https", "php", …) say nothing about a page's topic; they are no
# lexicon words, so the URL's tokens can be counted as they are (tested).
URL_NOISE = ("http", "https", "html", "htm", "php", "asp", "aspx", "jsp")
NAMES = (*TOPIC_NAMES, *MONEY_NAMES)
_BLOCK = 1 << 15  # rows per block of the per-link products (their temporaries stay in cache)


def source_vectors(links: pd.DataFrame) -> np.ndarray:
    """Topic vector of each row's source: words of its title and URL (vectorised)."""
    title = pc.fill_null(arrow_strings(links["source_title"].astype("string")), "")
    url = pc.fill_null(arrow_strings(links["source_url"].astype("string")), "")
    return lexicon_counts(pc.binary_join_element_wise(title, url, " "))


def source_vector(link: Mapping[str, Any]) -> np.ndarray:
    """:func:`source_vectors` of one link's plain values: the topic words of its title and URL."""
    text = f"{link.get('source_title') or ''} {link['source_url']}"
    if text.isascii():  # the batch's ASCII tokenizer splits exactly where ``tokens`` does
        return topic_vector(tokens(text))
    return lexicon_counts(pa.array([text], pa.large_string()))[0]


def target_vector(urls: list[str], anchors: list[str], site_topic: str | None) -> np.ndarray:
    """Topic vector of a target site: its URL words, its natural anchors and the user's words."""
    words: list[str] = []
    for url in urls:
        words.extend(url_words(url))
    for anchor in anchors:
        words.extend(tokens(anchor))
    vec = topic_vector(words)
    return vec + topic_vector(tokens(site_topic)) * 5 if site_topic else vec


def compute(s: np.ndarray, targets: np.ndarray, codes: np.ndarray, no_target: np.ndarray) -> dict[str, np.ndarray]:
    """Relevance between each source's topic vector (``s``, from :func:`source_vectors`) and its
    target site's (``targets[codes]``); ``no_target`` marks the links without a target site."""
    # What depends on the target alone is computed once per target site; the per-link products
    # go a block of rows at a time, so their temporaries stay in cache.
    t_norms, t_money = _norms(targets), targets[:, N_TOPICS:] > 0
    t_money_share = (targets[:, N_TOPICS:].sum(axis=1) / np.maximum(targets.sum(axis=1), 1))[codes]
    dot, match = np.empty(len(s), dtype=np.float32), np.empty(len(s), dtype=bool)
    for start in range(0, len(s), _BLOCK):
        rows = slice(start, start + _BLOCK)
        dot[rows] = (s[rows] * targets[codes[rows]]).sum(axis=1)
        match[rows] = ((s[rows, N_TOPICS:] > 0) & t_money[codes[rows]]).any(axis=1)
    s_norm, t_norm = _norms(s), t_norms[codes]
    known = (s_norm > 0) & (t_norm > 0)
    sim = np.where(known, dot / np.where(known, s_norm * t_norm, 1), np.nan)
    s_money = s[:, N_TOPICS:]
    return {
        "topic__similarity": sim,
        "topic__source_topic_words": s.sum(axis=1).astype(float),
        "topic__source_money_words": s_money.sum(axis=1).astype(float),
        "topic__target_money_niche": np.where(no_target, np.nan, t_money_share),
        "topic__source_money_match": np.where(no_target, np.nan, match.astype(float)),
    }


def _norms(vectors: np.ndarray) -> np.ndarray:
    """Euclidean length of each row (what ``np.linalg.norm(axis=1)`` gives, without its copy)."""
    return np.sqrt(np.add.reduce(vectors * vectors, axis=1))


def dominant(vectors: np.ndarray) -> np.ndarray:
    """Name of the strongest topic in each row of ``vectors``, "" for a row without any."""
    names = np.array([*NAMES, ""], dtype=object)
    if len(vectors) == 0:
        return names[:0]
    return names[np.where(vectors.sum(axis=1) > 0, vectors.argmax(axis=1), len(NAMES))]
