"""URLs and hosts: the batch normalisers agree with the one-URL normaliser, and host splitting with tldextract."""

from __future__ import annotations

import pandas as pd


def test_host_split_matches_tldextract_public_api():
    from toxiclinks.features import popular_domains, spam_domains
    from toxiclinks.urls._hosts import _extractor, _suffix_split

    hosts = ["foo.blogspot.com", "www.city.kawasaki.jp", "a.b.kawasaki.jp", "foo.ck", "www.ck", "co.uk",
             "bar.unknowntld", "a.b.c.s3.amazonaws.com", "xn--mnchen-3ya.de"]
    hosts += ["www." + d for d in sorted(spam_domains("all"))[:500]] + sorted(popular_domains("all"))[:500]
    for host in hosts:
        full, icann = _extractor()(host), _extractor()(host, include_psl_private_domains=False)
        assert _suffix_split(host) == (full.suffix, full.domain, full.is_private, icann.suffix,
                                       icann.top_domain_under_public_suffix), host


def test_vectorised_host_split_matches_the_trie_walk_and_tldextract():
    """The batch path (Arrow, ≥ 512 hosts) and the one-host path (plain Python, a live request) agree,
    and both agree with tldextract."""
    from toxiclinks.features import popular_domains, spam_domains
    from toxiclinks.urls import split_host, split_hosts
    from toxiclinks.urls._hosts import _extractor

    hosts = ["foo.blogspot.com", "www.foo.blogspot.com", "blogspot.com", "www.city.kawasaki.jp",
             "a.b.kawasaki.jp", "foo.ck", "www.ck", "co.uk", "x.co.uk", "bar.unknowntld", "a.b.c.s3.amazonaws.com",
             "xn--mnchen-3ya.de", "www.xn--mnchen-3ya.de", "1.2.3.4", "999.1.1.1", "[2001:db8::1]",
             "sites.google.com", "x.blog.fc2.com", "blog.fc2.com", "fc2.com", "www.x.wordpress.com",
             "wordpress.com", "me.github.io", "github.io", "a.b.c.d.e.f.g.h.i.com", "y.x.run.app",
             "www.tumblr.com", "x.tumblr.com", "www.blog.fc2.com", "www.x.blog.fc2.com", "www.1.2.3.4"]
    hosts += ["www." + d for d in sorted(spam_domains("all"))[:1500]] + sorted(popular_domains("all"))[:1500]
    batch = split_hosts(hosts)
    for i, host in enumerate(hosts):
        one = split_host(host)
        got = tuple(batch[f][i] for f in ("site", "registered_domain", "suffix", "platform", "is_ip"))
        assert got == (one.site, one.registered_domain, one.suffix, one.platform, one.is_ip), host
        if not one.is_ip:
            icann = _extractor()(host, include_psl_private_domains=False)
            assert one.suffix == icann.suffix, host
            assert one.registered_domain == (icann.top_domain_under_public_suffix or host), host
    parts = {h: split_host(h) for h in ("foo.blogspot.com", "x.blog.fc2.com", "www.x.wordpress.com",
                                        "sites.google.com", "www.city.kawasaki.jp", "1.2.3.4")}
    assert (parts["foo.blogspot.com"].site, parts["foo.blogspot.com"].platform) == ("foo.blogspot.com", "blogspot.com")
    assert (parts["x.blog.fc2.com"].site, parts["x.blog.fc2.com"].platform) == ("x.blog.fc2.com", "blog.fc2.com")
    assert (parts["www.x.wordpress.com"].site, parts["www.x.wordpress.com"].subdomain) == ("x.wordpress.com", "www")
    assert parts["sites.google.com"].platform == parts["sites.google.com"].site == "sites.google.com"
    assert parts["www.city.kawasaki.jp"].registered_domain == "city.kawasaki.jp"
    assert parts["1.2.3.4"].is_ip and parts["1.2.3.4"].suffix == ""


def test_batch_url_normalisation_agrees_with_the_one_url_normaliser():
    """The vectorised fast path never accepts what normalize_url would change or reject."""
    from toxiclinks.urls import URLError, normalize_url, normalize_url_series

    cases = ["https://a.com/a?", "https://a.com/a?#x", "https://a.com/?", "https://a..com/", "https://a.com./",
             "https://-a.com/", "https://a-.com/", "https://a_b.com/", "https://a.com/a=1?", "https://a.com/a?b=1",
             "https://a.b.example.co.uk/x/y.html?q=1&r=2#c-1", "https://" + "a" * 250 + ".com/",
             "https://a.com/" + "x" * 2100, "https://" + "a." * 130 + "com/p", "http://1.2.3.4/", "HTTPS://A.com/",
             "https://a.com/p?x=%zz", "https://a.com:443/", "https://a.com/a b", "https://a.com/%7e", " https://a.com/ "]
    got, errors = normalize_url_series(pd.Series(cases * 200, dtype="string"))  # > 1 sample: both paths
    for i, case in enumerate(cases * 200):
        try:
            want, reason = normalize_url(case), None
        except URLError as exc:
            want, reason = None, str(exc)
        assert (None if pd.isna(got[i]) else got[i]) == want, case
        assert pd.isna(errors[i]) == (reason is None), case


def test_url_lists_give_what_the_one_url_normaliser_gives():
    """normalize_urls (the service's path): same URLs and same messages, small lists or large."""
    import random

    from toxiclinks.urls import URLError, normalize_url, normalize_urls

    rng = random.Random(2)
    cases = ["https://a.com/x", "http://B.example.co.uk/p?q=1#f", "", "not a url", "javascript:x()",
             "https://a..com/", " https://c.org/ ", "ftp://x.com/", "https://" + "a" * 300 + ".com/",
             "https://a.com/%zz", None]
    for n in (3, 300):
        values = [rng.choice(cases) for _ in range(n)]
        urls, reasons = normalize_urls(values)
        for value, url, reason in zip(values, urls, reasons, strict=True):
            if value is None:
                assert (url, reason) == (None, None)
                continue
            try:
                want = (normalize_url(value), None)
            except URLError as exc:
                want = (None, str(exc))
            assert (url, reason) == want, value
