"""anchor__ features: what the anchor says, and how over-optimised the target's profile is."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import IntEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._groups import group_mean, group_nunique, group_of
from ._lexicons import GENERIC, PLACES, STOPWORDS
from ._text import first_rows, is_commercial, money_category, tokens, topic_category, url_words

if TYPE_CHECKING:  # annotations only: the pipeline imports this module
    from ._pipeline import LinkFeatures

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


class AnchorClass(IntEnum):
    """How an auditor classes an anchor; the value is the ``anchor__class`` feature's code."""

    EMPTY = 0  # no text (an image without alt text)
    BRAND = 1  # the target's brand, its variants, or a person's name
    NAKED_URL = 2
    GENERIC = 3  # "click here", "website", calls to action
    EXACT = 4  # exact-match commercial: keywords and nothing else
    PARTIAL = 5  # some keywords among other words
    COMPOUND = 6  # brand + keyword
    OTHER = 7  # other text


#: The label of each :class:`AnchorClass`, by code: the words the outputs' ``anchor_class`` column uses.
CLASSES = ("empty", "brand", "naked URL", "generic", "exact-match commercial", "partial match",
           "compound", "other")
#: Anchors that describe the target site (its topic vector reads them): brand, naked URL, other text.
NATURAL = (AnchorClass.BRAND, AnchorClass.NAKED_URL, AnchorClass.OTHER)
_URLISH = re.compile(r"^(https?://|www\.)|^[\w-]+(\.[\w-]+)+(/\S*)?$", re.I)
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_SCRIPT_BY_SUFFIX = {
    "ru": "cyrillic", "by": "cyrillic", "ua": "cyrillic", "kz": "cyrillic", "bg": "cyrillic",
    "xn--p1ai": "cyrillic", "rs": "cyrillic", "mk": "cyrillic", "cn": "cjk", "jp": "cjk",
    "tw": "cjk", "hk": "cjk", "kr": "cjk", "gr": "greek", "il": "hebrew", "th": "thai",
    "sa": "arabic", "ae": "arabic", "eg": "arabic", "ir": "arabic", "iq": "arabic",
}


def script_of(text: str) -> str:
    """Dominant writing system of ``text``'s letters ("latin", "cyrillic", "cjk", …), "" if none."""
    if text.isascii():  # nearly all anchors; ASCII letters are Latin
        return "latin" if _ASCII_LETTER.search(text) else ""
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


_TITLES = frozenset(("dr", "mr", "mrs", "ms", "prof", "chef", "dott", "herr", "frau"))
_LEGAL_FORMS = frozenset(("gmbh", "ltd", "llc", "inc", "co", "plc", "pty", "llp", "pc", "sa", "srl",
                          "bv", "ag", "limited", "corp", "kg", "sl", "sas", "oy", "ab", "as"))
_NAME_PARTICLES = frozenset(("de", "van", "von", "da", "del", "der", "la", "le", "di", "du", "bin", "al"))
_NAME_WORD = re.compile(r"^(?:[A-Z][a-z'’\-]+|[A-Z]\.|[A-Z][a-z]*\.?|[a-z]{1,3})$")


def _is_keyword(word: str, money: int) -> bool:
    """A word a rank-seeking anchor is made of: money, commercial, topic or place words."""
    return money >= 0 or is_commercial(word) or topic_category(word) >= 0 or word in PLACES


@lru_cache(maxsize=100_000)
def _anchor_info(text: str) -> tuple:
    """Everything about an anchor that does not depend on the target, computed once per text."""
    words = tokens(text.replace("’", "'").replace("'s ", " ").removesuffix("'s"))
    money = tuple(money_category(w) for w in words)
    keyword = tuple(_is_keyword(w, m) for w, m in zip(words, money, strict=True))
    content = [w for w in words if w not in STOPWORDS]
    # Words that can name the brand or a person: not keywords, stopwords or company forms.
    name_words = tuple(w for w, k in zip(words, keyword, strict=True)
                       if not k and w not in STOPWORDS and w not in _LEGAL_FORMS and w not in _TITLES)
    # "Margaret Hartwell", "Dr. Aisha Rahman": two to four capitalised words, no keyword.
    parts = text.split()
    is_name = (2 <= len(parts) <= 5 and not any(keyword) and len(name_words) >= 2
               and all(_NAME_WORD.match(p) for p in parts)
               and all(p[0].isupper() or p.lower() in _NAME_PARTICLES for p in parts))
    return (
        tuple(words), money, keyword,
        next((m + 1 for m in money if m >= 0), 0),  # money category code
        sum(m >= 0 for m in money),  # money words
        sum(is_commercial(w) for w in words),  # commercial words
        bool(_URLISH.match(text)) and " " not in text,
        text.lower().strip(" .!:»>→-") in GENERIC,
        re.sub(r"[\W_]+", "", text.lower()),
        script_of(text),
        max(len(content), 1),  # words that count for the keyword share
        is_name,
        name_words,
    )


