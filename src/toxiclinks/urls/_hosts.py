"""Host splitting, offline: site, registered domain, public suffix and platform of each host.

Hosts are split with tldextract's bundled Public Suffix List (never fetched) into the registered
domain and the *site*, the unit a disavow ``domain:`` line should name: for platforms that host
many independent sites (blogspot.com, github.io, wordpress.com, …) the site is the user's
subdomain, never the platform. IP addresses are recognised here, and so is the one rule for hosts
that cannot be used at all (:func:`no_known_suffix`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import tldextract

from ._arrow import string_buffers, substrings

#: Hosting platforms whose subdomains are independent sites but that the Public Suffix List's
#: private section does not cover. The platform itself is never the site to disavow.
EXTRA_PLATFORMS = frozenset({
    "wordpress.com", "tumblr.com", "livejournal.com", "medium.com", "weebly.com", "over-blog.com",
    "jimdo.com", "jimdofree.com", "webnode.com", "ucoz.ru", "narod.ru", "tripod.com",
    "angelfire.com", "typepad.com", "substack.com", "wix.com", "site123.me", "strikingly.com",
    "hatenablog.com", "livedoor.blog", "blog.fc2.com", "fc2.com", "canalblog.com", "sites.google.com",
})


@dataclass(frozen=True, slots=True)
class HostParts:
    """A host split for scoring and disavowing."""

    host: str
    site: str  # the independent site: registered domain, or user.platform.tld on platforms
    registered_domain: str  # ICANN registered domain (blogspot.com for x.blogspot.com)
    suffix: str  # public suffix, ICANN only ("co.uk", "com")
    subdomain: str  # labels left of the site ("www", "shop.eu")
    platform: str  # hosting platform the site lives on, "" when none
    is_ip: bool


@cache
def _extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled suffix list: no download, no cache file in the user's home."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                 include_psl_private_domains=True)


def _suffix_split(host: str) -> tuple[str, str, bool, str, str]:
    """Private-aware and ICANN suffixes of ``host`` in one trie walk (tldextract's own trie)."""
    labels = host.split(".")
    try:
        found = _extractor()._get_tld_extractor().suffix_index(labels, include_psl_private_domains=True)
    except AttributeError:  # another tldextract: fall back to its public API (two lookups)
        ext = _extractor()(host)
        icann = _extractor()(host, include_psl_private_domains=False)
        return ext.suffix, ext.domain, ext.is_private, icann.suffix, icann.top_domain_under_public_suffix
    if found is None:
        return "", labels[-1], False, "", ""
    (suffix_idx, node), (reg_idx, _) = found
    suffix = ".".join(labels[suffix_idx:])
    domain = labels[suffix_idx - 1] if suffix_idx > 0 else ""
    if not node.is_private:  # wildcard and exception rules land here too
        return suffix, domain, False, suffix, f"{domain}.{suffix}" if domain and suffix else ""
    icann_suffix = ".".join(labels[reg_idx:]) if reg_idx < len(labels) else ""
    registered = ".".join(labels[reg_idx - 1:]) if 0 < reg_idx < len(labels) else ""
    return suffix, domain, True, icann_suffix, registered


@lru_cache(maxsize=100_000)
def split_host(host: str) -> HostParts:
    """Split one normalised host into site, registered domain, suffix, subdomain and platform.

    A platform host itself (sites.google.com, whose sites live in paths) is its own site and
    its own platform, so nothing ever disavows google.com for it. For many hosts at once use
    :func:`host_table` or :func:`split_hosts`.
    """
    return host_table([host])[host]


def host_table(hosts: Iterable[str]) -> dict[str, HostParts]:
    """:class:`HostParts` of each distinct host, split in one vectorised call."""
    distinct = list(dict.fromkeys(hosts))
    parts = split_hosts(distinct)
    return {h: HostParts(h, site, reg, suffix, h[: -len(site)].rstrip(".") if h.endswith(site) else "",
                         platform, bool(ip))
            for h, site, reg, suffix, platform, ip in zip(distinct, *(parts[f] for f in HOST_FIELDS), strict=True)}


HOST_FIELDS = ("site", "registered_domain", "suffix", "platform", "is_ip")


_SMALL = 512  # below this many hosts, plain Python beats vectorised calls


@dataclass(frozen=True)
class _SuffixSets:
    """The bundled Public Suffix List (and our extra platforms) as one hashed index with flags."""

    names: pa.Array  # every rule name, for Arrow's hashed lookups
    position: dict[str, int]  # the same, for small batches
    every: np.ndarray  # an ICANN or private suffix
    icann: np.ndarray  # an ICANN suffix
    wildcard_parent: np.ndarray  # "ck" for "*.ck": hosts under it need the trie walk
    extra_platform: np.ndarray  # in EXTRA_PLATFORMS
    max_labels: int


@cache
def _suffix_sets() -> _SuffixSets:
    """Suffix sets built once from tldextract's bundled list (no network)."""
    psl = _extractor()._get_tld_extractor()
    # Unicode rules only match punycode hosts, which take the trie walk anyway.
    every = {s for s in psl.tlds_incl_private if not s.startswith(("*", "!"))}
    icann = {s for s in psl.tlds_excl_private if not s.startswith(("*", "!"))}
    wild = {s[2:] for s in psl.tlds_incl_private if s.startswith("*.")}
    names = sorted(every | wild | EXTRA_PLATFORMS)
    flags = (np.array([n in group for n in names]) for group in (every, icann, wild, EXTRA_PLATFORMS))
    return _SuffixSets(pa.array(names, type=pa.string()), {n: i for i, n in enumerate(names)}, *flags,
                       max_labels=max(s.count(".") for s in psl.tlds_incl_private) + 1)


def load_suffix_list() -> None:
    """Build the suffix index now, so threads that split hosts later share one copy."""
    _suffix_sets()


class _PyHosts:
    """Hosts as Python strings: the tails of each host cut in Python (small batches)."""

    def __init__(self, hosts: np.ndarray) -> None:
        self.hosts = hosts
        self.labels = [h.split(".") for h in hosts]
        self.n_labels = np.array([len(lab) for lab in self.labels], dtype=np.int64)
        self.odd = np.array([h[-1:].isdigit() or h[:1] == "[" or "xn--" in h for h in hosts], dtype=bool)

    def host(self, i: int) -> str:
        """Host number ``i``."""
        return self.hosts[i]

    def positions(self, k: int) -> np.ndarray:
        """Index of each host's last ``k`` labels among the suffix rules (-1: none)."""
        get = _suffix_sets().position.get
        return np.array([get(".".join(lab[-k:]), -1) if len(lab) >= k else -1 for lab in self.labels],
                        dtype=np.int64)

    def pick(self, ks: np.ndarray) -> np.ndarray:
        """The last ``ks[i]`` labels of host i ("" for 0)."""
        return np.array([".".join(lab[-k:]) if k else "" for lab, k in zip(self.labels, ks, strict=True)],
                        dtype=object)


class _ArrowHosts:
    """Hosts as one Arrow array: tails cut at dot positions found with numpy (large batches)."""

    def __init__(self, hosts: pa.Array) -> None:
        self.hosts = hosts
        self.offsets, data = string_buffers(hosts)
        self.data = data
        dots = np.flatnonzero(data == ord("."))
        self.dots = dots if len(dots) else np.zeros(1, dtype=np.int64)
        # Dots of host i are dots[first[i]:end[i]]; its labels are one more than its dots.
        first = np.searchsorted(dots, self.offsets[:-1])
        self.end = np.searchsorted(dots, self.offsets[1:])
        self.n_labels = (self.end - first + 1).astype(np.int64)
        lengths = np.diff(self.offsets)
        last = data[np.maximum(self.offsets[1:] - 1, 0)] if len(data) else np.zeros(len(hosts), np.uint8)
        first_byte = data[np.minimum(self.offsets[:-1], len(data) - 1)] if len(data) else last
        self.odd = ((lengths > 0) & (((last >= ord("0")) & (last <= ord("9"))) | (first_byte == ord("[")))
                    | pc.match_substring(hosts, "xn--").to_numpy(zero_copy_only=False))
        self._tails: dict[int, pa.Array] = {}

    def host(self, i: int) -> str:
        """Host number ``i``."""
        return self.hosts[i].as_py()

    def tail(self, k: int) -> pa.Array:
        """Each host's last ``k`` labels (null when it has fewer)."""
        if k not in self._tails:
            self._tails[k] = self.pick(np.full(len(self.n_labels), k), valid=self.n_labels >= k)
        return self._tails[k]

    def positions(self, k: int) -> np.ndarray:
        """Index of each host's last ``k`` labels among the suffix rules (-1: none)."""
        deep = np.flatnonzero(self.n_labels >= k)
        if 8 * len(deep) < len(self.n_labels):  # few hosts this deep: look up only theirs
            found = np.full(len(self.n_labels), -1, dtype=np.int64)
            get = _suffix_sets().position.get
            found[deep] = [get(t, -1) for t in self.pick(np.full(len(deep), k), rows=deep).to_pylist()]
            return found
        found = pc.index_in(self.tail(k), value_set=_suffix_sets().names)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def pick(self, ks: np.ndarray, valid: np.ndarray | None = None, rows: np.ndarray | None = None,
             ) -> pa.Array:
        """The last ``ks[i]`` labels of host i ("" for 0, the whole host for all or more).

        With ``rows``, only those hosts, ``ks`` giving one count per row.
        """
        begin, stop = self.offsets[:-1], self.offsets[1:]
        end, n_labels = self.end, self.n_labels
        if rows is not None:
            begin, stop, end, n_labels = begin[rows], stop[rows], end[rows], n_labels[rows]
        cut = self.dots[np.clip(end - ks, 0, len(self.dots) - 1)] + 1
        start = np.where(ks >= n_labels, begin, np.where(ks <= 0, stop, cut))
        return substrings(self.data, start, stop, valid)


def _n_labels(name: str) -> int:
    """Number of labels in a name ("" has none)."""
    return name.count(".") + 1 if name else 0


def _split(hosts: _PyHosts | _ArrowHosts) -> dict[str, np.ndarray | pa.Array]:
    """The Public Suffix List lookup, in numbers of trailing labels, then cut once per field.

    A host's suffix is the longest run of its last labels that the list holds; site, registered
    domain and platform are runs of last labels too, so each is found as a label count first.
    """
    sets = _suffix_sets()
    n_labels = hosts.n_labels
    m = len(n_labels)
    depth = sets.max_labels + 2
    in_every = np.zeros((depth + 1, m), dtype=bool)
    in_icann = np.zeros((depth + 1, m), dtype=bool)
    extra = np.zeros((depth + 1, m), dtype=bool)
    hard = hosts.odd.copy()  # IP addresses, punycode and wildcard rules take tldextract's trie walk
    for k in range(1, depth + 1):
        if not (n_labels >= k).any():
            break
        pos = hosts.positions(k)
        found = pos >= 0
        pos = np.where(found, pos, 0)
        in_every[k], in_icann[k], extra[k] = (found & sets.every[pos], found & sets.icann[pos],
                                              found & sets.extra_platform[pos])
        hard |= found & sets.wildcard_parent[pos]
    ks = np.arange(depth + 1)[:, None]
    cols = np.arange(m)
    suffix_k = np.where(in_every, ks, 0).max(axis=0)
    icann_k = np.where(in_icann, ks, 0).max(axis=0)
    has_domain = (suffix_k > 0) & (n_labels > suffix_k)
    with_domain_k = np.where(has_domain, suffix_k + 1, 0)
    private = (suffix_k > 0) & ~in_icann[suffix_k, cols]
    icann_suffix_k = np.where(private, icann_k, suffix_k)
    registered_k = np.where(private, np.where((icann_k > 0) & (icann_k < n_labels), icann_k + 1, 0),
                            with_domain_k)
    is_ip = np.zeros(m, dtype=bool)
    for i in np.flatnonzero(hard):
        host = hosts.host(i)
        is_ip[i] = is_ip_address(host)
        suf, dom, priv, icann, reg = _suffix_split(host)
        suffix_k[i], private[i] = _n_labels(suf), priv
        icann_suffix_k[i], registered_k[i] = _n_labels(icann), _n_labels(reg)
        has_domain[i] = bool(dom and suf)
        with_domain_k[i] = suffix_k[i] + 1 if has_domain[i] else 0
    is_extra = extra[np.minimum(n_labels, depth), cols] & (n_labels <= depth)
    # A platform itself (blogspot.com, sites.google.com) is its own site and platform.
    own = is_extra | (private & ~has_domain & (suffix_k > 0))
    on_private = ~own & private & has_domain
    site_k = np.where(own, n_labels, np.where(on_private, with_domain_k, registered_k))
    site_k = np.where(site_k == 0, n_labels, site_k)
    platform_k = np.where(own, n_labels, np.where(on_private, suffix_k, 0))
    for k in (2, 3):  # the longer platform name wins: blog.fc2.com before fc2.com
        hit = ~own & ~private & (n_labels > k) & extra[k]
        platform_k = np.where(hit, k, platform_k)
        site_k = np.where(hit, k + 1, site_k)
    site_k = np.where(is_ip, n_labels, site_k)
    platform_k = np.where(is_ip, 0, platform_k)
    site = hosts.pick(site_k)
    www = (platform_k > 0) & (site_k > 1) & _starts_with_www(site)  # www.x.blogspot.com is x's site
    if www.any():
        site = hosts.pick(np.where(www, site_k - 1, site_k))
    return {"site": site,
            "registered_domain": hosts.pick(np.where(is_ip | (registered_k == 0), n_labels, registered_k)),
            "suffix": hosts.pick(np.where(is_ip, 0, icann_suffix_k)),
            "platform": hosts.pick(platform_k), "is_ip": is_ip}


def _split_one(host: str) -> tuple[str, str, str, str, bool]:
    """:func:`_split` for one host, in plain Python: (site, registered domain, suffix, platform,
    is_ip). The same rules, from tldextract's trie walk (tested equal on thousands of hosts)."""
    labels = host.split(".")
    n = len(labels)

    def last(k: int) -> str:
        return ".".join(labels[n - k:]) if k > 0 else ""

    if (host[-1:].isdigit() or host[:1] == "[") and is_ip_address(host):
        return host, host, "", "", True
    suffix, domain, private, icann_suffix, registered = _suffix_split(host)
    suffix_k, registered_k = _n_labels(suffix), _n_labels(registered)
    has_domain = bool(domain and suffix)
    with_domain_k = suffix_k + 1 if has_domain else 0
    own = host in EXTRA_PLATFORMS or (private and not has_domain and suffix_k > 0)
    on_private = not own and private and has_domain
    site_k = n if own else with_domain_k if on_private else registered_k
    site_k = site_k or n
    platform_k = n if own else suffix_k if on_private else 0
    for k in (2, 3):  # the longer platform name wins: blog.fc2.com before fc2.com
        if not own and not private and n > k and last(k) in EXTRA_PLATFORMS:
            platform_k, site_k = k, k + 1
    if platform_k > 0 and site_k > 1 and last(site_k).startswith("www."):  # www.x.blogspot.com is x's site
        site_k -= 1
    return last(site_k), last(registered_k or n), icann_suffix, last(platform_k), False


def _starts_with_www(names: np.ndarray | pa.Array) -> np.ndarray:
    """Whether each name starts with "www."."""
    if isinstance(names, pa.Array):
        return pc.starts_with(names, "www.").to_numpy(zero_copy_only=False)
    return np.array([n.startswith("www.") for n in names], dtype=bool)


def split_hosts(hosts: Iterable[str]) -> dict[str, np.ndarray]:
    """Split many normalised hosts at once; arrays named :data:`HOST_FIELDS`, in input order.

    The Public Suffix List lookup is vectorised: a host's suffix is the longest run of its last
    labels that the list holds. Hosts under wildcard or exception rules (``*.ck``) and punycode
    hosts take tldextract's trie walk, which handles those rules exactly.
    """
    host_arr = np.asarray(list(hosts) if not isinstance(hosts, np.ndarray) else hosts, dtype=object)
    if len(host_arr) == 1:  # a live request: one trie walk and a few cuts
        return {f: np.array([v], dtype=bool if f == "is_ip" else object)
                for f, v in zip(HOST_FIELDS, _split_one(host_arr[0]), strict=True)}
    if len(host_arr) < _SMALL:
        return _split(_PyHosts(host_arr))  # type: ignore[return-value]
    parts = _split(_ArrowHosts(pa.array(host_arr, type=pa.string())))
    return {f: v if isinstance(v, np.ndarray) else v.to_numpy(zero_copy_only=False) for f, v in parts.items()}


def split_hosts_arrow(hosts: pa.Array) -> dict[str, pa.Array]:
    """:func:`split_hosts` for an Arrow array of distinct hosts, answering in Arrow arrays."""
    if len(hosts) < _SMALL:
        parts = _split(_PyHosts(np.asarray(hosts.to_pylist(), dtype=object)))
    else:
        parts = _split(_ArrowHosts(hosts))
    return {f: pa.array(v) if f == "is_ip" or not isinstance(v, pa.Array) else v for f, v in parts.items()}


def is_ip_address(host: str) -> bool:
    """An IPv4 or bracketed IPv6 address."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


#: Why a link from a host that ends in no known public suffix (and is no IP address) is unusable.
UNKNOWN_SUFFIX = "host '{}' does not end in a known public suffix (TLD)"


def no_known_suffix(host: str | None, suffix: str | None) -> bool:
    """Whether ``host`` (split into public ``suffix``) is unusable: a host, no known public suffix, no IP address."""
    return host is not None and not suffix and not is_ip_address(host)


def no_known_suffixes(hosts: pd.Series, suffixes: pd.Series) -> np.ndarray:
    """:func:`no_known_suffix` of each host and its suffix (missing: none), as a boolean array."""
    unknown = np.array(hosts.notna() & suffixes.isna(), dtype=bool)
    if unknown.any():  # rare: only these hosts need the IP address check
        rows = np.flatnonzero(unknown)
        unknown[rows] = [no_known_suffix(host, None) for host in hosts.iloc[rows].tolist()]
    return unknown
