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


@cache
def is_platform(host: str) -> bool:
    """Whether ``host`` is a hosting platform itself (blogspot.com, sites.google.com), not a site on it."""
    return host in EXTRA_PLATFORMS or _is_private_suffix(_Split(*_suffix_split(host)))


def _is_private_suffix(ext) -> bool:
    """A host that is exactly a private (platform) suffix, e.g. blogspot.com."""
    return bool(ext.is_private and not ext.domain)


@dataclass(frozen=True, slots=True)
class _Split:
    """One host against the Public Suffix List, private section included."""

    suffix: str  # longest suffix, private ones included ("blogspot.com")
    domain: str  # the label left of it ("myblog")
    is_private: bool
    icann_suffix: str  # ICANN-section suffix ("com")
    registered: str  # ICANN registered domain ("blogspot.com")


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
    """Split a normalised host into site, registered domain, suffix, subdomain and platform.

    A platform host itself (sites.google.com, whose sites live in paths) is its own site and
    its own platform, so nothing ever disavows google.com for it.
    """
    bare = host.strip("[]")
    if bare[-1:].isdigit() or ":" in bare:
        try:
            ipaddress.ip_address(bare)
            return HostParts(host, host, host, "", "", "", True)
        except ValueError:
            pass
    ext = _Split(*_suffix_split(host))
    registered, suffix = ext.registered or host, ext.icann_suffix
    platform, site = "", registered
    if host in EXTRA_PLATFORMS or _is_private_suffix(ext):
        platform, site = host, host
    elif ext.is_private and ext.domain:
        platform, site = ext.suffix, f"{ext.domain}.{ext.suffix}"
    else:
        labels = host.split(".")
        for depth in (3, 2):
            candidate = ".".join(labels[-depth:])
            if candidate in EXTRA_PLATFORMS and len(labels) > depth:
                platform, site = candidate, ".".join(labels[-depth - 1:])
                break
    if site.startswith("www.") and platform:
        site = site[4:]
    subdomain = host[: -len(site)].rstrip(".") if host.endswith(site) else ""
    return HostParts(host, site, registered, suffix, subdomain, platform, False)


def normalize_url_series(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalised URLs and, where a value is not a URL, the reason (NA where fine).

    Values already in canonical form (most of any export) skip the Python normaliser.
    """
    text = col.astype("string").fillna("").str.strip()
    fast = text.str.match(_CANONICAL_URL).fillna(False).to_numpy(dtype=bool)
    urls = text.astype(object).to_numpy().copy()
    errors = np.full(len(text), None, dtype=object)
    for i in np.flatnonzero(~fast):
        value = urls[i]
        if not value:
            urls[i], errors[i] = None, "empty"
            continue
        try:
            urls[i] = normalize_url(value)
        except URLError as exc:
            urls[i], errors[i] = None, str(exc)
    return (pd.Series(urls, index=col.index, dtype="string"),
            pd.Series(errors, index=col.index, dtype="string"))


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
