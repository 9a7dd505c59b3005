"""domain__ features: traits of the referring site, its metrics, and the reference lists."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..urls import split_host
from .text import entropy, money_category, split_compound

FEATURES: dict[str, str] = {
    "domain__tld_spam_rate": "toxic share of links from this TLD in the training data (smoothed)",
    "domain__subdomain_depth": "labels between the host and its site (www counts)",
    "domain__name_length": "characters in the site's name, without the suffix",
    "domain__digit_ratio": "share of digits in the site's name",
    "domain__hyphen_count": "hyphens in the site's name",
    "domain__char_entropy": "character entropy of the site's name (random-looking names score high)",
    "domain__keyword_count": "known keywords packed into the name (best-cheap-seo-links: 4)",
    "domain__money_word": "the name contains a money-niche word (casino, viagra, loan, …)",
    "domain__is_platform_site": "the site is a subdomain of a hosting platform (blogspot, github.io, …)",
    "domain__is_ip": "the host is a bare IP address",
    "domain__is_punycode": "the host is an internationalised (punycode) name",
    "domain__in_spam_list": "the site is on a public spam or community disavow list",
    "domain__popular_rank_log": "log10 rank in the popular-domain lists (missing when not listed)",
    "domain__authority": "source authority 0-100 (Ahrefs DR, Moz DA, Majestic TF or Semrush AS)",
    "domain__page_authority": "source page authority 0-100 (Ahrefs UR or Moz PA)",
    "domain__trust_ratio": "Majestic Trust Flow / Citation Flow (low = links without trust)",
    "domain__traffic_log": "log10 of the source domain's estimated organic traffic",
    "domain__traffic_per_refdomain": "log10 traffic per referring domain (high authority, no traffic: link farm)",
    "domain__linked_domains_log": "log10 distinct domains the source site links out to",
    "domain__outbound_links_log": "log10 external links on the source page",
    "domain__tool_spam": "the export tool's own spam flag or score, scaled 0-1",
    "domain__http_error": "the source page answered with an HTTP error",
}


_N_HOST = 13  # the first 13 features depend on the host alone


def _host_traits(host: str, state) -> tuple[float, ...]:
    """The host-only features of one host, in FEATURES order."""
    parts = split_host(host)
    name = parts.site[: -len(parts.suffix) - 1] if parts.suffix else parts.site
    if parts.platform:
        name = parts.site[: -len(parts.platform) - 1]
    bare = name.replace(".", "")
    words = split_compound(bare)
    spam = state.spam_domains_
    in_spam = parts.site in spam or host in spam or (
        not parts.platform and parts.registered_domain in spam)
    rank = state.popular_ranks_.get(parts.site) or (
        None if parts.platform else state.popular_ranks_.get(parts.registered_domain))
    return (
        state.tld_rate(parts.suffix),
        parts.subdomain.count(".") + 1 if parts.subdomain else 0,
        len(bare),
        sum(c.isdigit() for c in bare) / max(1, len(bare)),
        name.count("-"),
        entropy(bare),
        len(words),
        any(money_category(w) >= 0 for w in words),
        bool(parts.platform),
        parts.is_ip,
        "xn--" in host,
        in_spam,
        math.log10(rank) if rank else np.nan,
    )


def compute(links: pd.DataFrame, state) -> dict[str, np.ndarray]:
    """Per-site traits once per distinct host, metrics vectorised over rows."""
    codes, hosts = pd.factorize(links["source_host"], use_na_sentinel=True)
    per_host = np.full((len(hosts) + 1, _N_HOST), np.nan, dtype=np.float64)  # last row: no host
    for i, host in enumerate(hosts):
        per_host[i] = _host_traits(host, state)
    idx = np.where(codes < 0, len(hosts), codes)
    out = {name: per_host[idx, j] for j, name in enumerate(list(FEATURES)[:_N_HOST])}

    def col(name: str) -> np.ndarray:
        return links[name].to_numpy(dtype=np.float64, na_value=np.nan)

    authority = col("domain_rating")
    for other in ("domain_authority", "trust_flow", "authority_score"):
        authority = np.where(np.isnan(authority), col(other), authority)
    out["domain__authority"] = authority
    page = col("url_rating")
    out["domain__page_authority"] = np.where(np.isnan(page), col("page_authority"), page)
    cf = col("citation_flow")
    out["domain__trust_ratio"] = np.where(cf > 0, col("trust_flow") / np.where(cf > 0, cf, 1), np.nan)
    traffic = col("domain_traffic")
    out["domain__traffic_log"] = np.log10(traffic + 1)
    out["domain__traffic_per_refdomain"] = np.log10(traffic + 1) - np.log10(col("source_referring_domains") + 1)
    out["domain__linked_domains_log"] = np.log10(col("linked_domains") + 1)
    out["domain__outbound_links_log"] = np.log10(col("external_links") + 1)
    flag = links["tool_spam_flag"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    score = col("tool_spam_score") / 100.0
    out["domain__tool_spam"] = np.where(np.isnan(score), flag, score)
    http = col("http_code")
    out["domain__http_error"] = np.where(np.isnan(http), np.nan, (http >= 400).astype(float))
    return out
