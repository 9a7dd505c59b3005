"""Tokenising and lexicon matching shared by the anchor, domain and topic features."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._lexicons import COMMERCIAL, MONEY, MONEY_NAMES, TOPIC_NAMES, TOPICS

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_SPLIT_CAMEL_DIGITS = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters and digits, any script)."""
    return _TOKEN_RE.findall(text.lower())


def _compile(lexicon: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], dict[str, int], list[int]]:
    """Exact words, prefix stems and the stem lengths (longest first), each with its category."""
    exact: dict[str, int] = {}
    stems: dict[str, int] = {}
    for index, words in enumerate(lexicon.values()):
        for word in words:
            if word.endswith("*"):
                stems.setdefault(word[:-1], index)
            else:
                exact.setdefault(word, index)
    return exact, stems, sorted({len(s) for s in stems}, reverse=True)


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


def _lookup(token: str, compiled: tuple[dict[str, int], dict[str, int], list[int]]) -> int:
    """Exact match first, then the longest prefix stem (stems need 3+ letters of the token)."""
    exact, stems, lengths = compiled
    hit = exact.get(token)
    if hit is not None:
        return hit
    if len(token) >= 3:
        for k in lengths:
            if k <= len(token):
                hit = stems.get(token[:k])
                if hit is not None:
                    return hit
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


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, longest first (leftmost-first engines then prefer them)."""
    return "(?:" + "|".join(sorted((re.escape(w) for w in set(words)), key=len, reverse=True)) + ")"


# Domain names have no spaces, so words are found inside the name, left to right. Money words
# shorter than four letters ("bet", "sex") are left out: inside names they are mostly innocent
# ("alphabet", "essex").
_KEYWORD_WORDS = frozenset(w for w in _WORDS if 3 <= len(w) <= 14 and w.isascii() and w.isalpha())
_MONEY_NAME_WORDS = frozenset(w.rstrip("*") for words in MONEY.values() for w in words
                              if len(w.rstrip("*")) >= 4 and w.rstrip("*").isalpha())
_KEYWORD_RE = _alternation(_KEYWORD_WORDS)
_MONEY_NAME_RE = _alternation(_MONEY_NAME_WORDS)
_INNOCENT_RE = r"(?:essex|sussex|middlesex|wessex|scunthorpe|therapist|analysis|cocktail|shitake)"
_INNOCENT = re.compile(_INNOCENT_RE)
_KEYWORD_LENGTHS = sorted({len(w) for w in _KEYWORD_WORDS}, reverse=True)
_MONEY_NAME_LENGTHS = sorted({len(w) for w in _MONEY_NAME_WORDS}, reverse=True)


def name_keywords(names: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Known keywords in each domain name, and whether one is a money word (vectorised).

    ``bestcheapseolinks`` → 4 keywords; ``casino-bonus-24`` → money word.
    """
    keywords = pc.count_substring_regex(names, _KEYWORD_RE).to_numpy(zero_copy_only=False)
    cleaned = pc.replace_substring_regex(names, _INNOCENT_RE, "")
    money = pc.match_substring_regex(cleaned, _MONEY_NAME_RE).to_numpy(zero_copy_only=False)
    return keywords.astype(np.float64), money.astype(np.float64)


def name_keywords_one(name: str) -> tuple[float, float]:
    """:func:`name_keywords` of one name, without Arrow (a live request scores one host).

    An ASCII name is scanned as the regex engine does: at each position the longest word
    (the alternation lists longest first), matches not overlapping. Other names take Arrow.
    """
    if not name.isascii():
        keywords, money = name_keywords(pa.array([name], type=pa.large_string()))
        return float(keywords[0]), float(money[0])
    cleaned = _INNOCENT.sub("", name)
    return float(_count_words(name, _KEYWORD_WORDS, _KEYWORD_LENGTHS)), \
        float(_count_words(cleaned, _MONEY_NAME_WORDS, _MONEY_NAME_LENGTHS, first=True) > 0)


def _count_words(name: str, words: frozenset[str], lengths: list[int], first: bool = False) -> int:
    """Non-overlapping leftmost-longest occurrences of ``words`` in ``name`` (``first``: stop at one)."""
    count, i, n = 0, 0, len(name)
    while i < n:
        for k in lengths:
            if i + k <= n and name[i:i + k] in words:
                count += 1
                if first:
                    return count
                i += k
                break
        else:
            i += 1
    return count


