"""One link's feature row from plain values: how the live service scores a one-link request.

For one link the batch path (:meth:`LinkFeatures.transform`) is all fixed cost: hundreds of pandas
and Arrow calls for a single row. Here each family computes the link from its plain values with
its ``compute_one``, which shares its rules with the family's batch ``compute``; the topic
formulas are the batch's own, and the profile features of a one-link batch are the constants they
reduce to. ``tests/test_single.py`` checks, feature for feature, that this row is the batch's row
for the same link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _anchor as anchor
from . import _domain as domain
from . import _placement as placement
from . import _topic as topic
from ._plain import NAN, number
from ._registry import COLUMN, FEATURES

if TYPE_CHECKING:  # annotations only
    from ._pipeline import LinkFeatures



def features_of(link: Mapping[str, Any], state: LinkFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Feature row (1 × features, float32) of one canonical link, and its target's topic vector.

    ``link`` maps canonical fields, host columns included, to plain values (``None`` when
    missing); ``state`` is the fitted :class:`~toxiclinks.features.LinkFeatures`. The row equals
    the one :meth:`~toxiclinks.features.LinkFeatures.transform` gives a one-link table.
    """
    values: dict[str, float] = {}
    values.update(domain.compute_one(link, state))
    values.update(anchor.compute_one(link))
    values.update(placement.compute_one(link))
    target = _target_vector(link, values["anchor__class"], getattr(state, "site_topic", None))
    values.update(_batch_of_one(link, values))
    s = topic.source_vector(link)
    values.update({k: float(v[0]) for k, v in topic.compute(
        s[None, :], target[None, :], np.zeros(1, dtype=np.int32), np.array([link.get("target_site") is None])).items()})
    row = np.empty((1, len(FEATURES)), dtype=np.float32)
    for name, value in values.items():
        row[0, COLUMN[name]] = value
    return row, target


def _target_vector(link: Mapping[str, Any], anchor_class: float, site_topic: str | None) -> np.ndarray:
    """The target's topic vector as the context of a one-link batch builds it."""
    natural = anchor_class in anchor.NATURAL
    return topic.target_vector([link.get("target_url") or ""], [(link.get("anchor") or "") if natural else ""],
                               site_topic)


def _batch_of_one(link: Mapping[str, Any], values: dict[str, float]) -> dict[str, float]:
    """The profile-level features (:mod:`._context`) of a batch holding only this link.

    Every group has one link, one site and one page: counts are 1 (their logs 0), shares are
    the link's own value, and its week is its target's only week of new sites (ratio 1).
    """
    raw = link.get("anchor")
    missing = raw is None
    no_target = not link.get("target_site")
    no_anchor = missing or raw.lower().strip() == ""
    money_words = values["anchor__money_words"]
    sitewide, group = number(link.get("sitewide")), number(link.get("links_in_group"))
    repeated = sitewide if not np.isnan(sitewide) else (NAN if np.isnan(group) else float(group > 1))
    same = NAN if no_anchor or no_target else 1.0
    return {
        "anchor__target_exact_share": NAN if no_target else values["anchor__is_exact_match"],
        "anchor__target_money_share": NAN if no_target or missing else float(money_words > 0),
        "anchor__same_anchor_sites_log": 0.0 * same, "anchor__same_anchor_share": same,
        "profile__site_links_log": 0.0, "profile__site_pages_log": 0.0, "profile__site_targets": 1.0,
        "profile__site_money_share": float(money_words > 0), "profile__site_sitewide_share": repeated,
        "profile__velocity_ratio": NAN if link.get("first_seen") is None else 1.0,
        "profile__target_sites_log": 0.0,
    }
