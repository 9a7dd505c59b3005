"""URL normalisation and host splitting, offline.

Every URL that enters toxiclinks passes through :func:`normalize_url`: scheme and host lower-cased,
IDN hosts in punycode, default ports and fragments dropped, spaces and non-ASCII characters in the
path percent-encoded. Hosts are split with tldextract's bundled Public Suffix List (never fetched)
into the registered domain and the *site*, the unit a disavow ``domain:`` line should name: for
platforms that host many independent sites (blogspot.com, github.io, wordpress.com, …) the site is
the user's subdomain, never the platform.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import tldextract

MAX_URL_LENGTH = 2048
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Already-canonical URLs skip the Python normaliser: lower-case http(s) host, no port,
# a path of printable ASCII without fragments, spaces or percent-escape surprises.
_CANONICAL_URL = r"^https?://[a-z0-9.-]+\.[a-z0-9-]+/[!$&'()*+,\-./0-9:;=?@A-Z_a-z~%]*$"
_OPAQUE_SCHEME_RE = re.compile(r"^(javascript|mailto|data|tel|file|about|vbscript|ftp|news|irc):", re.I)
_HOST_OK = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")
# Characters left alone when percent-encoding a path or query; '%' keeps existing escapes intact.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_DEFAULT_PORTS = {"http": "80", "https": "443"}

#: Hosting platforms whose subdomains are independent sites but that the Public Suffix List's
#: private section does not cover. The platform itself is never the site to disavow.
EXTRA_PLATFORMS = frozenset({
    "wordpress.com", "tumblr.com", "livejournal.com", "medium.com", "weebly.com", "over-blog.com",
    "jimdo.com", "jimdofree.com", "webnode.com", "ucoz.ru", "narod.ru", "tripod.com",
    "angelfire.com", "typepad.com", "substack.com", "wix.com", "site123.me", "strikingly.com",
    "hatenablog.com", "livedoor.blog", "blog.fc2.com", "fc2.com", "canalblog.com", "sites.google.com",
})


class URLError(ValueError):
    """A string that is not a usable web URL; the message says why."""


def normalize_url(raw: str, *, default_scheme: str = "http") -> str:
    """Return the canonical form of ``raw`` or raise :class:`URLError` saying why it is not a URL.

    ``example.com/a b`` → ``http://example.com/a%20b``; ``HTTPS://Bücher.de:443/#x`` →
    ``https://xn--bcher-kva.de/``.
    """
    text = raw.strip()
    if not text:
        raise URLError("empty URL")
    if len(text) > MAX_URL_LENGTH:
        raise URLError(f"URL is {len(text)} characters long (limit {MAX_URL_LENGTH})")
    if _CONTROL_RE.search(text):
        raise URLError("URL contains control characters")
    if opaque := _OPAQUE_SCHEME_RE.match(text):
        raise URLError(f"scheme {opaque.group(1).lower()!r} is not http or https")
    if text.startswith("//"):
        text = f"{default_scheme}:{text}"
    elif not _SCHEME_RE.match(text):
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise URLError(f"cannot parse URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise URLError(f"scheme {scheme!r} is not http or https")
    host = normalize_host(parts.hostname or "")
    netloc = host if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = quote(parts.path, safe=_SAFE_PATH) or "/"
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


@cache
def normalize_host(host: str) -> str:
    """Lower-case ``host``, convert IDN labels to punycode and check that it can be a web host."""
    host = host.strip().strip(".").lower()
    if not host:
        raise URLError("URL has no host")
    if host.startswith("[") or ":" in host:
        try:
            return f"[{ipaddress.IPv6Address(host.strip('[]'))}]"
        except ValueError:
            raise URLError(f"host {host!r} is not a valid IPv6 address") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise URLError(f"host {host!r} is not a valid internationalised domain name") from None
    if len(host) > 253 or not _HOST_OK.match(host):
        raise URLError(f"host {host!r} is not a valid domain name")
    if "." not in host:
        raise URLError(f"host {host!r} has no dot, so it is not a public web site")
    return host


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


def platforms(hosts: Iterable[str]) -> np.ndarray:
    """Which hosts are hosting platforms themselves (blogspot.com, sites.google.com), not sites on them."""
    hosts = np.asarray(list(hosts), dtype=object)
    return (split_hosts(hosts)["platform"] == hosts).astype(bool) if len(hosts) else np.zeros(0, dtype=bool)


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


@cache
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

    index: pd.Index  # every rule name; pandas keeps its hash table between lookups
    position: dict[str, int]  # the same, for small batches
    every: np.ndarray  # an ICANN or private suffix
    icann: np.ndarray  # an ICANN suffix
    wildcard_parent: np.ndarray  # "ck" for "*.ck": hosts under it need the trie walk
    extra_platform: np.ndarray  # in EXTRA_PLATFORMS
    max_labels: int

    def lookup(self, names: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flags (every, icann, wildcard parent, extra platform) for each name; None is in nothing."""
        if len(names) < _SMALL:  # a hash lookup per name beats pandas' per-call overhead
            pos = np.array([self.position.get(n, -1) for n in names], dtype=np.int64)
        else:
            pos = self.index.get_indexer(names)
        found = pos >= 0
        pos = np.where(found, pos, 0)
        return (found & self.every[pos], found & self.icann[pos], found & self.wildcard_parent[pos],
                found & self.extra_platform[pos])


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
    return _SuffixSets(pd.Index(names, dtype=object), {n: i for i, n in enumerate(names)}, *flags,
                       max_labels=max(s.count(".") for s in psl.tlds_incl_private) + 1)


