"""placement__ features: where on the page the link sits, how it is marked, what surrounds it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._plain import NAN, number
from ._text import arrow_text

if TYPE_CHECKING:  # annotations only: the pipeline imports this module
    from ._pipeline import LinkFeatures

FEATURES: dict[str, str] = {
    "placement__in_content": "the export says the link is in the page's main content",
    "placement__sitewide": "the export marks the link as sitewide (template link)",
    "placement__links_in_group_log": "log10 of identical links grouped into this one (sitewide repeats)",
    "placement__link_type": "link type: 0 text, 1 image, 2 redirect, 3 frame, 4 form, 5 mention",
    "placement__nofollow": 'rel="nofollow"',
    "placement__ugc": 'rel="ugc"',
    "placement__sponsored": 'rel="sponsored"',
    "placement__qualified": "any of nofollow, ugc or sponsored: the link passes no credit",
    "placement__region": "page region from saved HTML: 0 body/main, 1 header, 2 nav, 3 sidebar, "
                         "4 footer, 5 comments, 6 author box",
    "placement__cue_comment": "surrounding text or URL looks like a comment, forum post or signature",
    "placement__cue_paid": "surrounding text mentions sponsored, advertorial, paid or guest post",
    "placement__cue_partners": "the link sits in a partners, links, resources or blogroll list",
    "placement__cue_footer": "surrounding text looks like a footer or credit line (©, powered by)",
    "placement__url_directory": "the source URL or title looks like a directory or bookmark site",
    "placement__url_profile": "the source URL is a user profile or member page",
    "placement__url_depth": "path depth of the source URL",
}
LINK_TYPES = ("text", "image", "redirect", "frame", "form", "mention")
REGIONS = ("body", "header", "nav", "sidebar", "footer", "comments", "author")
Cue = TypeVar("Cue", np.ndarray, float)  # one cue's values: an array for a batch, a number for one link

_COMMENT = (r"(?:\bsays:|\bwrote:|\breply\b|\breplies\b|\bcomments?\b|\bposted by\b|\bquote\b|"
            r"\bsignature\b|\bjoined:|\bposts:|\breputation\b|#comment|replytocom|comment-page|"
            r"/comments?/|showthread|viewtopic|/threads?/|/topic/|/forum)")
_PAID = (r"(?:sponsor|advertorial|\bpaid\b|\bpromoted\b|guest post|guest-post|write for us|"
         r"write-for-us|submit (?:a )?guest|\bpr\b|press release|partner content|\bad\b|\bads\b)")
_PARTNERS = r"(?:\bpartners?\b|\blinks\b|\bresources\b|\bblogroll\b|\bfriends\b|link exchange|useful links)"
_URL_PARTNERS = r"(?:/partners?|/links|/resources|/blogroll)"
_FOOTER = (r"(?:©|\(c\) ?\d{4}|copyright|all rights reserved|powered by|designed by|"
           r"theme by|developed by|web design by|website by)")
_DIRECTORY = (r"(?:directory|directories|bookmark|submit[-_ ]?(?:url|site|link)|add[-_ ]?url|"
              r"link[-_ ]?list|links?\.php|/dir/|webcatalog|catalog|listings?\b|free[-_ ]?links)")
_PROFILE = r"(?:/users?/|/members?/|/profiles?/|/author/|/u/|member\.php|profile\.php|/people/|/@)"
# The cues looked for in each text, in the order :func:`cue_features` takes their values.
_CONTEXT_CUES = (_COMMENT, _PAID, _PARTNERS, _FOOTER)  # the text around the link
_URL_CUES = (_COMMENT, _URL_PARTNERS, _PROFILE)  # the source URL
_URL_TITLE_CUES = (_PAID, _DIRECTORY)  # the source URL and title, joined
_COMPILED = {p: re.compile(p) for p in {*_CONTEXT_CUES, *_URL_CUES, *_URL_TITLE_CUES}}
_SCHEME = r"^[a-z]+://"  # the scheme's two slashes are no path level
_SCHEME_RE = re.compile(_SCHEME)


def _flag(series: pd.Series) -> np.ndarray:
    """A nullable boolean column as 1.0/0.0/NaN."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _code(series: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``names``; NaN when missing or not one of them."""
    codes, values = pd.factorize(series)
    known = {name: float(i) for i, name in enumerate(names)}
    return np.array([known.get(v, np.nan) for v in values] + [np.nan])[codes]


def _lower(text: pd.Series | pa.Array) -> pa.Array:
    """Lower-cased Arrow strings (nulls kept), so each regex runs case-sensitively in RE2."""
    return pc.utf8_lower(text if isinstance(text, pa.Array) else arrow_text(text))


def _cues(lower: pa.Array, *patterns: str) -> list[np.ndarray]:
    """Per pattern: 1.0 where it occurs, NaN where the text is missing.

    One scan for any of the patterns comes first: most texts have none of them, and only the
    others are scanned for each pattern.
    """
    missing = np.zeros(len(lower))
    missing[pc.is_null(lower).to_numpy(zero_copy_only=False)] = np.nan
    rows = np.flatnonzero(pc.match_substring_regex(lower, "|".join(patterns)).fill_null(False)
                          .to_numpy(zero_copy_only=False))
    some = lower.take(rows)
    cues = []
    for pattern in patterns:
        values = missing.copy()
        values[rows] = pc.match_substring_regex(some, pattern).to_numpy(zero_copy_only=False)
        cues.append(values)
    return cues


