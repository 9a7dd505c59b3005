"""URLs and hosts, offline: normalisation, host splitting, and sites as lists name them.

Every URL that enters toxiclinks passes through :func:`normalize_url` (or its batch forms
:func:`normalize_url_series` and :func:`normalize_urls`). Hosts are split with tldextract's
bundled Public Suffix List into the registered domain and the *site*, the unit a disavow
``domain:`` line should name (on platforms such as blogspot.com, the user's subdomain);
:func:`is_ip_address` and :func:`no_known_suffix` are the one IP test and the one rule for hosts
that cannot be used. Allow/deny and disavow entries become sites with :func:`site_entry`.
"""

from __future__ import annotations

from ._arrow import arrow_strings, mostly_repeats
from ._hosts import (
    UNKNOWN_SUFFIX,
    HostParts,
    host_table,
    is_ip_address,
    load_suffix_list,
    no_known_suffix,
    no_known_suffixes,
    split_host,
    split_hosts,
    split_hosts_arrow,
)
from ._normalize import (
    URLError,
    host_of,
    normalize_host,
    normalize_url,
    normalize_url_series,
    normalize_urls,
    url_hosts,
)
from ._sites import platforms, site_entries, site_entry, under_sites

__all__ = [
    "UNKNOWN_SUFFIX", "HostParts", "URLError", "arrow_strings",
    "host_of", "host_table", "is_ip_address", "load_suffix_list", "mostly_repeats", "no_known_suffix",
    "no_known_suffixes", "normalize_host", "normalize_url", "normalize_url_series", "normalize_urls", "platforms",
    "site_entries", "site_entry", "split_host", "split_hosts", "split_hosts_arrow", "under_sites", "url_hosts",
]
