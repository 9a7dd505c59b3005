"""What a site's name alone says: a character n-gram model of real spam and popular domain names.

Real site owners' disavow files and referrer-spam lists (:mod:`toxiclinks.reference`) name
domains that look a certain way: keyword-stuffed, random, digit-laden, on abused TLDs. A logistic
regression over the hashed character n-grams of ``<name.suffix>`` learns those traits from the
lists themselves, not from generated names. It is fitted on one part of the lists (see
:func:`fit`); the held-out fifth measures it (``toxiclinks train``'s domain-only check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression

from .. import reference
from ..urls import split_hosts

N_FEATURES = 1 << 18
_VECTORIZER = HashingVectorizer(analyzer="char", ngram_range=(1, 5), n_features=N_FEATURES,
                                alternate_sign=False, norm="l2")


def _texts(sites: Sequence[str]) -> list[str]:
    """Names with start and end marks, so n-grams know a name's first and last letters."""
    return [f"<{s}>" for s in sites]


_CACHE_SIZE = 500_000


@dataclass
class NameModel:
    """Log-odds that a site name comes from the spam lists rather than the popular ones."""

    coef: np.ndarray  # float32, one weight per hashed n-gram
    intercept: float
    split: str
    # Scores already computed: a streamed audit meets the same sites in every chunk, and a live
    # request's one name costs ~0.5 ms through the vectoriser.
    _seen: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def score(self, sites: Sequence[str]) -> np.ndarray:
        """Log-odds per site name ("" gives the intercept alone; callers mark it missing)."""
        seen = self._seen
        new = list(dict.fromkeys(s for s in sites if s not in seen))
        if new:
            if len(seen) + len(new) > _CACHE_SIZE:  # a new dict: another thread may be reading the old
                seen = self._seen = {}
            values = np.asarray(_VECTORIZER.transform(_texts(new)) @ self.coef, dtype=np.float64) + self.intercept
            seen.update(zip(new, values.tolist(), strict=True))
        return np.fromiter(map(seen.__getitem__, sites), dtype=np.float64, count=len(sites))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_seen": {}}


def _sites(domains) -> list[str]:
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
    if split == "holdout":
        raise ValueError("the name model is never fitted on the held-out fifth of the lists")
    spam, popular = _sites(reference.spam_domains(split)), _sites(reference.popular_domains(split))
    y = np.r_[np.ones(len(spam)), np.zeros(len(popular))]
    model = LogisticRegression(C=16.0, class_weight="balanced", max_iter=3000)
    model.fit(_VECTORIZER.transform(_texts(spam + popular)), y)
    return NameModel(model.coef_[0].astype(np.float32), float(model.intercept_[0]), split)
