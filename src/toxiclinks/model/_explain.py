"""The reasons in plain words: the strongest contributions of a scored link, as an auditor says them.

Reasons come from the model's per-feature contributions (path attribution, see
:meth:`ToxicityModel.contributions`): the few features that pushed a link's score up the most,
each turned into a phrase an auditor would write ("exact-match money anchor 'cheap viagra'",
"sitewide footer link"). Features without a phrase, or whose value says
nothing worth saying, give no reason. Used by :mod:`._score` for the batch and the one-link path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..features import (
    LINK_TYPES,
    MONEY_NAMES,
    REGIONS,
    AnchorClass,
    Context,
    dominant,
    source_vector,
)
from ..features import source_vectors as source_topic_vectors
from ._artifact import ToxicityModel


def target_topic_names(context: Context) -> np.ndarray:
    """Name of each link's target topic, as the topic features saw it ("" when unknown)."""
    names = dominant(context.target_vectors)
    return names[context.target_codes] if len(names) else np.full(len(context), "", dtype=object)


#: The link columns :func:`explain_rows` reads (the fields its phrases quote, and the source's text).
EXPLAIN_COLUMNS = ("anchor", "source_site", "source_suffix", "source_platform", "source_title", "source_url")


def explain_rows(model: ToxicityModel, links: pd.DataFrame, X: np.ndarray, top_k: int = 3,
                 target_topics: np.ndarray | None = None, contrib: np.ndarray | None = None,
                 source_vectors: np.ndarray | None = None) -> list[str]:
    """Top reasons, joined with '; ', for each row, from per-feature contributions; ``links``
    needs the :data:`EXPLAIN_COLUMNS`.

    ``contrib`` is the rows' contributions without the bias column, and ``source_vectors`` their
    sources' topic vectors (:func:`toxiclinks.features.source_vectors`), when already computed.

    Phrases are cached by what they say (feature, value and the few fields they quote), so a
    million flagged links cost a dictionary lookup each, not a formatting call.
    """
    if contrib is None:
        contrib = model.contributions(X)[:, :-1]
    fields = {"anchor": links["anchor"], "source_site": links["source_site"], "source_suffix": links["source_suffix"],
              "source_platform": links["source_platform"],
              "target_topic": target_topics if target_topics is not None else np.full(len(X), "", dtype=object)}

    def source_topics(rows: np.ndarray) -> np.ndarray:
        # Without the features' vectors, a lexicon pass over the text of the rows whose reasons may quote it.
        vectors = source_topic_vectors(links.iloc[rows]) if source_vectors is None else source_vectors[rows]
        return dominant(vectors)

    return _explain(model.feature_names, X, contrib, fields, source_topics, top_k)


def explain_one(names: list[str], X: np.ndarray, contrib: np.ndarray, link: Mapping[str, Any],
                target_vector: np.ndarray, top_k: int = 3) -> str:
    """:func:`explain_rows` of one link scored from its plain values (a live request).

    ``X`` and ``contrib`` are the link's feature row and contributions (1 × features), and
    ``target_vector`` its target's topic vector, as :func:`toxiclinks.features.features_of` gives it.
    """
    fields: dict[str, Sequence] = {name: [link.get(name)] for name in ("anchor", "source_site", "source_suffix",
                                                                       "source_platform")}
    fields["target_topic"] = dominant(target_vector[None, :])
    source_topics = lambda rows: dominant(source_vector(link)[None, :])  # noqa: E731
    return _explain(names, X, contrib, fields, source_topics, top_k)[0]


