"""Per-group reductions over a batch's links: the arithmetic behind every profile-level feature.

A group is a set of links sharing a key (a referring site, a target site, a (site, target) pair,
a (target, anchor) pair); each link carries its group's dense number (0..g-1). These helpers
reduce a per-link column to one value per group. The anchor and profile families and the batch
context (:mod:`._context`) all use them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def group_codes(*keys: np.ndarray) -> np.ndarray:
    """Dense group numbers (0..g-1, int32) of rows by one or more key columns (hash-based)."""
    codes, _ = pd.factorize(keys[0])
    for key in keys[1:]:
        other, uniques = pd.factorize(key)
        codes *= len(uniques) + 1  # in place: these arrays can hold millions of links
        codes += other
        del other
        codes, _ = pd.factorize(codes)
    return codes.astype(np.int32)


def group_mean(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per group: the mean of ``values`` over its rows, ignoring NaN (NaN when all are NaN)."""
    known = ~np.isnan(values)
    total = np.bincount(groups, weights=np.where(known, values, 0.0))
    count = np.bincount(groups, weights=known)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def group_nunique(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per group: the number of distinct ``values`` (dense codes, or 64-bit hashes) among its rows.

    Sorts one packed 64-bit (group, value) key instead of hashing every pair, so a batch of
    millions of links needs no hash table of millions of entries. Hash values keep their high
    bits that fit beside the group number (≥ 40 bits below 16M groups): two different pages of
    one site then count as one with a chance of about 1 in 10¹² per pair of pages.
    """
    n_groups = int(groups.max(initial=-1)) + 1
    if n_groups == 0:
        return np.zeros(0)
    shift = np.uint64(64 - max(n_groups - 1, 1).bit_length())
    key = groups.astype(np.uint64)
    key <<= shift
    for start in range(0, len(key), 1 << 20):  # slice by slice: no second copy of every key
        part = values[start:start + (1 << 20)]
        # Dense codes (< 2**31) always fit beside fewer than 2**33 groups; hashes keep high bits.
        key[start:start + len(part)] |= (part >> np.uint64(64 - int(shift)) if part.dtype == np.uint64
                                         else part.astype(np.uint64))
    key.sort()
    first = np.empty(len(key), dtype=bool)
    first[:1] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    key = key[first]
    key >>= shift
    return np.bincount(key.view(np.int64), minlength=n_groups).astype(float)


def group_of(groups: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Per group: its value of ``parents``, a column that is constant within each group."""
    out = np.zeros(int(groups.max(initial=-1)) + 1, dtype=parents.dtype)
    out[groups] = parents
    return out
