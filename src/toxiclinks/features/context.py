"""Profile-level context: what a link's features need to know about the rest of the export.

Some signals belong to the whole backlink profile, not to one link: how many sites use the same
anchor, a referring site's share of money anchors, link bursts, what the target site is about.
They are computed from compact per-link *keys* (64-bit hashes of site, page and anchor, the
target site's number, and a few flags), so an audit can stream a file of any size: a first pass
collects keys chunk by chunk, and the second scores each chunk with its slice of the context. A
single table gets exactly the same numbers in one call (:meth:`ContextBuilder.add` once, then
:meth:`ContextBuilder.finish`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import anchor, profile, topic

#: Features whose values depend on the whole batch, in the order the context holds them.
BATCH_FEATURES = (*anchor.PROFILE_FEATURES, *profile.FEATURES)
_URLS_PER_TARGET, _ANCHORS_PER_TARGET = 200, 500
_NATURAL = (1, 2, 7)  # brand, naked URL, other text: anchors that describe the target site


@dataclass
class Context:
    """Batch-level feature values per link, and each link's target topic vector."""

    values: dict[str, np.ndarray]
    target_vectors: np.ndarray  # one row per target site
    target_codes: np.ndarray  # per link: row of target_vectors

    def __len__(self) -> int:
        return len(self.target_codes)

    def rows(self, start: int, stop: int) -> Context:
        """The context of links ``start:stop`` (a chunk of a streamed export)."""
        return Context({k: v[start:stop] for k, v in self.values.items()}, self.target_vectors,
                       self.target_codes[start:stop])

    def target_topic(self) -> np.ndarray:
        """Per link: the topic vector of its target site."""
        return self.target_vectors[self.target_codes]


def group_codes(*keys: np.ndarray) -> np.ndarray:
    """Dense group numbers (0..g-1) of rows by one or more key columns (hash-based, no sorting)."""
    codes, _ = pd.factorize(keys[0])
    for key in keys[1:]:
        other, uniques = pd.factorize(key)
        codes, _ = pd.factorize(codes.astype(np.int64) * (len(uniques) + 1) + other)
    return codes


def group_mean(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row: the mean of ``values`` over its group, ignoring NaN (NaN when all are NaN)."""
    known = ~np.isnan(values)
    total = np.bincount(groups, weights=np.where(known, values, 0.0))
    count = np.bincount(groups, weights=known.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count)[groups]


def group_size(groups: np.ndarray) -> np.ndarray:
    """Per row: the number of rows in its group."""
    return np.bincount(groups)[groups].astype(float)


def group_nunique(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row: the number of distinct ``values`` in its group."""
    pairs = group_codes(groups, values)
    first = np.zeros(pairs.max(initial=-1) + 1, dtype=np.int64)
    first[pairs] = groups  # each distinct (group, value) pair belongs to one group
    return np.bincount(first, minlength=groups.max(initial=-1) + 1)[groups].astype(float)


def _hash(values: pd.Series) -> np.ndarray:
    """64-bit hashes of strings (missing as ""); each distinct value is hashed once."""
    codes, uniques = pd.factorize(values.fillna(""), use_na_sentinel=False)
    return pd.util.hash_array(np.asarray(uniques, dtype=object))[codes]


class ContextBuilder:
    """Collects keys from one or more chunks of links, then computes the :class:`Context`."""

    def __init__(self, site_topic: str | None = None) -> None:
        self.site_topic = site_topic
        self._keys: dict[str, list[np.ndarray]] = {}  # per key: one array per chunk
        self._targets: dict[str, int] = {}
        self._urls: list[dict[str, None]] = []  # per target: distinct URLs, first seen first
        self._anchors: list[dict[str, None]] = []

    def add(self, links: pd.DataFrame, anchor_values: dict[str, np.ndarray]) -> None:
        """Add a chunk of canonical links with their per-link anchor features."""
        text = links["anchor"]
        missing = text.isna().to_numpy()
        normalised = text.fillna("").str.lower().str.strip()
        money_words = anchor_values["anchor__money_words"]
        target_site = links["target_site"].fillna("")
        local, uniques = pd.factorize(target_site, use_na_sentinel=False)
        mapping = np.array([self._register(t) for t in uniques], dtype=np.int32)
        targets = mapping[local] if len(local) else np.empty(0, dtype=np.int32)
        natural = np.isin(anchor_values["anchor__class"], _NATURAL)
        frame = pd.DataFrame({"code": targets, "url": links["target_url"].fillna("").to_numpy(object),
                              "anchor": text.fillna("").where(natural, "").to_numpy(object)})
        for code, group in frame.groupby("code", sort=False):
            for store, column, cap in ((self._urls, "url", _URLS_PER_TARGET),
                                       (self._anchors, "anchor", _ANCHORS_PER_TARGET)):
                seen = store[code]
                for value in group[column].unique():
                    if len(seen) >= cap:
                        break
                    seen.setdefault(value)
        keys = {
            "site": _hash(links["source_site"]), "page": _hash(links["source_url"]),
            "anchor": _hash(normalised), "target": targets,
            # Compact types: a streamed batch keeps these for every link of the export.
            "exact": anchor_values["anchor__is_exact_match"].astype(np.float32),
            "money": np.where(missing, np.nan, (money_words > 0)).astype(np.float32),
            "money_any": (money_words > 0).astype(np.float32),
            "repeated": profile.repeated(links).astype(np.float32),
            "week": profile.weeks(links).astype(np.int32),
            "no_anchor": missing | (normalised == "").to_numpy(), "no_target": (target_site == "").to_numpy(),
        }
        for name, values in keys.items():
            self._keys.setdefault(name, []).append(values)

    def _register(self, target: str) -> int:
        """Code of a target site, new ones appended."""
        code = self._targets.setdefault(target, len(self._targets))
        if code == len(self._urls):
            self._urls.append({})
            self._anchors.append({})
        return code

    def finish(self) -> Context:
        """Compute the batch-level features for every link added, in the order added."""
        # One key at a time, each chunk's arrays freed as it goes; hashes become dense codes.
        keys: dict[str, np.ndarray] = {}
        for name in list(self._keys):
            column = np.concatenate(self._keys.pop(name))
            keys[name] = group_codes(column).astype(np.int32) if column.dtype == np.uint64 else column
        vectors = np.array([topic.target_vector(list(urls), list(anchors), self.site_topic)
                            for urls, anchors in zip(self._urls, self._anchors, strict=True)],
                           dtype=np.float32).reshape(len(self._urls), len(topic.NAMES))
        if not keys or len(keys["target"]) == 0:
            return Context({name: np.empty(0) for name in BATCH_FEATURES}, vectors, np.empty(0, dtype=np.int32))
        # float32 is what the feature matrix holds anyway; it halves a streamed batch's memory.
        values = {k: v.astype(np.float32) for k, v in anchor.profile_shares(keys).items()}
        for name in ("anchor", "exact", "money", "no_anchor"):  # only the anchor shares needed these
            del keys[name]
        values.update(profile.compute(keys))
        return Context(values, vectors, keys["target"])
