"""Sites as allow/deny lists and disavow files name them, and hosting platforms.

An entry such as ``domain:X.com``, ``https://www.x.com/a`` or ``x.com`` names the site ``x.com``;
a host is under a site when it is that site or a subdomain of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np

from ._hosts import split_hosts
from ._normalize import URLError, normalize_host


def platforms(hosts: Iterable[str]) -> np.ndarray:
    """Which hosts are hosting platforms themselves (blogspot.com, sites.google.com), not sites on them."""
    hosts = np.asarray(list(hosts), dtype=object)
    return (split_hosts(hosts)["platform"] == hosts).astype(bool) if len(hosts) else np.zeros(0, dtype=bool)


def site_entry(text: str) -> str:
    """An allow/deny list entry as a bare site: 'domain:X.com', 'https://www.x.com/a', 'x.com' → 'x.com'.

    Internationalised names come out in punycode, as hosts do in link tables ('café.fr' → 'xn--caf-dma.fr').
    """
    text = text.strip().lower().removeprefix("domain:")
    site = text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].removeprefix("www.").strip(".")
    with contextlib.suppress(URLError):  # not a valid name: kept as it is, it matches no host
        site = normalize_host(site)
    return site


def site_entries(entries: Iterable[str]) -> frozenset[str]:
    """Normalised allow/deny entries; blanks and '#' comments dropped."""
    return frozenset(s for s in (site_entry(e) for e in entries if not e.strip().startswith("#")) if s)


def under_sites(host: str, sites: frozenset[str] | set[str]) -> bool:
    """Whether ``host`` is one of ``sites`` or a subdomain of one."""
    if not sites:
        return False
    labels = host.lower().split(".")
    return any(".".join(labels[i:]) in sites for i in range(len(labels)))