def load_suffix_list() -> None:
    """Build the suffix index now, so threads that split hosts later share one copy."""
    _suffix_sets()


def _tails(hosts: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The last k labels of each host (tails[k, i], None when it has fewer; tails[0] = ""), label
    counts, and the hosts that may be IP addresses or punycode (they take the slow paths)."""
    tails = np.full((depth + 1, len(hosts)), None, dtype=object)
    tails[0] = ""
    if len(hosts) < _SMALL:  # Arrow's per-call overhead dominates small batches
        n_labels = np.array([h.count(".") + 1 for h in hosts], dtype=np.int64)
        odd = np.array([h[-1:].isdigit() or h[:1] == "[" or "xn--" in h for h in hosts], dtype=bool)
        for i, host in enumerate(hosts):
            labels = host.split(".")
            for k in range(1, min(depth, len(labels)) + 1):
                tails[k, i] = ".".join(labels[-k:])
        return tails, n_labels, odd
    arrow = pa.array(hosts, type=pa.string())
    n_labels = pc.count_substring(arrow, ".").to_numpy(zero_copy_only=False).astype(np.int64) + 1
    odd = pc.match_substring_regex(arrow, r"^\[|[0-9]$|xn--").to_numpy(zero_copy_only=False).astype(bool)
    for k in range(1, min(depth, int(n_labels.max())) + 1):
        tails[k] = pc.extract_regex(arrow, rf"(?P<t>(?:[^.]+\.){{{k - 1}}}[^.]+)$").field(0).to_numpy(
            zero_copy_only=False)
    return tails, n_labels, odd


def split_hosts(hosts: Iterable[str]) -> dict[str, np.ndarray]:
    """Split many normalised hosts at once; arrays named :data:`HOST_FIELDS`, in input order.

    The Public Suffix List lookup is vectorised: a host's suffix is the longest run of its last
    labels that the list holds. Hosts under wildcard or exception rules (``*.ck``) and punycode
    hosts take tldextract's trie walk, which handles those rules exactly.
    """
    host_arr = np.asarray(list(hosts) if not isinstance(hosts, np.ndarray) else hosts, dtype=object)
    m = len(host_arr)
    sets = _suffix_sets()
    depth = sets.max_labels + 2
    tails, n_labels, odd = _tails(host_arr, depth)
    in_every = np.zeros((depth + 1, m), dtype=bool)
    in_icann = np.zeros((depth + 1, m), dtype=bool)
    extra = np.zeros((depth + 1, m), dtype=bool)
    hard = odd.copy()
    for k in range(1, depth + 1):
        rows = np.flatnonzero(n_labels >= k)
        if not len(rows):
            break
        in_every[k, rows], in_icann[k, rows], wild, extra[k, rows] = sets.lookup(tails[k, rows])
        hard[rows] |= wild
    ks = np.arange(depth + 1)[:, None]
    suffix_k = np.where(in_every, ks, 0).max(axis=0)
    icann_k = np.where(in_icann, ks, 0).max(axis=0)
    cols = np.arange(m)
    suffix = tails[suffix_k, cols]
    has_domain = (suffix_k > 0) & (n_labels > suffix_k)
    with_domain = np.where(has_domain, tails[np.minimum(suffix_k + 1, depth), cols], "")
    private = (suffix_k > 0) & ~in_icann[suffix_k, cols]
    icann_suffix = np.where(private, tails[icann_k, cols], suffix)
    registered = np.where(private, np.where((icann_k > 0) & (icann_k < n_labels),
                                            tails[np.minimum(icann_k + 1, depth), cols], ""),
                          with_domain)
    is_ip = np.zeros(m, dtype=bool)
    for i in np.flatnonzero(hard):
        is_ip[i] = _is_ip(host_arr[i])
        suf, dom, priv, icann, reg = _suffix_split(host_arr[i])
        suffix[i], private[i], icann_suffix[i], registered[i] = suf, priv, icann, reg
        has_domain[i] = bool(dom and suf)
        with_domain[i] = f"{dom}.{suf}" if dom and suf else ""
    is_extra = extra[np.minimum(n_labels, depth), cols] & (n_labels <= depth)
    # A platform itself (blogspot.com, sites.google.com) is its own site and platform.
    own = is_extra | (private & ~has_domain & (suffix != ""))
    on_private = ~own & private & has_domain
    site = np.where(own, host_arr, np.where(on_private, with_domain, registered))
    site = np.where(site == "", host_arr, site)
    platform = np.where(own, host_arr, np.where(on_private, suffix, ""))
    for k in (2, 3):  # the longer platform name wins: blog.fc2.com before fc2.com
        hit = ~own & ~private & (n_labels > k) & extra[k]
        platform = np.where(hit, tails[k], platform)
        site = np.where(hit, tails[k + 1], site)
    for i in np.flatnonzero(platform != ""):
        site[i] = site[i].removeprefix("www.")
    return {"site": np.where(is_ip, host_arr, site).astype(object),
            "registered_domain": np.where(is_ip | (registered == ""), host_arr, registered).astype(object),
            "suffix": np.where(is_ip, "", icann_suffix).astype(object),
            "platform": np.where(is_ip, "", platform).astype(object), "is_ip": is_ip}


def _is_ip(host: str) -> bool:
    """An IPv4 or bracketed IPv6 address."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def arrow_strings(col: pd.Series) -> pa.Array:
    """A string column as one contiguous Arrow array (no copy when it is Arrow-backed already)."""
    arrow = pa.array(col.array, type=pa.string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def normalize_url_series(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalised URLs and, where a value is not a URL, the reason (NA where fine).

    Values already in canonical form once a fragment is dropped (most of any export, comment
    links ending in ``#comment-12`` included) skip the Python normaliser.
    """
    text = pc.utf8_trim_whitespace(arrow_strings(col.astype("string")))
    unfragmented = pc.list_element(pc.split_pattern(text, "#", max_splits=1), 0)
    fast = pc.fill_null(pc.match_substring_regex(unfragmented, _CANONICAL_URL), False)
    fast = fast.to_numpy(zero_copy_only=False)
    urls = pd.Series(pd.array(pc.if_else(fast, unfragmented, None), dtype="string"), index=col.index)
    errors = pd.Series(pd.array(pa.nulls(len(col), pa.string()), dtype="string"), index=col.index)
    slow = np.flatnonzero(~fast)
    if len(slow):
        fixed: list[str | None] = []
        reasons: list[str | None] = []
        for value in text.take(slow).to_pylist():
            try:
                fixed.append(normalize_url(value) if value else None)
                reasons.append(None if value else "empty")
            except URLError as exc:
                fixed.append(None)
                reasons.append(str(exc))
        urls.iloc[slow] = pd.array(fixed, dtype="string")
        errors.iloc[slow] = pd.array(reasons, dtype="string")
    return urls, errors


def site_entry(text: str) -> str:
    """An allow/deny list entry as a bare site: 'domain:X.com', 'https://www.x.com/a', 'x.com' → 'x.com'."""
    text = text.strip().lower().removeprefix("domain:")
    return text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].removeprefix("www.").strip(".")


def site_entries(entries: Iterable[str]) -> frozenset[str]:
    """Normalised allow/deny entries; blanks and '#' comments dropped."""
    return frozenset(s for s in (site_entry(e) for e in entries if not e.strip().startswith("#")) if s)


def under_sites(host: str, sites: frozenset[str] | set[str]) -> bool:
    """Whether ``host`` is one of ``sites`` or a subdomain of one."""
    labels = host.lower().split(".")
    return any(".".join(labels[i:]) in sites for i in range(len(labels)))


def host_of(url: str) -> str:
    """Host of an already normalised URL (no port)."""
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split(":", 1)[0] if not rest.startswith("[") else rest.split("]")[0] + "]"
