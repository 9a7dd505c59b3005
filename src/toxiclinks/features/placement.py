"""placement__ features: where on the page the link sits, how it is marked, what surrounds it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .text import arrow_text

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


def compute(links: pd.DataFrame, state) -> dict[str, np.ndarray]:
    """Placement signals; unknown stays NaN."""
    nofollow, ugc, sponsored = (_flag(links[c]) for c in ("nofollow", "ugc", "sponsored"))
    known = ~(np.isnan(nofollow) & np.isnan(ugc) & np.isnan(sponsored))
    qualified = np.where(known, (np.nan_to_num(nofollow) + np.nan_to_num(ugc)
                                 + np.nan_to_num(sponsored) > 0).astype(float), np.nan)
    region = _code(links["region"], REGIONS) if "region" in links else np.full(len(links), np.nan)
    context = _lower(_join(arrow_text(links["left_context"]), arrow_text(links["right_context"])))
    url = _lower(links["source_url"])
    url_or_title = _join(url, _lower(links["source_title"]))  # lower-casing goes character by character
    comment, paid, partners, footer = _cues(context, _COMMENT, _PAID, _PARTNERS, _FOOTER)
    url_comment, url_partners, profile = _cues(url, _COMMENT, _URL_PARTNERS, _PROFILE)
    title_paid, directory = _cues(url_or_title, _PAID, _DIRECTORY)
    # The scheme's two slashes are no path level.
    slashes = pc.count_substring(url, "/").to_numpy(zero_copy_only=False).astype(np.float64)
    depth = slashes - 2 * pc.match_substring_regex(url, r"^[a-z]+://").fill_null(False).to_numpy(zero_copy_only=False) - 1
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
        "placement__cue_comment": np.fmax(comment, url_comment),
        "placement__cue_paid": np.fmax(paid, title_paid),
        "placement__cue_partners": np.fmax(partners, url_partners),
        "placement__cue_footer": footer,
        "placement__url_directory": directory,
        "placement__url_profile": profile,
        "placement__url_depth": depth,
    }


def _join(a: pa.Array, b: pa.Array) -> pa.Array:
    """Two text columns joined by a space; missing only where both are missing."""
    joined = pc.binary_join_element_wise(pc.fill_null(a, ""), pc.fill_null(b, ""), pa.scalar(" ", pa.large_string()))
    return pc.if_else(pc.and_(pc.is_null(a), pc.is_null(b)), pa.scalar(None, pa.large_string()), joined)