def _explain(names: list[str], X: np.ndarray, contrib: np.ndarray, fields: dict[str, Sequence],
             source_topics: Callable[[np.ndarray], np.ndarray], top_k: int) -> list[str]:
    """:func:`explain_rows` given the fields phrases quote, and what names the sources' topics."""
    n = len(X)
    width = min(top_k + 3, contrib.shape[1])
    top = np.argpartition(-contrib, width - 1, axis=1)[:, :width]
    order = np.take_along_axis(top, np.argsort(-np.take_along_axis(contrib, top, axis=1), axis=1), axis=1)
    is_topic = np.array([name.startswith("topic__") for name in names])
    quoting = np.flatnonzero(is_topic[order].any(axis=1))
    source_topic = np.full(n, "", dtype=object)
    if len(quoting):
        source_topic[quoting] = source_topics(quoting)
    context = {**fields, "source_topic": source_topic}
    # The loop below keys phrases by small integer codes, not strings (Python lists: numpy
    # scalars are slow); the strings are looked up only when a phrase is formatted.
    codes, uniques = {}, {}
    for name, values in context.items():
        codes[name], uniques[name] = _factorized(values)
    cls_col, money_col = names.index("anchor__class"), names.index("anchor__money_category")
    codes["cls"], codes["money"] = (np.nan_to_num(X[:, c], nan=-1).tolist() for c in (cls_col, money_col))
    quotes = [_QUOTES.get(name, ()) for name in names]
    # Only features with a phrase, a value and a contribution above 0.05 can give a reason (the
    # others would say nothing); in row order, strongest first.
    top_value = np.take_along_axis(X, order, axis=1).astype(np.float64)
    speaks = np.array([name in _PHRASES for name in names])
    rows, ranks = np.nonzero((np.take_along_axis(contrib, order, axis=1) > 0.05) & ~np.isnan(top_value) & speaks[order])
    out = ["several weak signals together"] * n
    cache: dict[tuple, str] = {}
    phrases: list[str] = []
    current = -1
    for i, j, value in zip(rows.tolist(), order[rows, ranks].tolist(), top_value[rows, ranks].tolist(), strict=True):
        if i != current:
            if phrases:
                out[current] = "; ".join(phrases)
            phrases, current = [], i
        if len(phrases) >= top_k:
            continue
        # A phrase depends on its feature's exact value and the few fields it quotes.
        key = (j, value, *[codes[f][i] for f in quotes[j]]) if quotes[j] else (j, value)
        phrase = cache.get(key)
        if phrase is None:
            row = {k: uniques[k][codes[k][i]] for k in context}
            phrase = cache[key] = describe(names[j], X[i], names, row)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    if phrases:
        out[current] = "; ".join(phrases)
    return out


def _factorized(values: Sequence) -> tuple[list[int], np.ndarray]:
    """Codes (-1: missing) and distinct values of ``values``; the last distinct value is ``None``."""
    if len(values) == 1:  # a live one-link request: pandas' factorize costs more than the rest
        value = values.iloc[0] if isinstance(values, pd.Series) else values[0]
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return [-1], np.array([None], dtype=object)
        return [0], np.array([value, None], dtype=object)
    code, unique = pd.factorize(values)
    return code.tolist(), np.append(np.asarray(unique, dtype=object), None)


def _value(X_row: np.ndarray, names: list[str], name: str) -> float:
    """The value of feature ``name`` in a feature row."""
    return float(X_row[names.index(name)])


def _short(text: object, limit: int = 40) -> str:
    """``text`` as a phrase quotes it: at most ``limit`` characters, "" when missing."""
    text = "" if text is None or text is pd.NA else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(name: str, X_row: np.ndarray, names: list[str], row: dict) -> str:
    """One feature's value as a phrase an auditor would write (empty when not worth saying)."""
    v = _value(X_row, names, name)
    if np.isnan(v):
        return ""
    fn = _PHRASES.get(name)
    if fn is not None:
        return fn(v, X_row, names, row)
    return ""


def _anchor_phrase(v: float, X_row: np.ndarray, names: list[str], row: dict[str, Any]) -> str:
    """The one phrase all anchor features share: what kind of anchor it is, quoted."""
    anchor = _short(row.get("anchor"))
    cls = int(_value(X_row, names, "anchor__class"))
    money = _value(X_row, names, "anchor__money_category")
    money = 0 if np.isnan(money) else int(money)
    niche = f"{MONEY_NAMES[money - 1]} " if money else ""
    if cls == AnchorClass.EXACT:
        return f"exact-match {niche or 'commercial '}anchor '{anchor}'"
    if money:
        return f"{niche}anchor '{anchor}'"
    if cls == AnchorClass.PARTIAL:
        return f"partial-match keyword anchor '{anchor}'"
    if cls == AnchorClass.COMPOUND:
        return f"brand + keyword anchor '{anchor}'"
    if cls == AnchorClass.EMPTY:
        return "image link without alt text"
    return ""


