"""One link's feature row from plain values: how the live service scores a one-link request.

For one link the batch path (:meth:`LinkFeatures.transform`) is all fixed cost: some four hundred
pandas and Arrow calls, ~10 ms. Here the same features come from the link's plain values through
the batch modules' own helpers (host traits, anchor classes, lexicons, the metric and topic
formulas, the placement patterns), and the profile features of a one-link batch are the
constants they reduce to. ``tests/test_single.py`` checks, feature for feature, that this row is
the batch's row for the same link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from . import anchor, domain, placement, topic
from .registry import FEATURES
from .text import lexicon_counts, tokens, topic_vector

_ROW = {name: i for i, name in enumerate(FEATURES)}
_NAN = float("nan")
_SCHEME = re.compile(r"^[a-z]+://")
_PATTERNS = {p: re.compile(p) for p in (placement._COMMENT, placement._PAID, placement._PARTNERS,
                                         placement._URL_PARTNERS, placement._FOOTER, placement._DIRECTORY,
                                         placement._PROFILE)}


def features_of(link: Mapping[str, Any], state) -> tuple[np.ndarray, np.ndarray]:
    """Feature row (1 × features, float32) of one canonical link, and its target's topic vector.

    ``link`` maps canonical fields, host columns included, to plain values (``None`` when
    missing); ``state`` is the fitted :class:`~toxiclinks.features.LinkFeatures`.
    """
    values: dict[str, float] = {}
    values.update(_host(link, state))
    values.update({k: float(v[0]) for k, v in domain.metrics_of(lambda name: np.array([_number(link.get(name))])).items()})
    values.update(_anchor(link))
    values.update(_placement(link))
    target = _target_vector(link, values["anchor__class"], getattr(state, "site_topic", None))
    values.update(_batch_of_one(link, values))
    s = source_vector(link)
    values.update({k: float(v[0]) for k, v in topic.compute(
        s[None, :], target[None, :], np.zeros(1, dtype=np.int32), np.array([link.get("target_site") is None])).items()})
    row = np.empty((1, len(FEATURES)), dtype=np.float32)
    for name, value in values.items():
        row[0, _ROW[name]] = value
    return row, target


def _number(value) -> float:
    """A canonical value as the batch's float64 column holds it (bools 1/0, missing NaN)."""
    return _NAN if value is None else float(value)


def _host(link: Mapping[str, Any], state) -> dict[str, float]:
    """The host-only domain features (all missing without a host)."""
    host = link.get("source_host")
    names = list(domain.FEATURES)[:domain._N_HOST]
    if host is None:
        return dict.fromkeys(names, _NAN)
    parts = (link.get(f"source_{f}") or "" for f in ("site", "suffix", "platform", "domain"))
    return dict(zip(names, map(float, domain.host_traits(host, *parts, state)), strict=True))


def _anchor(link: Mapping[str, Any]) -> dict[str, float]:
    """:func:`anchor.compute` for one link."""
    raw = link.get("anchor")
    if raw is None:
        return dict.fromkeys(anchor.FEATURES.keys() - set(anchor.PROFILE_FEATURES), _NAN)
    url = link.get("target_url") or ""
    site, path_words, expected = anchor._target_info(url, (link.get("target_site") or "") if url else "")
    text = str(raw).strip()
    cls, money, money_words, commercial = anchor.pair_codes(text, anchor.brand_of(site)[0], path_words)
    script = anchor._anchor_info(text)[9] if text else ""
    return {
        "anchor__class": cls, "anchor__is_exact_match": float(cls == 4), "anchor__money_category": money,
        "anchor__money_words": money_words, "anchor__commercial_words": commercial,
        "anchor__word_count": len(raw.split()), "anchor__length": len(raw),
        "anchor__script_mismatch": float(script != "" and expected != "" and script != expected),
    }


def _joined(a: str | None, b: str | None) -> str | None:
    """placement._join of two values: joined by a space, missing only when both are."""
    return None if a is None and b is None else f"{a or ''} {b or ''}"


def _cues(text: str | None, *patterns: str) -> list[float]:
    """:func:`placement._cues` of one text: Python's ``re`` matches ASCII text as RE2 does."""
    if text is None:
        return [_NAN] * len(patterns)
    if not text.isascii():  # Unicode case mapping and word boundaries: the batch's own Arrow code
        return [float(c[0]) for c in placement._cues(placement._lower(pa.array([text], pa.large_string())), *patterns)]
    lower = text.lower()
    return [float(_PATTERNS[p].search(lower) is not None) for p in patterns]


