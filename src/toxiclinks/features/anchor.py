"""anchor__ features: what the anchor says, and how over-optimised the target's profile is."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .lexicons import GENERIC
from .text import is_commercial, money_category, pair_codes, tokens, topic_category, url_words

FEATURES: dict[str, str] = {
    "anchor__class": "anchor class: 0 empty, 1 brand, 2 naked URL, 3 generic, 4 exact-match "
                     "commercial, 5 partial match, 6 compound (brand + keyword), 7 other text",
    "anchor__is_exact_match": "the anchor is a commercial keyword and nothing else",
    "anchor__money_category": "money niche of the anchor: 0 none, then gambling, adult, pharma, "
                              "loans, essays, replicas, crypto, seo",
    "anchor__money_words": "money-niche words in the anchor",
    "anchor__commercial_words": "commercial modifiers in the anchor (buy, cheap, best, …)",
    "anchor__word_count": "words in the anchor",
    "anchor__length": "characters in the anchor",
    "anchor__script_mismatch": "the anchor's script (Cyrillic, CJK, …) is not the target site's",
    "anchor__target_exact_share": "share of the target's links in this batch with exact-match anchors",
    "anchor__target_money_share": "share of the target's links in this batch with money anchors",
    "anchor__same_anchor_sites_log": "log10 of how many sites link to the target with this same anchor",
    "anchor__same_anchor_share": "share of the target's referring sites that use this same anchor",
}
CLASSES = ("empty", "brand", "naked URL", "generic", "exact-match commercial", "partial match",
           "compound", "other")
_URLISH = re.compile(r"^(https?://|www\.)|^[\w-]+(\.[\w-]+)+(/\S*)?$", re.I)
_SCRIPT_BY_SUFFIX = {
    "ru": "cyrillic", "by": "cyrillic", "ua": "cyrillic", "kz": "cyrillic", "bg": "cyrillic",
    "xn--p1ai": "cyrillic", "rs": "cyrillic", "mk": "cyrillic", "cn": "cjk", "jp": "cjk",
    "tw": "cjk", "hk": "cjk", "kr": "cjk", "gr": "greek", "il": "hebrew", "th": "thai",
    "sa": "arabic", "ae": "arabic", "eg": "arabic", "ir": "arabic", "iq": "arabic",
}


def script_of(text: str) -> str:
    """Dominant writing system of ``text``'s letters ("latin", "cyrillic", "cjk", …), "" if none."""
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        if ch.isascii():
            name = "latin"
        else:
            uname = unicodedata.name(ch, "")
            name = next((s for key, s in _SCRIPT_NAMES if key in uname), "latin" if "LATIN" in uname else "other")
        counts[name] = counts.get(name, 0) + 1
    return max(counts, key=counts.get) if counts else ""


_SCRIPT_NAMES = (("CYRILLIC", "cyrillic"), ("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"),
                 ("HANGUL", "cjk"), ("ARABIC", "arabic"), ("GREEK", "greek"), ("HEBREW", "hebrew"),
                 ("THAI", "thai"), ("DEVANAGARI", "devanagari"))


@lru_cache(maxsize=10_000)
def brand_of(site: str) -> tuple[str, str]:
    """The brand a target site's anchors would use: ("gearexample", "gear example")."""
    label = site.split(".")[0] if site else ""
    return re.sub(r"[^a-z0-9]", "", label.lower()), label.replace("-", " ").lower()


@lru_cache(maxsize=100_000)
def _anchor_info(text: str) -> tuple:
    """Everything about an anchor that does not depend on the target, computed once per text."""
    words = tokens(text)
    money = tuple(money_category(w) for w in words)
    keyword = tuple(m >= 0 or is_commercial(w) or topic_category(w) >= 0 for w, m in zip(words, money, strict=True))
    return (
        tuple(words), money, keyword,
        next((m + 1 for m in money if m >= 0), 0),  # money category code
        sum(m >= 0 for m in money),  # money words
        sum(is_commercial(w) for w in words),  # commercial words
        bool(_URLISH.match(text)) and " " not in text,
        text.lower().strip(" .!:»>→-") in GENERIC,
        re.sub(r"[\W_]+", "", text.lower()),
        script_of(text),
    )


