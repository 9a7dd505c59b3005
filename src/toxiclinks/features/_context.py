"""Profile-level context: what a link's features need to know about the rest of the export.

Some signals belong to the whole backlink profile, not to one link: how many sites use the same
anchor, a referring site's share of money anchors, link bursts, what the target site is about.
They are computed from compact per-link *keys* (64-bit hashes of site, page and anchor, the
target site's number, and a few flags), so an audit can stream a file of any size: a first pass
collects keys chunk by chunk, and the second scores each chunk with its slice of the context. Each
feature is one value per group of links (per referring site, target, (site, target) pair or
(target, anchor)), so the context keeps four group numbers per link. A single table gets exactly
the same numbers in one call (:meth:`ContextBuilder.add` once, then :meth:`ContextBuilder.finish`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _anchor as anchor
from . import _domain as domain
from . import _profile as profile
from . import _topic as topic
from ._groups import group_codes

#: Features whose values depend on the whole batch, in the order the context holds them.
BATCH_FEATURES = (*anchor.PROFILE_FEATURES, *profile.FEATURES)
_URLS_PER_TARGET, _ANCHORS_PER_TARGET = 200, 500


#: How links are grouped for the batch features: every batch feature is one value per group.
GROUPINGS = ("site", "target", "pair", "target_anchor")  # pair = (referring site, target site)


@dataclass
class Context:
    """Batch-level features as one value per group, each link's groups, and target topic vectors.

    Holding group numbers (4 × int32 per link) instead of every feature per link keeps a streamed
    export's context small; :meth:`fill` spreads the features over the links when asked.
    """

    codes: dict[str, np.ndarray]  # per grouping: the group number of each link
    tables: dict[str, tuple[str, np.ndarray]]  # per feature: its grouping and one value per group
    target_vectors: np.ndarray  # one row per target site
    # Per link, once the features have computed them: its source's topic vector (reasons reuse it).
    source_vectors: np.ndarray | None = None
    # The host traits computed so far, shared by the chunks of one streamed batch.
    hosts: domain.HostMemo | None = None

    def __len__(self) -> int:
        return len(self.codes["target"])

    @property
    def target_codes(self) -> np.ndarray:
        """Per link: its row of :attr:`target_vectors`."""
        return self.codes["target"]

    def fill(self, rows: dict[str, np.ndarray]) -> list[str]:
        """Write each feature's value for each link into ``rows[feature]``; return the features.

        (Group numbers are always in range: ``clip`` only spares numpy a buffered copy.)
        """
        for name, (grouping, table) in self.tables.items():
            np.take(table, self.codes[grouping], out=rows[name], mode="clip")
        return list(self.tables)

    def rows(self, start: int, stop: int) -> Context:
        """The context of links ``start:stop`` (a chunk of a streamed export)."""
        return Context({k: v[start:stop] for k, v in self.codes.items()}, self.tables, self.target_vectors,
                       None if self.source_vectors is None else self.source_vectors[start:stop], self.hosts)


def _hash(values: pd.Series, *, repeats: bool = True) -> np.ndarray:
    """64-bit hashes of strings (missing as ""); ``repeats=False`` for columns of mostly distinct
    values (URLs), which pandas would otherwise deduplicate first for nothing."""
    return pd.util.hash_pandas_object(values.fillna(""), index=False, categorize=repeats).to_numpy()


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
        natural = np.isin(anchor_values["anchor__class"], anchor.NATURAL)
        for store, column, cap in ((self._urls, links["target_url"].fillna(""), _URLS_PER_TARGET),
                                   (self._anchors, text.fillna("").where(natural, ""), _ANCHORS_PER_TARGET)):
            values, uniques = pd.factorize(column)
            _, first = np.unique(targets.astype(np.int64) * max(len(uniques), 1) + values, return_index=True)
            first.sort()  # each (target, value) at its first row: values in the order they were seen
            for code, value in zip(targets[first], np.asarray(uniques, dtype=object)[values[first]], strict=True):
                if len(store[code]) < cap:
                    store[code].setdefault(value)
        keys = {
            "site": _hash(links["source_site"]), "page": _hash(links["source_url"], repeats=False),
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

    def merge(self, other: ContextBuilder) -> None:
        """Append ``other``'s links after this builder's, as if its chunks had been added here (a
        first pass split over processes: builders of consecutive chunks merged in order)."""
        mapping = np.array([self._register(t) for t in other._targets], dtype=np.int32)
        for code, own in enumerate(mapping):
            # Each store keeps a target's first ``cap`` distinct values; ``other``'s first ``cap`` hold
            # every value this one can still take (at most ``len(store)`` of them are here already).
            for store, values, cap in ((self._urls[own], other._urls[code], _URLS_PER_TARGET),
                                       (self._anchors[own], other._anchors[code], _ANCHORS_PER_TARGET)):
                for value in values:
                    if len(store) >= cap:
                        break
                    store.setdefault(value)
        for name, arrays in other._keys.items():
            self._keys.setdefault(name, []).extend([mapping[a] for a in arrays] if name == "target" else arrays)

    def _register(self, target: str) -> int:
        """Code of a target site, new ones appended."""
        code = self._targets.setdefault(target, len(self._targets))
        if code == len(self._urls):
            self._urls.append({})
            self._anchors.append({})
        return code

    def finish(self) -> Context:
        """Compute the batch-level features for every link added, in the order added."""
        # One key at a time, each chunk's arrays freed as it goes; site and anchor hashes become
        # dense codes (pages stay hashes: they are only counted).
        keys: dict[str, np.ndarray] = {}
        for name in list(self._keys):
            column = np.concatenate(self._keys.pop(name))
            keys[name] = group_codes(column) if name in ("site", "anchor") else column
        vectors = np.array([topic.target_vector(list(urls), list(anchors), self.site_topic)
                            for urls, anchors in zip(self._urls, self._anchors, strict=True)],
                           dtype=np.float32).reshape(len(self._urls), len(topic.NAMES))
        if not keys or len(keys["target"]) == 0:
            empty = np.empty(0, dtype=np.float32)
            return Context({g: np.empty(0, dtype=np.int32) for g in GROUPINGS},
                           {name: ("target", empty) for name in BATCH_FEATURES}, vectors)
        codes = {"site": keys.pop("site"), "target": keys.pop("target")}
        codes["target_anchor"] = group_codes(codes["target"], keys.pop("anchor"))
        codes["pair"] = group_codes(codes["site"], codes["target"])
        tables = anchor.profile_shares(keys, codes)
        for name in ("exact", "money", "no_anchor", "no_target"):  # only the anchor shares needed these
            del keys[name]
        tables.update(profile.compute(keys, codes))
        # float32 is what the feature matrix holds anyway.
        return Context(codes, {k: (g, v.astype(np.float32)) for k, (g, v) in tables.items()}, vectors,
                       hosts=domain.HostMemo())