_NO_ANCHOR = ((), (), (), 0, 0, 0, False, False, "", "", 1, False, ())  # _anchor_info of an empty anchor


@lru_cache(maxsize=100_000)
def brand_hit(whole: str, name_words: tuple[str, ...], brand: str) -> bool:
    """Whether an anchor (squashed ``whole``, its ``name_words``) names the target's brand.

    The whole anchor inside the brand or the brand inside it ("Hartwell Family Law's" for
    hartwellfamilylaw.com), or one distinctive word of it that starts the brand or is a large part
    of it ("Margaret Hartwell", "Marco Bellini" for trattoriabellini.com).
    """
    if len(brand) < 3:
        return False
    if brand in whole or (whole in brand and len(whole) >= 4):
        return True
    return any(len(w) >= 4 and w in brand and (brand.startswith(w) or len(w) >= 0.4 * len(brand))
               for w in name_words)


def _shared_words(anchor_words: list[tuple[str, ...]], anchor_of: np.ndarray, target_words: list[frozenset[str]],
                  target_of: np.ndarray) -> np.ndarray:
    """For each pair i, how many of ``anchor_words[anchor_of[i]]`` are in ``target_words[target_of[i]]``."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in words] for words in anchor_words]
    lengths = np.array([len(i) for i in ids], dtype=np.int64)
    flat = np.array([w for i in ids for w in i], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    per_pair = lengths[anchor_of]
    pair = np.repeat(np.arange(len(anchor_of)), per_pair)  # one entry per (pair, anchor word)
    rank = np.arange(len(pair)) - np.repeat(np.cumsum(per_pair) - per_pair, per_pair)  # the word's place
    words = flat[starts[anchor_of][pair] + rank]
    known = np.array([t * len(vocab) + vocab[w] for t, ws in enumerate(target_words) for w in ws if w in vocab],
                     dtype=np.int64)
    hits = np.isin(target_of[pair] * len(vocab) + words, known)
    return np.bincount(pair, weights=hits, minlength=len(anchor_of)).astype(np.int64)


def classify(anchor: str, target_site: str, target_path_words: frozenset[str]) -> tuple[AnchorClass, int, int, int]:
    """Anchor class, money category code, money word count and commercial word count of ``anchor``
    on a link to ``target_site`` whose URL path has ``target_path_words``."""
    return pair_codes(anchor.strip(), brand_of(target_site)[0], target_path_words)


@lru_cache(maxsize=50_000)
def pair_codes(text: str, brand: str, path_words: frozenset[str]) -> tuple[AnchorClass, int, int, int]:
    """What :func:`classify` returns, for a stripped anchor, the target's brand and its URL words.

    The rules of the batch's numpy classifier (:func:`compute`), in plain Python: a live request
    classifies one anchor, where numpy's per-call cost is all there is (tests hold the two equal).
    """
    if not text:
        return AnchorClass.EMPTY, 0, 0, 0
    (words, _, keyword, money_code, money_hits, commercial, urlish, generic, whole, _, n_content,
     is_name, name_words) = _anchor_info(text)
    if urlish or generic:
        return AnchorClass.NAKED_URL if urlish else AnchorClass.GENERIC, money_code, money_hits, commercial
    keywords = sum(keyword)
    if path_words:
        keywords += sum(not k and len(w) >= 3 and w in path_words for w, k in zip(words, keyword, strict=True))
    has_brand = brand_hit(whole, name_words, brand)
    compound = has_brand and whole not in brand and any(
        (k or (len(w) >= 3 and w in path_words)) and w not in brand for w, k in zip(words, keyword, strict=True))
    exact = bool(words) and keywords / n_content >= 0.6 and (money_hits > 0 or commercial > 0 or keywords >= 2)
    cls = (AnchorClass.COMPOUND if compound else AnchorClass.BRAND if has_brand or is_name
           else AnchorClass.EXACT if exact else AnchorClass.PARTIAL if keywords > 0 else AnchorClass.OTHER)
    return cls, money_code, money_hits, commercial


def _classes(texts: list[str], anchor_of: np.ndarray, brands: list[str], path_words: list[frozenset[str]],
             target_of: np.ndarray) -> np.ndarray:
    """:func:`classify` for pairs ``(texts[anchor_of[i]], target target_of[i])``: one row of 4 codes each.

    Anchors (stripped) and targets are described once each; only the brand and target-URL word
    tests, which need both, run per pair, and only for the pairs whose class they can change.
    """
    info = [_anchor_info(t) if t else _NO_ANCHOR for t in texts]
    column = lambda k, dtype=np.int64: np.array([i[k] for i in info], dtype=dtype)  # noqa: E731
    money_code, money_hits, commercial = column(3)[anchor_of], column(4)[anchor_of], column(5)[anchor_of]
    n_words = np.array([len(i[0]) for i in info], dtype=np.int64)[anchor_of]
    n_content = column(10)[anchor_of]
    is_name = column(11, bool)[anchor_of]
    keywords = np.array([sum(i[2]) for i in info], dtype=np.int64)[anchor_of]
    empty = np.array([not t for t in texts], dtype=bool)[anchor_of]
    decided = np.select([empty, column(6, bool)[anchor_of], column(7, bool)[anchor_of]],
                        [AnchorClass.EMPTY, AnchorClass.NAKED_URL, AnchorClass.GENERIC], -1)
    open_ = np.flatnonzero(decided < 0)
    # Words that count as keywords only when the target's URL has them too.
    maybe = [tuple(w for w, k in zip(i[0], i[2], strict=True) if not k and len(w) >= 3) for i in info]
    # The brand test once per distinct (anchor, brand): a site's pages share one brand.
    brand_id, brand_names = pd.factorize(np.array(brands, dtype=object))
    combos, combo_values = pd.factorize(anchor_of[open_] * max(len(brand_names), 1) + brand_id[target_of[open_]])
    combo_anchors = combo_values // max(len(brand_names), 1)
    has_brand = np.zeros(len(anchor_of), dtype=bool)
    has_brand[open_] = np.array([brand_hit(info[a][8], info[a][12], b) for a, b in zip(
        combo_anchors, brand_names[combo_values % max(len(brand_names), 1)], strict=True)], dtype=bool)[combos]
    both = open_[np.array([bool(m) for m in maybe], dtype=bool)[anchor_of[open_]]
                 & np.array([bool(w) for w in path_words], dtype=bool)[target_of[open_]]]
    keywords[both] += _shared_words(maybe, anchor_of[both], path_words, target_of[both])
    compound = np.zeros(len(anchor_of), dtype=bool)
    for p in np.flatnonzero(has_brand):
        brand, (words, _, keyword, *_, whole, _, _, _, _) = brands[target_of[p]], info[anchor_of[p]]
        in_url = path_words[target_of[p]]
        # "Simple Club" for simpleclub.org is the brand; "Simple Club cheap boots" adds keywords.
        compound[p] = whole not in brand and any(
            (k or (len(w) >= 3 and w in in_url)) and w not in brand for w, k in zip(words, keyword, strict=True))
    # Keywords: money words, commercial modifiers, words of the target URL and topic nouns
    # ("hiking boots"): an anchor made of them is what a rank-seeking link would use.
    exact = ((n_words > 0) & (keywords / n_content >= 0.6)
             & ((money_hits > 0) | (commercial > 0) | (keywords >= 2)))
    cls = np.select([decided >= 0, has_brand & compound, has_brand | is_name, exact, keywords > 0],
                    [decided, AnchorClass.COMPOUND, AnchorClass.BRAND, AnchorClass.EXACT, AnchorClass.PARTIAL],
                    AnchorClass.OTHER)
    codes = np.column_stack([cls, money_code, money_hits, commercial])
    codes[empty] = AnchorClass.EMPTY
    return codes


@lru_cache(maxsize=100_000)
def target_info(url: str, site: str) -> tuple[str, frozenset[str], str]:
    """Site, words of the path and expected script of a target URL on ``site``.

    What the classes and the script test need to know of a target, computed once per URL (the
    batch passes each distinct target URL, a live request its one).
    """
    path_words = frozenset(url_words(url.split("/", 3)[3] if url.count("/") >= 3 else ""))
    expected = _SCRIPT_BY_SUFFIX.get(site.rsplit(".", 1)[-1], "latin") if site else ""
    return site, path_words, expected


def script_mismatch(script: str | np.ndarray, expected: str | np.ndarray) -> bool | np.ndarray:
    """Whether an anchor's script differs from the one its target site's suffix expects.

    Works on single values (a live request) and on numpy arrays of them (a batch); an unknown
    script on either side ("") is no mismatch.
    """
    return (script != "") & (expected != "") & (script != expected)


#: Features that describe the target's whole anchor profile (computed from the batch context).
PROFILE_FEATURES = ("anchor__target_exact_share", "anchor__target_money_share",
                    "anchor__same_anchor_sites_log", "anchor__same_anchor_share")


def compute(links: pd.DataFrame, state: LinkFeatures) -> dict[str, np.ndarray]:
    """Per-link anchor features; each distinct anchor, target and (anchor, target) is worked on once."""
    anchor_id, anchor_values = pd.factorize(links["anchor"])  # a missing anchor: -1
    target_id, urls = pd.factorize(links["target_url"].fillna(""))
    base = max(len(urls), 1)
    codes, pairs = pd.factorize((anchor_id.astype(np.int64) + 1) * base + target_id)
    pair_anchor, pair_target = pairs // base - 1, pairs % base
    sites = links["target_site"].fillna("").iloc[first_rows(target_id, len(urls))].to_numpy(dtype=object)
    targets = [target_info(url, site if url else "") for url, site in zip(urls, sites, strict=True)]
    texts = [str(a).strip() for a in anchor_values] + [""]  # the last one stands for a missing anchor
    table = np.zeros((len(pairs), 5), dtype=np.float64)
    table[:, :4] = _classes(texts, pair_anchor, [brand_of(site)[0] for site, _, _ in targets],
                            [words for _, words, _ in targets], pair_target)
    script = np.array([_anchor_info(t)[9] if t else "" for t in texts], dtype=object)[pair_anchor]
    expected = np.array([e for _, _, e in targets] or [""], dtype=object)[pair_target]
    table[:, 4] = script_mismatch(script, expected)
    table[pair_anchor < 0] = np.nan
    per_row = table[codes]
    missing = anchor_id < 0
    words = np.array([len(a.split()) for a in anchor_values], dtype=np.float64)
    length = np.array([len(a) for a in anchor_values], dtype=np.float64)
    return {
        "anchor__class": per_row[:, 0],
        "anchor__is_exact_match": np.where(missing, np.nan, (per_row[:, 0] == AnchorClass.EXACT).astype(float)),
        "anchor__money_category": per_row[:, 1],
        "anchor__money_words": per_row[:, 2],
        "anchor__commercial_words": per_row[:, 3],
        "anchor__word_count": np.where(missing, np.nan, np.append(words, np.nan)[anchor_id]),
        "anchor__length": np.where(missing, np.nan, np.append(length, np.nan)[anchor_id]),
        "anchor__script_mismatch": per_row[:, 4],
    }


def compute_one(link: Mapping[str, Any]) -> dict[str, float]:
    """:func:`compute` for one link's plain values (``None`` when missing): a live request."""
    raw = link.get("anchor")
    if raw is None:
        return dict.fromkeys(_LINK_FEATURES, _NAN)
    url = link.get("target_url") or ""
    site, path_words, expected = target_info(url, (link.get("target_site") or "") if url else "")
    text = str(raw).strip()
    cls, money, money_words, commercial = pair_codes(text, brand_of(site)[0], path_words)
    script = _anchor_info(text)[9] if text else ""
    return {
        "anchor__class": cls, "anchor__is_exact_match": float(cls == AnchorClass.EXACT),
        "anchor__money_category": money, "anchor__money_words": money_words, "anchor__commercial_words": commercial,
        "anchor__word_count": len(raw.split()), "anchor__length": len(raw),
        "anchor__script_mismatch": float(script_mismatch(script, expected)),
    }


_LINK_FEATURES = tuple(name for name in FEATURES if name not in PROFILE_FEATURES)  # one link's own
_NAN = float("nan")


def profile_shares(keys: dict[str, np.ndarray], codes: dict[str, np.ndarray]) -> dict[str, tuple[str, np.ndarray]]:
    """Over-optimisation of the target's whole profile, per target or (target, anchor) group,
    from the batch keys and group numbers (see :mod:`._context`)."""
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
