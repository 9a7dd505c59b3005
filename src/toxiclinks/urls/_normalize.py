"""URL normalisation, offline: every URL that enters toxiclinks passes through here.

:func:`normalize_url` lower-cases scheme and host, turns IDN hosts into punycode, drops default
ports and fragments and percent-encodes spaces and non-ASCII characters in the path;
:func:`normalize_url_series` and :func:`normalize_urls` do the same for many URLs at once, with the
same results and the same reasons for what is not a URL.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ._arrow import arrow_strings, mostly_repeats, string_buffers, substrings

MAX_URL_LENGTH = 2048
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Already-canonical URLs skip the Python normaliser: a lower-case http(s) host of valid labels,
# no port, a path of printable ASCII without fragments or spaces, not ending in an empty query
# ("?"), which the normaliser drops. Lengths are checked apart (see _normalize_urls).
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
# A label with a letter: the last label of a name (an all-digit one makes an IPv4 address, checked apart).
_TOP_LABEL = r"(?:[a-z0-9_][a-z0-9_-]*)?[a-z](?:[a-z0-9_-]*[a-z0-9_])?"
_CANONICAL_URL = (rf"^https?://(?:{_LABEL}\.)+{_TOP_LABEL}"
                  r"/(?:[!$&'()*+,\-./0-9:;=?@A-Z_a-z~%]*[!$&'()*+,\-./0-9:;=@A-Z_a-z~%])?$")
_OPAQUE_SCHEME_RE = re.compile(r"^(javascript|mailto|data|tel|file|about|vbscript|ftp|news|irc):", re.I)
_HOST_OK = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$")
# Characters left alone when percent-encoding a path or query; '%' keeps existing escapes intact.
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class URLError(InputError, ValueError):
    """A string that is not a usable web URL; the message says why.

    An :class:`~toxiclinks.errors.InputError` (bad user input) and, as before, a ``ValueError``.
    """


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


# Bounded: a long-running service meets new hosts with every request, hostile ones included.
@lru_cache(maxsize=100_000)
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
    if host.rsplit(".", 1)[-1].isdigit():  # no top-level domain is a number: an IPv4 address, or nothing
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise URLError(f"host {host!r} is not a valid IPv4 address, and no domain name ends in a number") from None
    return host


def normalize_urls(values: list[str | None]) -> tuple[list[str | None], list[str | None]]:
    """:func:`normalize_url` of each value, and the reason for each that is not a URL (``None``
    where fine); ``None`` stays ``None``. Many URLs go through :func:`normalize_url_series`."""
    urls: list[str | None] = [None] * len(values)
    reasons: list[str | None] = [None] * len(values)
    present = [i for i, value in enumerate(values) if value is not None]
    one_by_one = present
    if len(present) >= _MANY_URLS:  # empty ones still go one by one: same messages
        batch, one_by_one = [i for i in present if values[i]], [i for i in present if not values[i]]
        fixed, errors = normalize_url_series(pd.Series([values[i] for i in batch], dtype="string"))
        for i, url, error, fine in zip(batch, fixed.tolist(), errors.tolist(), errors.isna().tolist(), strict=True):
            urls[i], reasons[i] = (url, None) if fine else (None, error)
    for i in one_by_one:
        try:
            urls[i] = normalize_url(values[i])  # type: ignore[arg-type]
        except URLError as exc:
            reasons[i] = str(exc)
    return urls, reasons


_MANY_URLS = 64  # below this, one normalize_url call per URL is faster than the vectorised path


def normalize_url_series(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalised URLs and, where a value is not a URL, the reason (NA where fine).

    Values already in canonical form once a fragment is dropped (most of any export, comment
    links ending in ``#comment-12`` included) skip the Python normaliser. A column of few
    distinct values (the target pages) is normalised once per value.
    """
    text = pc.fill_null(pc.utf8_trim_whitespace(arrow_strings(col.astype("string"))), "")
    if mostly_repeats(text):
        encoded = text.dictionary_encode()
        urls, errors = _normalize_urls(encoded.dictionary)
        urls, errors = urls.take(encoded.indices), errors.take(encoded.indices)
    else:
        urls, errors = _normalize_urls(text)
    return (pd.Series(pd.array(urls, dtype="string"), index=col.index),
            pd.Series(pd.array(errors, dtype="string"), index=col.index))


def _normalize_urls(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """:func:`normalize_url_series` on trimmed Arrow strings: URLs and reasons, each null where none."""
    unfragmented = _without_fragments(text)
    fast = pc.match_substring_regex(unfragmented, _CANONICAL_URL).to_numpy(zero_copy_only=False)
    length = pc.utf8_length(text).to_numpy(zero_copy_only=False)
    fast &= length <= MAX_URL_LENGTH
    long_host = np.flatnonzero(fast & (length > 253 + len("https://")))  # a host may be too long
    if len(long_host):
        hosts = url_hosts(unfragmented.take(long_host))
        fast[long_host] = pc.utf8_length(hosts).to_numpy(zero_copy_only=False) <= 253
    urls = pc.if_else(fast, unfragmented, None)
    errors = pa.nulls(len(text), pa.string())
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
        mask = np.zeros(len(text), dtype=bool)
        mask[slow] = True
        urls = pc.replace_with_mask(urls, mask, pa.array(fixed, type=pa.string()))
        errors = pc.replace_with_mask(errors, mask, pa.array(reasons, type=pa.string()))
    return urls, errors


def _without_fragments(text: pa.Array) -> pa.Array:
    """Each string up to its first '#' (cut only in the few strings that have one)."""
    offsets, data = string_buffers(text)
    hashes = np.flatnonzero(data == ord("#"))
    if not len(hashes):
        return text
    # Each string's first '#' at or after its start (past the end when it has none).
    first = np.append(hashes, len(data))[np.searchsorted(hashes, offsets[:-1])]
    has_fragment = first < offsets[1:]
    rows = np.flatnonzero(has_fragment)
    cut = substrings(data, offsets[rows], first[rows]).cast(text.type)
    return pc.replace_with_mask(text, pa.array(has_fragment), cut)


def url_hosts(urls: pa.Array) -> pa.Array:
    """Host (with any port) of each ``scheme://host/…`` URL, vectorised; null for null."""
    return pc.list_element(pc.split_pattern(urls, "/", max_splits=3), 2)

def host_of(url: str) -> str:
    """Host of an already normalised URL (no port)."""
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].split(":", 1)[0] if not rest.startswith("[") else rest.split("]")[0] + "]"
