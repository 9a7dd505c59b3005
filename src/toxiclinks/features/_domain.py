"""domain__ features: traits of the referring site, its metrics, and the reference lists."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..urls import is_ip_address
from ._plain import NAN, number
from ._text import entropies, first_rows, name_keywords, name_keywords_one

if TYPE_CHECKING:  # annotations only: the pipeline imports this module
    from ._pipeline import LinkFeatures

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
    "domain__name_spam_score": "log-odds that the site's name is a spam name, from a character model "
                               "of the real spam and popular domain lists",
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


#: The features that depend on the source host alone (the first of :data:`FEATURES`; the rest
#: are the export's own metrics).
HOST_FEATURES = tuple(FEATURES)[:14]
_N_HOST = len(HOST_FEATURES)


def _host_table(hosts: np.ndarray, site: np.ndarray, suffix: np.ndarray, platform: np.ndarray,
                registered: np.ndarray, state: LinkFeatures) -> np.ndarray:
    """Host-only features for distinct hosts, in FEATURES order (vectorised over hosts).

    Each host comes with its site, suffix, platform and registered domain ("" for none), as the
    reader split them.
    """
    n = len(hosts)
    if n <= _FEW_HOSTS:
        table = np.array([host_traits(*parts, state) for parts in zip(hosts, site, suffix, platform, registered,
                                                                       strict=True)], dtype=np.float64)
        return np.vstack([table.reshape(n, _N_HOST), np.full((1, _N_HOST), np.nan)])
    on_platform = platform != ""
    base = np.where(on_platform & (site != platform), platform, suffix)
    # The site's name without the suffix (or platform): C-level maps, no Python loop per host.
    names = map(str.removesuffix, site, np.where(base != "", "." + base, ""))
    bare = list(map(str.replace, names, repeat("."), repeat("")))
    host_arr, site_arr = pa.array(hosts, type=pa.large_string()), pa.array(site, type=pa.large_string())
    host_dots = pc.count_substring(host_arr, ".").to_numpy(zero_copy_only=False)
    site_dots = pc.count_substring(site_arr, ".").to_numpy(zero_copy_only=False)
    depth = np.where(_mapped(str.endswith, hosts, bool, site), host_dots - site_dots, 0)
    suffix_id, suffixes = pd.factorize(suffix)
    tld = np.array([state.tld_rate(t) for t in suffixes], dtype=float)[suffix_id] if n else np.zeros(0)
    # Plain set/dict lookups mapped over the names: Arrow's is_in and pandas' get_indexer build
    # or probe a hash table of the large lists, slower for every batch size. A platform's own
    # registered domain says nothing about its users' sites.
    spam, popular = state.spam_domains_, state.popular_ranks_
    in_spam = _mapped(spam.__contains__, site, bool) | _mapped(spam.__contains__, hosts, bool) \
        | (~on_platform & _mapped(spam.__contains__, registered, bool))
    rank = _mapped(popular.get, site, float, repeat(np.nan))
    rank = np.log10(np.where(np.isnan(rank) & ~on_platform, _mapped(popular.get, registered, float, repeat(np.nan)), rank))
    maybe_ip = np.flatnonzero(pc.match_substring_regex(host_arr, r"^\[|[0-9]$").to_numpy(zero_copy_only=False))
    is_ip = np.zeros(n, dtype=bool)
    is_ip[maybe_ip] = [is_ip_address(h) for h in hosts[maybe_ip]]
    bare_arr = pa.array(bare, type=pa.large_string())
    lengths = pc.utf8_length(bare_arr).to_numpy(zero_copy_only=False).astype(np.float64)
    digits = pc.count_substring_regex(bare_arr, "[0-9]").to_numpy(zero_copy_only=False)
    hyphens = pc.count_substring(bare_arr, "-").to_numpy(zero_copy_only=False)
    keywords, money = name_keywords(bare_arr)
    puny = pc.match_substring(host_arr, "xn--").to_numpy(zero_copy_only=False)
    name_score = np.where(is_ip | (site == ""), np.nan, state.name_model_.score(list(site)))
    table = np.column_stack([
        tld, depth, lengths, digits / np.maximum(lengths, 1), hyphens, entropies(bare), keywords, money,
        on_platform, is_ip, puny, in_spam, rank, name_score,
    ]).astype(np.float64)
    return np.vstack([table, np.full((1, _N_HOST), np.nan)]) if n else np.full((1, _N_HOST), np.nan)


_FEW_HOSTS = 8  # up to this many hosts (a live request), one host at a time is faster than Arrow
_MAYBE_IP = re.compile(r"^\[|[0-9]$")


def host_traits(host: str, site: str, suffix: str, platform: str, registered: str,
                state: LinkFeatures) -> list[float]:
    """The host-only features of one host, as :func:`_host_table` computes them for many."""
    on_platform = platform != ""
    base = platform if on_platform and site != platform else suffix
    bare = site.removesuffix("." + base if base else "").replace(".", "")
    spam, popular = state.spam_domains_, state.popular_ranks_
    rank = popular.get(site, np.nan)
    if np.isnan(rank) and not on_platform:
        rank = popular.get(registered, np.nan)
    length = float(len(bare))
    keywords, money = name_keywords_one(bare)
    is_ip = bool(_MAYBE_IP.search(host)) and is_ip_address(host)
    return [
        state.tld_rate(suffix), host.count(".") - site.count(".") if host.endswith(site) else 0, length,
        sum(c in "0123456789" for c in bare) / max(length, 1), bare.count("-"), float(entropies([bare])[0]),
        keywords, money, on_platform, is_ip, "xn--" in host,
        site in spam or host in spam or (not on_platform and registered in spam), np.log10(rank),
        np.nan if is_ip or not site else float(state.name_model_.score([site])[0]),
    ]


def _mapped(fn: Callable[..., Any], names: np.ndarray, dtype: type, *more: Iterable[Any]) -> np.ndarray:
    """``fn`` of each name (and its values in ``more``), as a numpy array of ``dtype``."""
    return np.fromiter(map(fn, names, *more), dtype=dtype, count=len(names))


class HostMemo:
    """Host traits already computed in earlier chunks of one batch, so a streamed audit computes
    each distinct host once, not once per chunk it appears in.

    A host's traits depend on the host alone (its site, suffix, platform and registered domain
    are split from it), so a row computed for one chunk holds for every other. Bounded: past
    :data:`MEMO_HOSTS` hosts, new ones are computed but not kept.
    """

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.table = np.empty((0, _N_HOST), dtype=np.float64)

    def lookup(self, hosts: np.ndarray) -> np.ndarray:
        """Each host's row of :attr:`table`, -1 for hosts not computed yet."""
        return np.fromiter(map(self.rows.get, hosts, repeat(-1)), dtype=np.int64, count=len(hosts))

    def keep(self, hosts: np.ndarray, table: np.ndarray) -> None:
        """Remember the traits of new ``hosts`` (rows of ``table``), while there is room."""
        room = MEMO_HOSTS - len(self.rows)
        if room <= 0:
            return
        hosts, table = hosts[:room], table[:room]
        self.rows.update(zip(hosts, range(len(self.table), len(self.table) + len(hosts)), strict=True))
        self.table = np.concatenate([self.table, table])


