"""What a site's name alone says: a character n-gram model of real spam and popular domain names.

Real site owners' disavow files and referrer-spam lists (:func:`toxiclinks.features.spam_domains`) name
domains that look a certain way: keyword-stuffed, random, digit-laden, on abused TLDs. A logistic
regression over the hashed character 1- to 5-grams of ``<name.suffix>`` learns those traits from
the lists themselves, not from generated names. It is fitted on one part of the lists (see
:func:`fit`); the held-out fifth measures it (``toxiclinks train``'s domain-only check).

The n-grams are hashed with numpy over a whole batch of names at once (an audit scores hundreds
of thousands of distinct sites), each name's counts scaled by the square root of its number of
n-grams; training and scoring share :func:`_buckets`, so both see the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from scipy import sparse

from ..urls import split_hosts
from . import _reference as reference

N_FEATURES = 1 << 18
_MAX_N = 5
_WIDTH = 80  # bytes of a name that count (names are rarely longer)
_BLOCK = 4_096  # names hashed at once: their arrays stay in the processor's cache
_MASK = np.uint64(N_FEATURES - 1)
_PRIME = np.uint64(1099511628211)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_CACHE_SIZE = 500_000


def _buckets(texts: list[bytes], lengths: np.ndarray) -> np.ndarray:
    """Hashed n-gram buckets of each name's bytes ``<site>`` (one row per name), ``N_FEATURES``
    where a row has no n-gram at that place."""
    n, width = len(texts), int(lengths.max(initial=1))
    codes = np.zeros((n, width + _MAX_N), dtype=np.uint64)  # 0 pads: byte values are stored + 1
    flat = np.frombuffer(b"".join(texts), dtype=np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes[rows, cols] = flat.astype(np.uint64) + np.uint64(1)
    place = np.arange(width)[None, :]
    out = np.empty((n, _MAX_N * width), dtype=np.uint64)
    rolling = np.zeros((n, width), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(_MAX_N):  # rolling[:, j] is the hash of bytes j..j+k
            np.multiply(rolling, _PRIME, out=rolling)
            np.add(rolling, codes[:, k:k + width], out=rolling)
            part = out[:, k * width:(k + 1) * width]  # the k+1-grams, mixed in place
            np.bitwise_xor(rolling, np.uint64(k + 1), out=part)
            np.multiply(part, _MIX, out=part)
            np.right_shift(part, np.uint64(32), out=part)
            np.bitwise_and(part, _MASK, out=part)
            part[place + k >= lengths[:, None]] = N_FEATURES
    return out.view(np.int64)


def _blocks(sites: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(positions in ``sites``, :func:`_buckets`, number of n-grams) for blocks of names of
    similar length, so that a block's rows carry little padding."""
    texts = [f"<{s}>".encode()[:_WIDTH] for s in sites]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(texts), _BLOCK):
        at = order[start:start + _BLOCK]
        size = lengths[at]
        total = sum(np.maximum(size - k, 0) for k in range(_MAX_N)).astype(np.float64)
        yield at, _buckets([texts[i] for i in at], size), total


def _matrix(sites: Sequence[str]) -> sparse.csr_matrix:
    """The names as a sparse matrix of scaled n-gram counts (the model's input)."""
    rows, cols, data = [], [], []
    for at, buckets, total in _blocks(sites):
        row, col = np.nonzero(buckets < N_FEATURES)
        rows.append(at[row])
        cols.append(buckets[row, col])
        data.append(1.0 / np.sqrt(np.maximum(total, 1))[row])
    if not rows:
        return sparse.csr_matrix((0, N_FEATURES))
    return sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(len(sites), N_FEATURES))


@dataclass
class NameModel:
    """Log-odds that a site name comes from the spam lists rather than the popular ones."""

    coef: np.ndarray  # float64, one weight per hashed n-gram, and a 0 for "no n-gram here"
    intercept: float
    split: str
    # Scores already computed: a streamed audit meets the same sites in every chunk.
    _seen: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def score(self, sites: Sequence[str]) -> np.ndarray:
        """Log-odds per site name ("" gives the intercept alone; callers mark it missing)."""
        seen = self._seen
        new = list(dict.fromkeys(s for s in sites if s not in seen))
        if new:
            if len(seen) + len(new) > _CACHE_SIZE:  # a new dict: another thread may be reading the old
                seen = self._seen = {}
            values = np.empty(len(new))
            for at, buckets, total in _blocks(new):
                values[at] = self.coef[buckets].sum(axis=1) / np.sqrt(np.maximum(total, 1)) + self.intercept
            seen.update(zip(new, values.tolist(), strict=True))
        return np.fromiter(map(seen.__getitem__, sites), dtype=np.float64, count=len(sites))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_seen": {}}


def _sites(domains: Iterable[str]) -> list[str]:
    """The lists' entries as the sites links come from ("th.spam.example" → "spam.example"):
    the model scores a link's site, whose subdomain is a feature of its own."""
    entries = sorted(domains)
    return sorted({str(s) for s in split_hosts(entries)["site"] if s})


@cache
def fit(split: str) -> NameModel:
    """Fit on the ``split`` part of both reference lists (classes weighted equally).

    Training uses ``partial`` (2/5 of the lists), so that list domains in the seed data outside
    that part teach the booster what the score is worth on names it never saw; shipped models use
    ``known`` (4/5). The ``holdout`` fifth is never fitted.
    """
    from sklearn.linear_model import LogisticRegression  # training only: scoring needs none of it

    if split == "holdout":
        raise ValueError("the name model is never fitted on the held-out fifth of the lists")
    spam, popular = _sites(reference.spam_domains(split)), _sites(reference.popular_domains(split))
    y = np.r_[np.ones(len(spam)), np.zeros(len(popular))]
    model = LogisticRegression(C=16.0, class_weight="balanced", max_iter=3000)
    model.fit(_matrix(spam + popular), y)
    return NameModel(np.append(model.coef_[0], 0.0), float(model.intercept_[0]), split)