def classify(anchor: str, target_site: str, target_path_words: frozenset[str]) -> tuple[int, int, int, int]:
    """Anchor class code, money category code, money word count, commercial word count."""
    text = anchor.strip()
    if not text:
        return 0, 0, 0, 0
    words, money, keyword, money_code, money_hits, commercial, urlish, generic, squashed, _ = _anchor_info(text)
    if urlish:
        return 2, money_code, money_hits, commercial
    if generic:
        return 3, money_code, money_hits, commercial
    brand, _ = brand_of(target_site)
    has_brand = bool(brand) and len(brand) >= 3 and (brand in squashed or squashed in brand and len(squashed) >= 4)
    # Keywords: money words, commercial modifiers, words of the target URL and topic nouns
    # ("hiking boots"): an anchor made of them is what a rank-seeking link would use.
    is_kw = [k or (len(w) >= 3 and w in target_path_words) for w, k in zip(words, keyword, strict=True)]
    if has_brand:
        # "Simple Club" for simpleclub.org is the brand; "Simple Club cheap boots" adds keywords.
        extra = [w for w, k in zip(words, is_kw, strict=True) if k and w not in brand]
        return (6 if extra and squashed not in brand else 1), money_code, money_hits, commercial
    keywords = sum(is_kw)
    if words and keywords / len(words) >= 0.6 and (money_hits or commercial or keywords >= 2):
        return 4, money_code, money_hits, commercial
    if keywords:
        return 5, money_code, money_hits, commercial
    return 7, money_code, money_hits, commercial


@lru_cache(maxsize=100_000)
def _target_info(url: str, site: str) -> tuple[str, frozenset[str], str]:
    """Site, path words and expected script of a target URL (on ``site``), computed once per URL."""
    path_words = frozenset(url_words(url.split("/", 3)[3] if url.count("/") >= 3 else ""))
    expected = _SCRIPT_BY_SUFFIX.get(site.rsplit(".", 1)[-1], "latin") if site else ""
    return site, path_words, expected


#: Features that describe the target's whole anchor profile (computed from the batch context).
PROFILE_FEATURES = ("anchor__target_exact_share", "anchor__target_money_share",
                    "anchor__same_anchor_sites_log", "anchor__same_anchor_share")


def compute(links: pd.DataFrame, state) -> dict[str, np.ndarray]:
    """Per-link anchor features; each distinct (anchor, target) is classified once."""
    anchor = links["anchor"]
    target_url = links["target_url"].fillna("").astype(object)
    codes, first = pair_codes(anchor, target_url)
    table = np.zeros((len(first), 5), dtype=np.float64)
    anchors, urls = anchor.to_numpy(dtype=object, na_value=None), target_url.to_numpy(dtype=object)
    sites = links["target_site"].fillna("").to_numpy(dtype=object)  # split by the reader already
    for i, row in enumerate(first):
        text, url = anchors[row], urls[row]
        if text is None:
            table[i] = np.nan
            continue
        site, path_words, expected = _target_info(url, sites[row] if url else "")
        cls, money_code, money_hits, commercial = classify(text, site, path_words)
        script = _anchor_info(text.strip())[-1] if text.strip() else ""
        mismatch = float(bool(script) and bool(expected) and script != expected)
        table[i] = (cls, money_code, money_hits, commercial, mismatch)
    per_row = table[codes]
    missing = anchor.isna().to_numpy()
    return {
        "anchor__class": per_row[:, 0],
        "anchor__is_exact_match": np.where(missing, np.nan, (per_row[:, 0] == 4).astype(float)),
        "anchor__money_category": per_row[:, 1],
        "anchor__money_words": per_row[:, 2],
        "anchor__commercial_words": per_row[:, 3],
        "anchor__word_count": np.where(missing, np.nan, _word_counts(anchor)),
        "anchor__length": np.where(missing, np.nan, anchor.fillna("").str.len().to_numpy(dtype=float, na_value=0)),
        "anchor__script_mismatch": per_row[:, 4],
    }


def profile_shares(keys: dict[str, np.ndarray], codes: dict[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    """Over-optimisation of the target's whole profile, per target or (target, anchor) group,
    from the batch keys and group numbers (see :mod:`.context`)."""
    from .context import group_mean, group_nunique, group_of

    target, site, target_anchor = codes["target"], codes["site"], codes["target_anchor"]
    no_target = group_of(target, keys["no_target"])  # per target: the links have none
    anchor_target = group_of(target_anchor, target)
    same = group_nunique(target_anchor, site)
    sites = group_nunique(target, site)
    same = np.where(group_of(target_anchor, keys["no_anchor"]) | no_target[anchor_target], np.nan, same)
    return {
        "anchor__target_exact_share": ("target", np.where(no_target, np.nan, group_mean(target, keys["exact"]))),
        "anchor__target_money_share": ("target", np.where(no_target, np.nan, group_mean(target, keys["money"]))),
        "anchor__same_anchor_sites_log": ("target_anchor", np.log10(same)),
        "anchor__same_anchor_share": ("target_anchor", same / np.maximum(sites[anchor_target], 1)),
    }


def _word_counts(anchor: pd.Series) -> np.ndarray:
    """Whitespace-separated words per anchor (Arrow, vectorised)."""
    arr = pa.array(anchor.fillna("").astype(object), type=pa.large_string())
    return pc.list_value_length(pc.utf8_split_whitespace(arr)).to_numpy(zero_copy_only=False).astype(float)