def _code(value: str | None, names: tuple[str, ...]) -> float:
    """A category's position in ``names`` (NaN when missing or unknown), as the batch codes it."""
    return float(names.index(value)) if value in names else _NAN


def _placement(link: Mapping[str, Any]) -> dict[str, float]:
    """:func:`placement.compute` for one link."""
    nofollow, ugc, sponsored = (_number(link.get(c)) for c in ("nofollow", "ugc", "sponsored"))
    flags = [f for f in (nofollow, ugc, sponsored) if not np.isnan(f)]
    url = link["source_url"]
    comment, paid, partners, footer = _cues(_joined(link.get("left_context"), link.get("right_context")),
                                            placement._COMMENT, placement._PAID, placement._PARTNERS, placement._FOOTER)
    url_comment, url_partners, profile = _cues(url, placement._COMMENT, placement._URL_PARTNERS, placement._PROFILE)
    title_paid, directory = _cues(_joined(url, link.get("source_title")), placement._PAID, placement._DIRECTORY)
    group = _number(link.get("links_in_group"))
    return {
        "placement__in_content": _number(link.get("in_content")), "placement__sitewide": _number(link.get("sitewide")),
        "placement__links_in_group_log": float(np.log10(np.float64(group if np.isnan(group) or group >= 1 else 1.0))),
        "placement__link_type": _code(link.get("link_type"), placement.LINK_TYPES),
        "placement__nofollow": nofollow, "placement__ugc": ugc, "placement__sponsored": sponsored,
        "placement__qualified": float(sum(flags) > 0) if flags else _NAN,
        "placement__region": _code(link.get("region"), placement.REGIONS),
        "placement__cue_comment": float(np.fmax(comment, url_comment)), "placement__cue_paid": float(np.fmax(paid, title_paid)),
        "placement__cue_partners": float(np.fmax(partners, url_partners)), "placement__cue_footer": footer,
        "placement__url_directory": directory, "placement__url_profile": profile,
        "placement__url_depth": url.count("/") - 2 * bool(_SCHEME.match(url.lower())) - 1.0,
    }


def source_vector(link: Mapping[str, Any]) -> np.ndarray:
    """:func:`topic.source_vectors` of one link: the topic words of its title and URL."""
    text = f"{link.get('source_title') or ''} {link['source_url']}"
    if text.isascii():  # the batch's ASCII tokenizer splits exactly where ``tokens`` does
        return topic_vector(tokens(text))
    return lexicon_counts(pa.array([text], pa.large_string()))[0]


def _target_vector(link: Mapping[str, Any], anchor_class: float, site_topic: str | None) -> np.ndarray:
    """The target's topic vector as the context of a one-link batch builds it."""
    natural = anchor_class in (1, 2, 7)
    return topic.target_vector([link.get("target_url") or ""], [(link.get("anchor") or "") if natural else ""],
                               site_topic)


def _batch_of_one(link: Mapping[str, Any], values: dict[str, float]) -> dict[str, float]:
    """The profile-level features (:mod:`.context`) of a batch holding only this link.

    Every group has one link, one site and one page: counts are 1 (their logs 0), shares are
    the link's own value, and its week is its target's only week of new sites (ratio 1).
    """
    raw = link.get("anchor")
    missing = raw is None
    no_target = not link.get("target_site")
    no_anchor = missing or raw.lower().strip() == ""
    money_words = values["anchor__money_words"]
    sitewide, group = _number(link.get("sitewide")), _number(link.get("links_in_group"))
    repeated = sitewide if not np.isnan(sitewide) else (_NAN if np.isnan(group) else float(group > 1))
    same = _NAN if no_anchor or no_target else 1.0
    return {
        "anchor__target_exact_share": _NAN if no_target else values["anchor__is_exact_match"],
        "anchor__target_money_share": _NAN if no_target or missing else float(money_words > 0),
        "anchor__same_anchor_sites_log": 0.0 * same, "anchor__same_anchor_share": same,
        "profile__site_links_log": 0.0, "profile__site_pages_log": 0.0, "profile__site_targets": 1.0,
        "profile__site_money_share": float(money_words > 0), "profile__site_sitewide_share": repeated,
        "profile__velocity_ratio": _NAN if link.get("first_seen") is None else 1.0,
        "profile__target_sites_log": 0.0,
    }