def _topic_phrase(v: float, X_row: np.ndarray, names: list[str], row: dict[str, Any]) -> str:
    """An off-topic source, naming both topics when they are known."""
    if v > 0.3:
        return ""
    source_topic, target = row.get("source_topic") or "", row.get("target_topic") or ""
    if source_topic and target and source_topic != target:
        return f"off-topic source: {source_topic} vs {target}"
    return f"source page ({source_topic or 'unrelated topic'}) is unrelated to the target site"


def _fmt_count(v: float) -> str:
    """A log10 count as the whole number it stands for ("1,000")."""
    n = 10 ** v
    return f"{n:,.0f}"


#: The row fields each phrase quotes besides its own value ("cls" and "money" are the anchor's
#: class and money category); phrases are cached by feature, value and these fields.
_ANCHOR_QUOTES = ("anchor", "cls", "money")
_QUOTES: dict[str, tuple[str, ...]] = {
    "anchor__class": _ANCHOR_QUOTES, "anchor__is_exact_match": _ANCHOR_QUOTES,
    "anchor__money_category": _ANCHOR_QUOTES, "anchor__money_words": _ANCHOR_QUOTES,
    "anchor__commercial_words": _ANCHOR_QUOTES, "anchor__script_mismatch": ("anchor",),
    "topic__similarity": ("source_topic", "target_topic"),
    "domain__keyword_count": ("source_site",), "domain__money_word": ("source_site",),
    "domain__tld_spam_rate": ("source_suffix",), "domain__is_platform_site": ("source_platform",),
}

