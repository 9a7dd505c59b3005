"""The reference domain lists shipped as package data, and their stable hold-out split.

One domain in five (by a stable hash of its name) is held out: the model's membership features
never see it, so the domain-only check in training can score real names honestly.
"""

from __future__ import annotations

import zlib
from functools import cache
from importlib import resources


def _bucket(domain: str) -> int:
    """Stable bucket 0-4 of a domain name."""
    return zlib.crc32(domain.encode("utf-8")) % 5


def is_holdout(domain: str) -> bool:
    """Whether ``domain`` belongs to the held-out fifth of the reference lists."""
    return _bucket(domain) == 0


@cache
def spam_domains(split: str = "known") -> frozenset[str]:
    """Spam/disavowed domains by split.

    ``known`` (4/5) is what a shipped model's membership features use; ``holdout`` (1/5) is never
    used by a model and serves the domain-only check; ``partial`` (2/5, inside ``known``) is what
    the membership features see *during training*, so that spam-named sources off the lists teach
    the model the name traits too (real lists never cover all spam); ``all`` is everything.
    """
    text = resources.files("toxiclinks").joinpath("data/spam_domains.txt").read_text("utf-8")
    return _split(frozenset(line for line in text.split() if line), split)


@cache
def popular_domains(split: str = "known") -> dict[str, int]:
    """Popular domains with their rank (1 = most popular), split like :func:`spam_domains`."""
    text = resources.files("toxiclinks").joinpath("data/popular_domains.tsv").read_text("utf-8")
    ranks = {}
    for line in text.splitlines():
        domain, _, rank = line.partition("\t")
        if domain:
            ranks[domain] = int(rank)
    keep = _split(frozenset(ranks), split)
    return {d: r for d, r in ranks.items() if d in keep}


def _split(domains: frozenset[str], split: str) -> frozenset[str]:
    """Select one part of a list by the stable hash."""
    buckets = {"all": (0, 1, 2, 3, 4), "known": (1, 2, 3, 4), "holdout": (0,), "partial": (1, 2)}
    if split not in buckets:
        raise ValueError(f"split must be one of {', '.join(buckets)}, not {split!r}")
    if split == "all":
        return domains
    return frozenset(d for d in domains if _bucket(d) in buckets[split])