#: At most this many hosts' traits are kept by a :class:`HostMemo` (~200 bytes each with its key).
MEMO_HOSTS = 300_000


def compute(links: pd.DataFrame, state: LinkFeatures, memo: HostMemo | None = None) -> dict[str, np.ndarray]:
    """Traits of each link's source host, computed once per distinct host (see :func:`metrics`
    for the rest of the family); with a ``memo``, once per distinct host of the whole batch."""
    codes, hosts = pd.factorize(links["source_host"], use_na_sentinel=True)
    hosts = np.asarray(hosts, dtype=object)
    known = memo.lookup(hosts) if memo is not None else np.full(len(hosts), -1)
    new = np.flatnonzero(known < 0)
    first = first_rows(codes, len(hosts))[new]
    parts = (links[c].iloc[first].fillna("").to_numpy(dtype=object)
             for c in ("source_site", "source_suffix", "source_platform", "source_domain"))
    computed = _host_table(hosts[new], *parts, state)  # last row: no host
    if memo is not None and len(new) < len(hosts):
        per_host = np.vstack([memo.table[known[known >= 0]], computed])
        order = np.empty(len(hosts), dtype=np.int64)  # each host's row of ``per_host``
        order[known >= 0] = np.arange(len(hosts) - len(new))
        order[new] = np.arange(len(new)) + len(hosts) - len(new)
        per_host = per_host[np.append(order, len(per_host) - 1)]
    else:
        per_host = computed
    if memo is not None and len(new):
        memo.keep(hosts[new], computed[:-1])
    idx = np.where(codes < 0, len(hosts), codes)
    columns = np.ascontiguousarray(per_host.T)  # a contiguous row per feature: faster gathers
    return {name: column[idx] for column, name in zip(columns, HOST_FEATURES, strict=False)}


def compute_one(link: Mapping[str, Any], state: LinkFeatures) -> dict[str, float]:
    """:func:`compute` and :func:`metrics` for one link's plain values (``None`` when missing).

    ``link`` carries the host columns the reader adds (``source_host``, ``source_site``, …), as a
    live request's values do; ``state`` is the fitted :class:`~toxiclinks.features.LinkFeatures`.
    """
    host = link.get("source_host")
    if host is None:
        values = dict.fromkeys(HOST_FEATURES, NAN)
    else:
        parts = (link.get(f"source_{f}") or "" for f in ("site", "suffix", "platform", "domain"))
        values = dict(zip(HOST_FEATURES, map(float, host_traits(host, *parts, state)), strict=True))
    values.update({k: float(v[0]) for k, v in metrics_of(lambda name: np.array([number(link.get(name))])).items()})
    return values


def metrics(links: pd.DataFrame) -> dict[str, np.ndarray]:
    """The export's own metrics of each source, and ratios between them (vectorised over rows)."""
    return metrics_of(lambda name: links[name].to_numpy(dtype=np.float64, na_value=np.nan))


def metrics_of(col: Callable[[str], np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`metrics` from ``col(name)``, a canonical column as float64 (NaN when missing)."""
    out = {}
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
    flag = col("tool_spam_flag")
    score = col("tool_spam_score") / 100.0
    out["domain__tool_spam"] = np.where(np.isnan(score), flag, score)
    http = col("http_code")
    out["domain__http_error"] = np.where(np.isnan(http), np.nan, (http >= 400).astype(float))
    return out
