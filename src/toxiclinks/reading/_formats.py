"""The backlink export formats toxiclinks reads, described as data.

Each :class:`Format` says which header names identify it and which column feeds each canonical
field (see :mod:`toxiclinks.schema`). Header names are compared after :func:`header_key`
(lower case, ``_`` as space, quotes/BOM/extra spaces removed), so the same entry matches the
UI export, the API's underscore names and a file re-saved by Excel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


def header_key(name: str) -> str:
    """Normalise a header cell for matching: ``'\\ufeff"Source_URL" '`` → ``'source url'``."""
    name = name.replace("\ufeff", "").strip().strip('"').strip()
    return re.sub(r"[\s_]+", " ", name).lower()


@dataclass(frozen=True)
class Format:
    """One export format: how to recognise it and how its columns map to the canonical schema."""

    name: str
    label: str
    #: every group must have one of its names in the header
    required: tuple[tuple[str, ...], ...]
    #: canonical field -> header names (any one), in order of preference
    columns: dict[str, tuple[str, ...]]
    #: columns read as flags for link_type: header name -> link type it marks
    type_flags: dict[str, str] = field(default_factory=dict)
    #: whether an empty flag cell means "no" (Majestic) rather than "unknown"
    empty_flag_is_false: bool = False
    #: whether source values are domains, not page URLs (GSC top linking sites, Bing domains)
    source_is_domain: bool = False


AHREFS = Format(
    name="ahrefs",
    label="Ahrefs Site Explorer backlinks (current 37 columns, older sets, UTF-8 or UTF-16 for Excel)",
    required=(("referring page url", "referring page", "url from"), ("target url", "link url", "url to")),
    columns={
        "source_url": ("referring page url", "referring page", "url from"),
        "target_url": ("target url", "link url", "url to"),
        "anchor": ("anchor", "link anchor", "anchor text"),
        "left_context": ("left context", "textpre", "text pre"),
        "right_context": ("right context", "textpost", "text post"),
        "source_title": ("referring page title", "title"),
        "language": ("language",),
        "platform": ("platform",),
        "http_code": ("referring page http code", "http code"),
        "domain_rating": ("domain rating", "dr"),
        "url_rating": ("ur", "url rating", "url rating (desc)"),
        "domain_traffic": ("domain traffic",),
        "page_traffic": ("page traffic", "traffic"),
        "source_referring_domains": ("referring domains",),
        "linked_domains": ("linked domains",),
        "external_links": ("external links", "external links count"),
        "internal_links": ("internal links", "internal links count"),
        "tool_spam_flag": ("is spam",),
        "in_content": ("content",),
        "nofollow": ("nofollow",),
        "ugc": ("ugc",),
        "sponsored": ("sponsored",),
        "links_in_group": ("links in group",),
        "first_seen": ("first seen",),
        "last_seen": ("last seen", "last check", "last visited"),
        "lost": ("lost", "lost status"),
        "page_type": ("page type",),
        "link_type": ("type",),
        "redirect_chain": ("redirect chain urls", "redirect chain"),
    },
)

SEMRUSH = Format(
    name="semrush",
    label="Semrush Backlink Analytics backlinks (current 19 columns and the older set)",
    required=(("source url",), ("target url",), ("page ascore", "page score", "page trust score")),
    columns={
        "source_url": ("source url",),
        "target_url": ("target url",),
        "anchor": ("anchor",),
        "source_title": ("source title",),
        "authority_score": ("page ascore", "page score"),
        "external_links": ("external links",),
        "internal_links": ("internal links",),
        "nofollow": ("nofollow",),
        "sponsored": ("sponsored",),
        "ugc": ("ugc",),
        "sitewide": ("sitewide",),
        "first_seen": ("first seen",),
        "last_seen": ("last seen",),
        "lost": ("lost link",),
    },
    type_flags={"text": "text", "frame": "frame", "form": "form", "image": "image"},
)

SEMRUSH_AUDIT = Format(
    name="semrush_audit",
    label="Semrush Backlink Audit",
    required=(("source url",), ("target url",), ("toxicity score", "toxic score")),
    columns={
        "source_url": ("source url",),
        "target_url": ("target url",),
        "anchor": ("anchor",),
        "source_title": ("source title",),
        "tool_spam_score": ("toxicity score", "toxic score"),
        "first_seen": ("first seen",),
        "last_seen": ("last seen",),
        "nofollow": ("nofollow",),
    },
)

_GSC_LINKING_PAGE = ("linking page", "página de enlace", "verweisende seite", "page à l'origine du lien",
                     "page d'origine du lien", "pagina di collegamento", "pagina met link")
GSC_LATEST = Format(
    name="gsc_latest",
    label="Google Search Console Links: Latest links",
    required=(_GSC_LINKING_PAGE, ("last crawled", "último rastreo", "zuletzt gecrawlt",
                                  "dernière exploration", "ultima scansione")),
    columns={"source_url": _GSC_LINKING_PAGE,
             "last_seen": ("last crawled", "último rastreo", "zuletzt gecrawlt",
                           "dernière exploration", "ultima scansione")},
)
GSC_SAMPLE = Format(
    name="gsc_sample",
    label="Google Search Console Links: More sample links",
    required=(_GSC_LINKING_PAGE,),
    columns={"source_url": _GSC_LINKING_PAGE},
)
GSC_SITES = Format(
    name="gsc_sites",
    label="Google Search Console Links: Top linking sites",
    required=(("site", "sitio", "website"), ("linking pages", "páginas de enlace", "verweisende seiten")),
    columns={"source_url": ("site", "sitio", "website"),
             "linking_pages": ("linking pages", "páginas de enlace", "verweisende seiten")},
    source_is_domain=True,
)

MAJESTIC = Format(
    name="majestic",
    label="Majestic Site Explorer backlinks (Fresh or Historic, UI or API names)",
    required=(("source url", "sourceurl"), ("target url", "targeturl"),
              ("flagnofollow", "sourcetrustflow", "source trust flow")),
    columns={
        "source_url": ("source url", "sourceurl"),
        "target_url": ("target url", "targeturl"),
        "anchor": ("anchor text", "anchortext"),
        "nofollow": ("flagnofollow",),
        "first_seen": ("source first found date", "firstindexeddate"),
        "last_seen": ("source crawl date", "lastseendate"),
        "trust_flow": ("sourcetrustflow", "source trust flow"),
        "citation_flow": ("sourcecitationflow", "source citation flow"),
        "lost": ("flagdeleted",),
        "source_title": ("sourcetitle",),
    },
    type_flags={"flagimagelink": "image", "flagredirect": "redirect", "flagframe": "frame",
                "flagmention": "mention"},
    empty_flag_is_false=True,
)

MOZ = Format(
    name="moz",
    label="Moz Link Explorer inbound links (with its preamble)",
    required=(("url",), ("target url",), ("spam score", "domain authority", "page authority")),
    columns={
        "source_url": ("url",),
        "target_url": ("target url",),
        "anchor": ("anchor text",),
        "source_title": ("title",),
        "tool_spam_score": ("spam score",),
        "page_authority": ("page authority", "pa"),
        "domain_authority": ("domain authority", "da"),
        "source_referring_domains": ("number of domains linking to domain",),
        "nofollow": ("only rel=nofollow",),
    },
    type_flags={"301": "redirect"},
)

BING = Format(
    name="bing",
    label="Bing Webmaster Tools backlinks (links from a referring domain)",
    required=(("source url",), ("anchor text",), ("target url",)),
    columns={"source_url": ("source url",), "anchor": ("anchor text",), "target_url": ("target url",)},
)
BING_DOMAINS = Format(
    name="bing_domains",
    label="Bing Webmaster Tools referring domains",
    required=(("domain",), ("backlinks count",)),
    columns={"source_url": ("domain",), "linking_pages": ("backlinks count",)},
    source_is_domain=True,
)

URL_LIST = Format(
    name="url_list",
    label="plain list of URLs or domains, one per line, no header",
    required=(),
    columns={"source_url": ()},
)

#: Checked in this order; the most specific format that matches wins.
FORMATS: tuple[Format, ...] = (AHREFS, SEMRUSH_AUDIT, SEMRUSH, MAJESTIC, MOZ, BING, BING_DOMAINS,
                               GSC_LATEST, GSC_SITES, GSC_SAMPLE, URL_LIST)
BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def match(header: list[str]) -> tuple[Format, dict[str, str]] | None:
    """Return the format whose required columns ``header`` has, with canonical → header mapping."""
    keys = {header_key(h): h for h in header}
    best: tuple[int, Format, dict[str, str]] | None = None
    for fmt in FORMATS:
        if not fmt.required or not all(any(n in keys for n in group) for group in fmt.required):
            continue
        mapping = map_columns(fmt, header)
        score = len(mapping) + 2 * len(fmt.required)
        if best is None or score > best[0]:
            best = (score, fmt, mapping)
    return (best[1], best[2]) if best else None


def map_columns(fmt: Format, header: list[str]) -> dict[str, str]:
    """Canonical field → the header cell that feeds it, for the columns ``header`` has."""
    keys = {header_key(h): h for h in header}
    mapping = {}
    for canonical, names in fmt.columns.items():
        for n in names:
            if n in keys:
                mapping[canonical] = keys[n]
                break
    for flag in fmt.type_flags:
        if flag in keys:
            mapping[f"flag:{flag}"] = keys[flag]
    return mapping