def entropies(names: list[str]) -> np.ndarray:
    """Shannon entropy (bits per character) of each ASCII name, vectorised with one bincount."""
    n = len(names)
    if n == 0:
        return np.empty(0)
    data = np.frombuffer("".join(names).encode("ascii", "replace"), dtype=np.uint8)
    lengths = np.fromiter((len(x) for x in names), dtype=np.int64, count=n)
    ends = np.cumsum(lengths)
    # Characters as dense codes in byte order; each name's character counts are a row of k cells,
    # counted with bincount a block of names at a time (no sort of all (name, character) pairs).
    # Cells come in (name, byte) order, so the sums add up in the same order.
    present = np.flatnonzero(np.bincount(data, minlength=256))
    code = np.zeros(256, dtype=np.int64)
    code[present] = np.arange(len(present))
    k = max(len(present), 1)
    block = max(1, (1 << 22) // k)
    owners, weights = [], []
    for first in range(0, n, block):
        last = min(first + block, n)
        start, stop = (ends[first - 1] if first else 0), ends[last - 1]
        owner = np.repeat(np.arange(last - first), lengths[first:last])
        cells = np.bincount(owner * k + code[data[start:stop]], minlength=(last - first) * k)
        filled = np.flatnonzero(cells)
        cell_owner = filled // k + first
        p = cells[filled] / lengths[cell_owner]
        owners.append(cell_owner)
        weights.append(-p * np.log2(p))
    return np.bincount(np.concatenate(owners), weights=np.concatenate(weights), minlength=n)


def first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """Row of the first occurrence of each code ``0..n-1`` in ``codes`` (negative codes ignored)."""
    rows = np.flatnonzero(codes >= 0)[::-1]
    first = np.zeros(n, dtype=np.int64)
    first[codes[rows]] = rows  # written last to first: the first occurrence stays
    return first


N_CATEGORIES = len(TOPIC_NAMES) + len(MONEY_NAMES)


def lexicon_counts(texts: pd.Series | pa.Array) -> np.ndarray:
    """Topic and money-niche word counts per text, vectorised: ``(len(texts), N_CATEGORIES)``.

    Tokenises in Arrow (lower-case, split on anything not a letter or digit), looks each distinct
    token up once, and counts with one ``bincount``; the same numbers as :func:`topic_vector`.
    """
    n = len(texts)
    out = np.zeros((n, N_CATEGORIES), dtype=np.float32)
    if n == 0:
        return out
    flat, parent = _tokenize(pc.fill_null(texts if isinstance(texts, pa.Array) else arrow_text(texts), ""))
    if len(flat) == 0:
        return out
    encoded = flat.dictionary_encode()
    idx = encoded.indices.to_numpy(zero_copy_only=False)
    cells = out.reshape(-1)
    for lexicon, offset in (("topics", 0), ("money", len(TOPIC_NAMES))):
        cats = categories(encoded.dictionary, lexicon)
        # Few tokens are lexicon words: pick those first, then add only their (row, category) cells.
        hits = np.flatnonzero((cats >= 0)[idx])
        np.add.at(cells, parent[hits] * N_CATEGORIES + cats[idx[hits]] + offset, 1)
    return out


# ASCII bytes to themselves lower-cased if a letter or digit, else to a space; bytes of multi-byte
# characters never occur in ASCII rows.
_ASCII_WORD_BYTES = np.array([c + 32 if 65 <= c <= 90 else c if (48 <= c <= 57 or 97 <= c <= 122) else 32
                              for c in range(256)], dtype=np.uint8)


def _tokenize(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """All tokens of all texts, and the row each came from (the rules of :func:`tokens`).

    Pure-ASCII texts (nearly all of them) are mapped byte by byte and split on whitespace, many
    times faster than a regex split; the rest take the Unicode-aware regex.
    """
    ascii_rows = pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
    pieces, parents = [], []
    for rows, fast in ((np.flatnonzero(ascii_rows), True), (np.flatnonzero(~ascii_rows), False)):
        if not len(rows):
            continue
        part = texts if len(rows) == len(texts) else texts.take(rows)
        if fast:
            part = part.cast(pa.large_string())
            _, offsets, data = part.buffers()
            mapped = _ASCII_WORD_BYTES[np.frombuffer(data, dtype=np.uint8)]
            part = pa.LargeStringArray.from_buffers(len(part), offsets, pa.py_buffer(mapped), offset=part.offset)
            lists = pc.ascii_split_whitespace(part)
        else:
            lists = pc.split_pattern_regex(pc.utf8_lower(part), r"[^\p{L}\p{N}]+")
        pieces.append(pc.list_flatten(lists).cast(pa.large_string()))
        parent = pc.list_parent_indices(lists).to_numpy()
        parents.append(parent if len(rows) == len(texts) else rows[parent])
    return pa.concat_arrays(pieces), np.concatenate(parents)


_COMPILED = {"topics": _TOPICS, "money": _MONEY}


@cache
def _arrow_lexicon(lexicon: str) -> tuple[pa.Array, np.ndarray, pa.Array, np.ndarray]:
    """A compiled lexicon's exact words and stems as Arrow arrays, with their categories."""
    exact, stems, _ = _COMPILED[lexicon]
    return (pa.array(list(exact), type=pa.large_string()), np.array(list(exact.values()), dtype=np.int64),
            pa.array(list(stems), type=pa.large_string()), np.array(list(stems.values()), dtype=np.int64))


def categories(vocab: pa.Array, lexicon: str) -> np.ndarray:
    """:func:`topic_category` ("topics") or :func:`money_category` ("money") of many distinct tokens."""
    if len(vocab) < 256:  # a few tokens (one link scored live): the cached one-token lookups are faster
        one = topic_category if lexicon == "topics" else money_category
        return np.array([one(t) for t in vocab.to_pylist()], dtype=np.int64)
    exact_words, exact_cats, stem_words, stem_cats = _arrow_lexicon(lexicon)
    vocab = vocab.cast(pa.large_string())
    pos = pc.fill_null(pc.index_in(vocab, value_set=exact_words), -1).to_numpy(zero_copy_only=False)
    result = np.where(pos >= 0, exact_cats[pos], -1)
    n_chars = pc.utf8_length(vocab).to_numpy(zero_copy_only=False)
    for k in _COMPILED[lexicon][2]:  # longest stem first, as _lookup
        rows = np.flatnonzero((result < 0) & (n_chars >= max(k, 3)))
        if not len(rows):
            continue
        prefixes = pc.utf8_slice_codeunits(vocab.take(rows), 0, k)
        pos = pc.fill_null(pc.index_in(prefixes, value_set=stem_words), -1).to_numpy(zero_copy_only=False)
        result[rows[pos >= 0]] = stem_cats[pos[pos >= 0]]
    return result


def arrow_text(text: pd.Series) -> pa.Array:
    """A text column as one Arrow array, missing values as nulls (no copy for Arrow-backed columns)."""
    arr = pa.array(text.astype("string").array, type=pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