def compute(links: pd.DataFrame, state: LinkFeatures) -> dict[str, np.ndarray]:
    """Placement signals; unknown stays NaN."""
    nofollow, ugc, sponsored = (_flag(links[c]) for c in ("nofollow", "ugc", "sponsored"))
    known = ~(np.isnan(nofollow) & np.isnan(ugc) & np.isnan(sponsored))
    qualified = np.where(known, (np.nan_to_num(nofollow) + np.nan_to_num(ugc)
                                 + np.nan_to_num(sponsored) > 0).astype(float), np.nan)
    region = _code(links["region"], REGIONS) if "region" in links else np.full(len(links), np.nan)
    context = _lower(_join(arrow_text(links["left_context"]), arrow_text(links["right_context"])))
    url = _lower(links["source_url"])
    url_or_title = _join(url, _lower(links["source_title"]))  # lower-casing goes character by character
    cues = cue_features(_cues(context, *_CONTEXT_CUES), _cues(url, *_URL_CUES), _cues(url_or_title, *_URL_TITLE_CUES))
    slashes = pc.count_substring(url, "/").to_numpy(zero_copy_only=False).astype(np.float64)
    depth = slashes - 2 * pc.match_substring_regex(url, _SCHEME).fill_null(False).to_numpy(zero_copy_only=False) - 1
    return {
        "placement__in_content": _flag(links["in_content"]),
        "placement__sitewide": _flag(links["sitewide"]),
        "placement__links_in_group_log": np.log10(
            links["links_in_group"].to_numpy(dtype=np.float64, na_value=np.nan).clip(min=1)),
        "placement__link_type": _code(links["link_type"], LINK_TYPES),
        "placement__nofollow": nofollow,
        "placement__ugc": ugc,
        "placement__sponsored": sponsored,
        "placement__qualified": qualified,
        "placement__region": region,
        **cues,
        "placement__url_depth": depth,
    }


def cue_features(context: Sequence[Cue], url: Sequence[Cue], url_title: Sequence[Cue]) -> dict[str, Cue]:
    """The cue features from what each text showed: per cue 1.0 (found), 0.0, or NaN (no text).

    ``context`` holds the cues of the text around the link (comment, paid, partners, footer),
    ``url`` those of the source URL (comment, partners, profile) and ``url_title`` those of the
    URL and title joined (paid, directory): one array per cue for a batch, one number for one
    link. A cue seen in either of two places counts.
    """
    comment, paid, partners, footer = context
    url_comment, url_partners, profile = url
    title_paid, directory = url_title
    return {
        "placement__cue_comment": np.fmax(comment, url_comment),
        "placement__cue_paid": np.fmax(paid, title_paid),
        "placement__cue_partners": np.fmax(partners, url_partners),
        "placement__cue_footer": footer,
        "placement__url_directory": directory,
        "placement__url_profile": profile,
    }


def compute_one(link: Mapping[str, Any]) -> dict[str, float]:
    """:func:`compute` for one link's plain values (``None`` when missing): a live request."""
    nofollow, ugc, sponsored = (number(link.get(c)) for c in ("nofollow", "ugc", "sponsored"))
    flags = [f for f in (nofollow, ugc, sponsored) if not np.isnan(f)]
    url = link["source_url"]
    cues = cue_features(_text_cues(_joined(link.get("left_context"), link.get("right_context")), _CONTEXT_CUES),
                        _text_cues(url, _URL_CUES), _text_cues(_joined(url, link.get("source_title")), _URL_TITLE_CUES))
    group = number(link.get("links_in_group"))
    return {
        "placement__in_content": number(link.get("in_content")), "placement__sitewide": number(link.get("sitewide")),
        "placement__links_in_group_log": float(np.log10(np.float64(group if np.isnan(group) or group >= 1 else 1.0))),
        "placement__link_type": _code_of(link.get("link_type"), LINK_TYPES),
        "placement__nofollow": nofollow, "placement__ugc": ugc, "placement__sponsored": sponsored,
        "placement__qualified": float(sum(flags) > 0) if flags else NAN,
        "placement__region": _code_of(link.get("region"), REGIONS),
        **{name: float(value) for name, value in cues.items()},
        "placement__url_depth": url.count("/") - 2 * bool(_SCHEME_RE.match(url.lower())) - 1.0,
    }


def _joined(a: str | None, b: str | None) -> str | None:
    """:func:`_join` of two values: joined by a space, missing only when both are."""
    return None if a is None and b is None else f"{a or ''} {b or ''}"


def _text_cues(text: str | None, patterns: tuple[str, ...]) -> list[float]:
    """:func:`_cues` of one text: Python's ``re`` matches ASCII text as RE2 does."""
    if text is None:
        return [NAN] * len(patterns)
    if not text.isascii():  # Unicode case mapping and word boundaries: the batch's own Arrow code
        return [float(c[0]) for c in _cues(_lower(pa.array([text], pa.large_string())), *patterns)]
    lower = text.lower()
    return [float(_COMPILED[p].search(lower) is not None) for p in patterns]


def _code_of(value: str | None, names: tuple[str, ...]) -> float:
    """:func:`_code` of one value: its position in ``names`` (NaN when missing or unknown)."""
    return float(names.index(value)) if value in names else NAN


def _join(a: pa.Array, b: pa.Array) -> pa.Array:
    """Two text columns joined by a space; missing only where both are missing."""
    joined = pc.binary_join_element_wise(pc.fill_null(a, ""), pc.fill_null(b, ""), pa.scalar(" ", pa.large_string()))
    return pc.if_else(pc.and_(pc.is_null(a), pc.is_null(b)), pa.scalar(None, pa.large_string()), joined)
