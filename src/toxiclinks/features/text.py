"""Tokenising and lexicon matching shared by the anchor, domain and topic features."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
import pandas as pd

from .lexicons import COMMERCIAL, MONEY, MONEY_NAMES, TOPIC_NAMES, TOPICS

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_SPLIT_CAMEL_DIGITS = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters and digits, any script)."""
    return _TOKEN_RE.findall(text.lower())


def _compile(lexicon: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Exact words and prefix stems of a category lexicon, each with the category index."""
    exact, prefixes = {}, []
    for index, words in enumerate(lexicon.values()):
        for word in words:
            if word.endswith("*"):
                prefixes.append((word[:-1], index))
            else:
                exact.setdefault(word, index)
    prefixes.sort(key=lambda item: -len(item[0]))
    return exact, prefixes


_MONEY = _compile(MONEY)
_TOPICS = _compile(TOPICS)


@lru_cache(maxsize=200_000)
def money_category(token: str) -> int:
    """Index into :data:`MONEY_NAMES` of the money niche ``token`` belongs to, or -1."""
    return _lookup(token, _MONEY)


@lru_cache(maxsize=200_000)
def topic_category(token: str) -> int:
    """Index into :data:`TOPIC_NAMES` of the topic ``token`` belongs to, or -1."""
    return _lookup(token, _TOPICS)


def _lookup(token: str, compiled: tuple[dict[str, int], list[tuple[str, int]]]) -> int:
    """Exact match first, then the longest prefix stem (stems need 3+ letters of the token)."""
    exact, prefixes = compiled
    if token in exact:
        return exact[token]
    if len(token) >= 3:
        for stem, index in prefixes:
            if token.startswith(stem):
                return index
    return -1


def is_commercial(token: str) -> bool:
    """A commercial-intent modifier ("buy", "cheap", "best", …)."""
    return token in COMMERCIAL


def topic_vector(words: list[str]) -> np.ndarray:
    """Counts of topic and money-niche words: ``len(TOPIC_NAMES) + len(MONEY_NAMES)`` numbers."""
    vec = np.zeros(len(TOPIC_NAMES) + len(MONEY_NAMES), dtype=np.float32)
    for word in words:
        t = topic_category(word)
        if t >= 0:
            vec[t] += 1
        m = money_category(word)
        if m >= 0:
            vec[len(TOPIC_NAMES) + m] += 1
    return vec


def url_words(url: str) -> list[str]:
    """Words in a URL's host and path, minus scheme, www and file extensions."""
    rest = url.split("://", 1)[-1]
    rest = re.sub(r"\.(html?|php|aspx?|jsp)\b", " ", rest)
    words = [w for w in tokens(_SPLIT_CAMEL_DIGITS.sub(" ", rest)) if w not in _URL_NOISE]
    return words


_URL_NOISE = frozenset(("www", "http", "https", "com", "org", "net", "html", "htm", "php", "index",
                        "p", "id", "page", "amp", "utm", "source", "medium", "ref"))


def entropy(text: str) -> float:
    """Shannon entropy (bits per character) of ``text``."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


@lru_cache(maxsize=100_000)
def split_compound(name: str) -> tuple[str, ...]:
    """Split a domain label into known words ("bestcheapseolinks" → best, cheap, seo, links)."""
    name = name.lower()
    parts: list[str] = []
    for chunk in re.split(r"[-0-9]+", name):
        parts.extend(_segment(chunk))
    return tuple(parts)


def _segment(chunk: str) -> list[str]:
    """Greedy longest-first segmentation of ``chunk`` into lexicon words; leftovers are dropped."""
    words, i = [], 0
    while i < len(chunk):
        for j in range(min(len(chunk), i + 14), i + 2, -1):
            piece = chunk[i:j]
            if piece in _WORDS:
                words.append(piece)
                i = j
                break
        else:
            i += 1
    return words


def _vocabulary() -> frozenset[str]:
    """Known words for domain-name segmentation: lexicon words and common name parts."""
    vocab = set(COMMERCIAL)
    for lexicon in (MONEY, TOPICS):
        for words in lexicon.values():
            vocab.update(w.rstrip("*") for w in words if len(w.rstrip("*")) >= 3)
    vocab.update(("links", "link", "seo", "web", "site", "online", "free", "directory", "list",
                  "top", "best", "cheap", "hub", "zone", "world", "info", "guide", "news", "blog",
                  "post", "articles", "article", "submit", "rank", "ranker", "pro", "expert",
                  "bookmark", "bookmarks", "social", "traffic", "star", "king", "mega", "super"))
    return frozenset(vocab)


_WORDS = _vocabulary()


def pair_codes(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorize pairs of values: (code per row, row index of each distinct pair's first row)."""
    ca, _ = pd.factorize(a, use_na_sentinel=False)
    cb, _ = pd.factorize(b, use_na_sentinel=False)
    codes, _ = pd.factorize(ca.astype(np.int64) * (int(cb.max(initial=0)) + 1) + cb)
    first = np.full(int(codes.max(initial=-1)) + 1, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return codes, first