_PHRASES: dict[str, Callable[..., str]] = {
    "anchor__class": _anchor_phrase,
    "anchor__is_exact_match": _anchor_phrase,
    "anchor__money_category": _anchor_phrase,
    "anchor__money_words": _anchor_phrase,
    "anchor__commercial_words": _anchor_phrase,
    "anchor__script_mismatch": lambda v, X, n, r: f"anchor '{_short(r.get('anchor'))}' is in another script than the target site" if v else "",
    "anchor__target_exact_share": lambda v, X, n, r: f"over-optimised profile: {v:.0%} of the target's anchors are exact-match",
    "anchor__target_money_share": lambda v, X, n, r: f"{v:.0%} of the target's anchors are money keywords",
    "anchor__same_anchor_sites_log": lambda v, X, n, r: f"the same anchor comes from {_fmt_count(v)} sites" if v >= 0.5 else "",
    "anchor__same_anchor_share": lambda v, X, n, r: f"{v:.0%} of referring sites use this same anchor" if v >= 0.05 else "",
    "placement__in_content": lambda v, X, n, r: "link outside the main content (footer, sidebar or navigation)" if v == 0 else "",
    "placement__sitewide": lambda v, X, n, r: "sitewide link" if v == 1 else "",
    "placement__links_in_group_log": lambda v, X, n, r: f"sitewide/template link repeated {_fmt_count(v)} times" if v >= 0.5 else "",
    "placement__link_type": lambda v, X, n, r: f"{LINK_TYPES[int(v)]} link" if v >= 1 else "",
    "placement__qualified": lambda v, X, n, r: "followed link: no nofollow, ugc or sponsored" if v == 0 else "",
    "placement__nofollow": lambda v, X, n, r: "followed link: no nofollow" if v == 0 else "",
    "placement__sponsored": lambda v, X, n, r: "not marked rel=sponsored" if v == 0 else "",
    "placement__ugc": lambda v, X, n, r: "",
    "placement__cue_comment": lambda v, X, n, r: "comment or forum-signature link" if v else "",
    "placement__cue_paid": lambda v, X, n, r: "page says sponsored/guest post" if v else "",
    "placement__cue_partners": lambda v, X, n, r: "links/partners page (link exchange pattern)" if v else "",
    "placement__cue_footer": lambda v, X, n, r: "footer or credit link ('powered by', ©)" if v else "",
    "placement__url_directory": lambda v, X, n, r: "directory or bookmark page" if v else "",
    "placement__url_profile": lambda v, X, n, r: "user profile page" if v else "",
    "placement__region": lambda v, X, n, r: f"link in the page's {REGIONS[int(v)]}" if v >= 1 else "",
    "topic__similarity": _topic_phrase,
    "topic__source_money_words": lambda v, X, n, r: "source page is about gambling, adult, pharma or other money niches" if v else "",
    "topic__source_topic_words": lambda v, X, n, r: "",
    "domain__in_spam_list": lambda v, X, n, r: "site is on public spam/disavow lists" if v else "",
    # Log-odds 1.5: the name is more like the spam lists' names than like popular sites' (~4.5 to 1).
    "domain__name_spam_score": lambda v, X, n, r: "site's name looks like the names on spam lists" if v >= 1.5 else "",
    "domain__outbound_links_log": lambda v, X, n, r: f"page links out {_fmt_count(v)} times" if v >= 1.5 else "",
    "domain__linked_domains_log": lambda v, X, n, r: f"site links out to {_fmt_count(v)} domains (link-farm pattern)" if v >= 2.5 else "",
    "domain__traffic_log": lambda v, X, n, r: "source site has no organic traffic" if v < 1 else "",
    "domain__traffic_per_refdomain": lambda v, X, n, r: "authority without traffic" if v < 0.5 else "",
    "domain__authority": lambda v, X, n, r: f"low-authority source ({v:.0f}/100)" if v < 15 else f"authority {v:.0f}/100 with other red flags",
    "domain__page_authority": lambda v, X, n, r: "",
    "domain__trust_ratio": lambda v, X, n, r: f"low trust for its citation flow (TF/CF {v:.2f})" if v < 0.5 else "",
    "domain__tool_spam": lambda v, X, n, r: "the export tool flags it as spam" if v >= 0.5 else "",
    "domain__http_error": lambda v, X, n, r: "source page returns an HTTP error" if v else "",
    "domain__keyword_count": lambda v, X, n, r: f"keyword-stuffed domain name ({r.get('source_site')})" if v >= 2 else "",
    "domain__money_word": lambda v, X, n, r: f"money word in the domain name ({r.get('source_site')})" if v else "",
    # "Often" means most: three in four of the training links from the TLD were toxic (smoothed
    # towards the overall rate); 0.5 would call .net (0.50 in the seed data) a spam TLD.
    "domain__tld_spam_rate": lambda v, X, n, r: f".{r.get('source_suffix')} sites are often spam" if v >= 0.75 else "",
    "domain__is_platform_site": lambda v, X, n, r: f"free-hosting site on {r.get('source_platform')}" if v else "",
    "domain__hyphen_count": lambda v, X, n, r: "hyphenated keyword domain" if v >= 2 else "",
    "domain__digit_ratio": lambda v, X, n, r: "digits in the domain name" if v > 0.2 else "",
    "domain__char_entropy": lambda v, X, n, r: "random-looking domain name" if v > 3.6 else "",
    "domain__is_ip": lambda v, X, n, r: "source is a bare IP address" if v else "",
    "domain__subdomain_depth": lambda v, X, n, r: "deep subdomain" if v >= 2 else "",
    "profile__site_links_log": lambda v, X, n, r: f"{_fmt_count(v)} links from this site" if v >= 0.7 else "",
    "profile__site_pages_log": lambda v, X, n, r: f"{_fmt_count(v)} pages of this site link to you" if v >= 0.7 else "",
    "profile__site_targets": lambda v, X, n, r: f"site links to {v:.0f} different targets in this export" if v >= 2 else "",
    "profile__site_money_share": lambda v, X, n, r: f"{v:.0%} of this site's links use money anchors" if v >= 0.3 else "",
    "profile__site_sitewide_share": lambda v, X, n, r: "this site's links are sitewide" if v >= 0.5 else "",
    "profile__velocity_ratio": lambda v, X, n, r: f"part of a link burst ({v:.0f}× the usual new sites that week)" if v >= 3 else "",
}
