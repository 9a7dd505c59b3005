"""Features: hand-built links where an auditor knows the expected direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.exports import canonical
from toxiclinks.features import FEATURES, AnchorClass, LinkFeatures, markdown
from toxiclinks.features._anchor import classify, script_of
from toxiclinks.features._text import entropies, name_keywords

SPAM = dict(source_url="http://best-cheap-casino-links.xyz/partners", target_url="https://trailgear.com/boots/",
            anchor="best online casino", in_content=False, links_in_group=250, nofollow=False, ugc=False,
            sponsored=False, left_context="© 2024 All rights reserved. Powered by", right_context="",
            source_title="Casino bonus links", domain_rating=3, domain_traffic=0, external_links=900,
            linked_domains=20000, source_referring_domains=2)
GOOD = dict(source_url="https://muddyboots.blog/2024/05/alpine-hiking-trip/", target_url="https://trailgear.com/",
            anchor="TrailGear", in_content=True, links_in_group=1, nofollow=False, ugc=False,
            sponsored=False, left_context="We tested the boots from", right_context="on a three-day hike.",
            source_title="Alpine hiking trip: boots and tents", domain_rating=18, domain_traffic=900,
            external_links=14, linked_domains=60, source_referring_domains=25)


@pytest.fixture(scope="module")
def fitted():
    return LinkFeatures()


def features_of(fitted_features: LinkFeatures, rows: list[dict]) -> pd.DataFrame:
    links = canonical(rows)
    fitted_features.fit(links, np.zeros(len(links)))
    X = fitted_features.transform(links)
    return pd.DataFrame(X, columns=fitted_features.get_feature_names_out())


def test_spam_footer_casino_link_vs_on_topic_brand_link(fitted):
    f = features_of(fitted, [SPAM, GOOD])
    spam, good = f.iloc[0], f.iloc[1]
    # anchor
    assert spam["anchor__class"] == AnchorClass.EXACT and good["anchor__class"] == AnchorClass.BRAND
    assert spam["anchor__money_category"] == 1  # gambling
    assert spam["anchor__money_words"] >= 1 and good["anchor__money_words"] == 0
    # domain
    assert spam["domain__keyword_count"] >= 3 and spam["domain__hyphen_count"] == 3
    assert spam["domain__money_word"] == 1 and good["domain__money_word"] == 0
    assert spam["domain__linked_domains_log"] > good["domain__linked_domains_log"]
    # placement
    assert spam["placement__in_content"] == 0 and good["placement__in_content"] == 1
    assert spam["placement__links_in_group_log"] > 2 and good["placement__links_in_group_log"] == 0
    assert spam["placement__cue_footer"] == 1 and good["placement__cue_footer"] == 0
    assert spam["placement__cue_partners"] == 1
    assert spam["placement__qualified"] == 0
    # topic: casino page vs hiking gear target; hiking blog vs hiking gear target
    assert good["topic__similarity"] > 0.5
    assert spam["topic__similarity"] < good["topic__similarity"]
    assert spam["topic__source_money_words"] > 0 and good["topic__source_money_words"] == 0


def test_missing_inputs_are_missing_not_zero(fitted):
    f = features_of(fitted, [{"source_url": "https://example.org/page"}])
    row = f.iloc[0]
    for name in ("anchor__class", "placement__in_content", "placement__nofollow", "placement__qualified",
                 "domain__authority", "domain__traffic_log", "profile__velocity_ratio",
                 "anchor__target_exact_share", "placement__sitewide"):
        assert np.isnan(row[name]), name
    assert row["domain__name_length"] == len("example")


def test_platform_free_hosting_ip_and_punycode(fitted):
    f = features_of(fitted, [{"source_url": "https://cheap-pills-4u.blogspot.com/"},
                             {"source_url": "http://203.0.113.9/x"},
                             {"source_url": "https://bücher.de/"}])
    assert f.iloc[0]["domain__is_platform_site"] == 1 and f.iloc[0]["domain__money_word"] == 1
    assert f.iloc[1]["domain__is_ip"] == 1
    assert f.iloc[2]["domain__is_punycode"] == 1


def test_reference_lists_and_tld_rate_learned_from_labels():
    links = canonical([{"source_url": f"http://site{i}.xyz/"} for i in range(50)]
                      + [{"source_url": f"http://site{i}.com/"} for i in range(50)])
    y = np.r_[np.ones(40), np.zeros(10), np.zeros(45), np.ones(5)]
    feats = LinkFeatures(tld_smoothing=10).fit(links, y)
    assert feats.tld_rate("xyz") > feats.tld_rate("com")
    # Smoothing keeps an unseen TLD at the overall rate, not at an extreme.
    assert feats.tld_rate("museum") == pytest.approx(y.mean())
    known_spam = sorted(feats.spam_domains_)[0]
    out = pd.DataFrame(feats.transform(canonical([{"source_url": f"http://{known_spam}/"}])),
                       columns=feats.get_feature_names_out())
    assert out.iloc[0]["domain__in_spam_list"] == 1


def test_anchor_classes():
    site, words = "trailgear.com", frozenset({"hiking", "boots"})
    assert classify("", site, words)[0] == AnchorClass.EMPTY
    assert classify("TrailGear", site, words)[0] == AnchorClass.BRAND
    assert classify("https://trailgear.com/", site, words)[0] == AnchorClass.NAKED_URL
    assert classify("click here", site, words)[0] == AnchorClass.GENERIC
    assert classify("cheap hiking boots", site, words)[0] == AnchorClass.EXACT
    assert classify("my favourite hiking boots from last year", site, words)[0] == AnchorClass.PARTIAL
    assert classify("TrailGear hiking boots", site, words)[0] == AnchorClass.COMPOUND
    assert classify("Jane Smith", site, words)[0] == AnchorClass.BRAND  # a person: the owner or staff, named
    assert classify("jane smith wrote this", site, words)[0] == AnchorClass.OTHER


def test_host_traits_one_by_one_equal_the_vectorised_table():
    """:func:`domain.host_traits` (a live request's host) against the vectorised table, on listed
    spam and popular domains and on hosts with platforms, IPs, punycode and deep subdomains."""
    from toxiclinks.features import _domain as domain
    from toxiclinks.features import _reference as reference
    from toxiclinks.model import load

    fitted = load(None).features  # the shipped model's fitted state: spam list, TLD rates
    from toxiclinks.urls import split_hosts

    rng = np.random.default_rng(3)
    listed = sorted(reference.spam_domains("all")) + sorted(reference.popular_domains("all"))
    hosts = [str(h) for h in rng.choice(listed, 3000, replace=False)]
    hosts += ["www.best-casino-links.example.xyz", "my-blog.blogspot.com", "blogspot.com", "1.2.3.4", "[2001:db8::1]",
              "sites.google.com", "a.b.c.github.io", "xn--80ak6aa92e.com", "www.xn--80ak6aa92e.xn--p1ai",
              "casino24.com.br", "cheap-seo-links-4u.co.uk", "essexnews.com", "x.y.z.deep.example.org"]
    hosts = np.array(hosts, dtype=object)
    parts = split_hosts(hosts)
    columns = [hosts, *(np.asarray(parts[f], dtype=object) for f in ("site", "suffix", "platform", "registered_domain"))]
    table = domain._host_table(*columns, fitted)[:-1]
    one = np.array([domain.host_traits(*(c[i] for c in columns), fitted) for i in range(len(hosts))], dtype=np.float64)
    assert np.array_equal(one, table, equal_nan=True)
    assert np.nansum(table[:, list(domain.FEATURES).index("domain__in_spam_list")]) > 100


def test_one_pair_classifier_equals_the_batch_classifier():
    """:func:`pair_codes` (plain Python, the live path) against :func:`_classes` (numpy, the batch) on
    random anchors made of the words each rule counts: keywords, brand parts, URL words, fillers."""
    from toxiclinks.features._anchor import _classes, brand_of, pair_codes, target_info

    pool = ["cheap", "best", "buy", "casino", "viagra", "loans", "hiking", "boots", "trail", "gear", "trailgear",
            "gea", "xyz", "simple", "club", "simpleclub", "my", "the", "jane", "of", "essay", "seo", "ab", "abc",
            "click", "here", "www.trailgear.com", "Trail-Gear", "BOOTS!", "казино", "2024"]
    rng = np.random.default_rng(7)
    texts = sorted({" ".join(rng.choice(pool, rng.integers(1, 7))) for _ in range(1500)} | {"", "gear", "abcd"})
    urls = ["https://trailgear.com/hiking-boots/xyz", "https://trailgear.com/", "https://gear.com/trail",
            "https://ab.com/boots", "https://abcd.net/club/seo", "https://simpleclub.org/boots", "https://x.ru/"]
    targets = [target_info(u, u.split("/")[2]) for u in urls]
    brands = [brand_of(site)[0] for site, _, _ in targets]
    words = [w for _, w, _ in targets]
    anchor_of, target_of = (a.ravel() for a in np.meshgrid(np.arange(len(texts)), np.arange(len(urls)), indexing="ij"))
    batch = _classes(texts, anchor_of, brands, words, target_of)
    one = np.array([pair_codes(texts[a], brands[t], words[t]) for a, t in zip(anchor_of, target_of, strict=True)])
    assert (one == batch).all(), [(texts[a], urls[t]) for a, t in zip(anchor_of, target_of, strict=True)
                                  if (one[a * len(urls) + t] != batch[a * len(urls) + t]).any()][:5]
    assert set(batch[:, 0]) == set(AnchorClass)  # every class occurs


def test_batch_anchor_features_equal_one_link_at_a_time(fitted):
    """Anchors, targets and pairs are worked on once each; every link still gets its own answer."""
    from toxiclinks.features._anchor import target_info

    anchors = ["TrailGear", "  cheap hiking boots ", "cheap hiking boots", "TrailGear hiking boots", None, "",
               "click here", "https://trailgear.com/", "boots", "Jane Smith", "казино онлайн", "simple club",
               "Simple Club cheap boots", "!!!"]
    targets = ["https://trailgear.com/hiking-boots", "https://trailgear.com/", "https://simpleclub.org/boots",
               "https://example.ru/", ""]
    rows = [dict(source_url=f"https://s{i}.example.org/", anchor=a, target_url=t or None)
            for i, (a, t) in enumerate((a, t) for a in anchors for t in targets)]
    f = features_of(fitted, rows)
    for i, row in enumerate(rows):
        if row["anchor"] is None:
            assert np.isnan(f.iloc[i]["anchor__class"]) and np.isnan(f.iloc[i]["anchor__length"])
            continue
        url = row["target_url"] or ""
        site, words, _ = target_info(url, url.split("/")[2] if url else "")
        want = classify(row["anchor"], site, words)
        got = tuple(int(f.iloc[i][k]) for k in ("anchor__class", "anchor__money_category", "anchor__money_words",
                                                 "anchor__commercial_words"))
        assert got == want, row
        assert f.iloc[i]["anchor__length"] == len(row["anchor"])
        assert f.iloc[i]["anchor__word_count"] == len(row["anchor"].split())
    classes = {(r["anchor"], r["target_url"]): f.iloc[i]["anchor__class"] for i, r in enumerate(rows)}
    assert classes[("TrailGear hiking boots", "https://trailgear.com/hiking-boots")] == AnchorClass.COMPOUND
    assert classes[("boots", "https://simpleclub.org/boots")] == AnchorClass.PARTIAL  # a word of the target URL
    assert classes[("boots", "https://example.ru/")] in (AnchorClass.PARTIAL, AnchorClass.OTHER)
    assert classes[("Simple Club cheap boots", targets[2])] == AnchorClass.COMPOUND


def test_over_optimised_profile_and_same_anchor_from_many_sites(fitted):
    rows = [dict(source_url=f"https://blog{i}.com/p", target_url="https://trailgear.com/", anchor="cheap hiking boots")
            for i in range(8)] + [dict(source_url="https://x.example.org/", target_url="https://trailgear.com/", anchor="TrailGear")]
    f = features_of(fitted, rows)
    assert f.iloc[0]["anchor__target_exact_share"] == pytest.approx(8 / 9)
    # eight sites share the keyword anchor
    assert f.iloc[0]["anchor__same_anchor_share"] > f.iloc[8]["anchor__same_anchor_share"]


def test_script_mismatch_and_comment_cues(fitted):
    f = features_of(fitted, [
        dict(source_url="https://forum.example.net/showthread.php?t=1", target_url="https://trailgear.com/",
             anchor="казино онлайн", left_context="John says: great post", right_context="Reply"),
        dict(source_url="https://example.ru/", target_url="https://trailgear.ru/", anchor="походные ботинки")])
    assert f.iloc[0]["anchor__script_mismatch"] == 1 and f.iloc[1]["anchor__script_mismatch"] == 0
    assert f.iloc[0]["placement__cue_comment"] == 1
    assert script_of("казино") == "cyrillic" and script_of("オンライン") == "cjk"


def test_link_velocity_burst(fitted):
    base = pd.Timestamp("2024-01-01")
    rows = [dict(source_url=f"https://steady{i}.com/", target_url="https://t.example.com/",
                 first_seen=base + pd.Timedelta(weeks=i)) for i in range(12)]
    rows += [dict(source_url=f"https://burst{i}.net/", target_url="https://t.example.com/",
                  first_seen=base + pd.Timedelta(weeks=12, days=i % 5)) for i in range(20)]
    f = features_of(fitted, rows)
    assert f.iloc[-1]["profile__velocity_ratio"] >= 10
    assert f.iloc[5]["profile__velocity_ratio"] <= 2


def test_domain_name_keywords_and_innocent_names():
    import pyarrow as pa

    keywords, money = name_keywords(pa.array(["bestcheapseolinks", "casinobonus24", "essexnews", "alphabet"]))
    assert list(keywords[:1]) == [4]
    assert list(money) == [0, 1, 0, 0]
    assert entropies(["aaaa", "abcd"]).tolist() == [0.0, 2.0]


def test_name_entropy_is_shannon_entropy_of_each_name(monkeypatch):
    """The vectorised entropies equal the definition, per name, across blocks of names."""
    import math
    import random
    from collections import Counter

    def shannon(name: str) -> float:
        text = name.encode("ascii", "replace").decode("ascii")
        return -sum(c / len(text) * math.log2(c / len(text)) for c in Counter(text).values())

    rng = random.Random(4)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789-яß東"
    names = ["", "a", "aaaa", "abcd", "ÿ-é", ""] + [
        "".join(rng.choice(letters) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    got = entropies(names)
    assert got.shape == (len(names),)
    np.testing.assert_allclose(got, [shannon(n) for n in names], rtol=0, atol=1e-12)


def test_transformer_contract(fitted):
    links = canonical([SPAM, GOOD])
    feats = LinkFeatures().fit(links)
    assert list(feats.get_feature_names_out()) == list(FEATURES)
    assert all("__" in n and n.isascii() and n == n.lower() for n in FEATURES)
    assert feats.transform(links.iloc[:0]).shape == (0, len(FEATURES))
    frame = feats.set_output(transform="pandas").transform(links)
    assert list(frame.columns) == list(FEATURES)
    with pytest.raises(TypeError):
        feats.transform(np.zeros((2, 3)))


def test_features_never_see_label_sources():
    assert not any(word in name for name in FEATURES for word in ("scheme", "label", "view", "synth"))


def test_features_md_is_current():
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "features" / "FEATURES.md"
    assert path.read_text("utf-8") == markdown(), "run `make features` and commit features/FEATURES.md"


def test_vectorised_lexicon_counts_equal_the_one_text_rules():
    """lexicon_counts (Arrow, per distinct token) gives topic_vector(tokens(text)) for every text."""
    import numpy as np
    import pandas as pd

    from toxiclinks.features._lexicons import MONEY, TOPICS
    from toxiclinks.features._text import lexicon_counts, tokens, topic_vector

    words = [w.rstrip("*") for lexicon in (MONEY, TOPICS) for ws in lexicon.values() for w in ws]
    variants = [v for w in words for v in (w, w + "s", w + "ing", w[:3], w[:-1], w.upper(), w.title())]
    texts = [" ".join(variants[i:i + 7]) for i in range(0, len(variants), 7)]
    texts += ["", "   ", "Casino-Bonus_24/7 ¡Apuestas! Fußball-Wetten", "ñandú: Ñoño —  Кредит онлайн",
              "seo\tlinks\nbest*cheap", "日本語のテキスト casino", "x" * 5000, "CBD-öl kaufen", "under_score"]
    got = lexicon_counts(pd.Series(texts + [None], dtype="string"))
    want = np.stack([topic_vector(tokens(t)) for t in texts] + [topic_vector([])])
    assert (got == want).all()  # many distinct tokens: the Arrow lookups
    assert got[:-1].sum() > len(texts)  # the lexicon words were found
    one = texts[3:5]  # few tokens: the cached one-token lookups
    assert (lexicon_counts(pd.Series(one, dtype="string")) == want[3:5]).all()


def test_url_noise_words_are_in_no_lexicon():
    """Source URLs are counted with their scheme and extensions: these must never be topic words."""
    from toxiclinks.features._text import money_category, topic_category
    from toxiclinks.features._topic import URL_NOISE

    assert all(topic_category(w) < 0 and money_category(w) < 0 for w in URL_NOISE)


def test_second_thread_gives_the_same_features(fitted, monkeypatch, tmp_path):
    """Big batches compute placement and source topics on a second thread; the matrix is the same."""
    import toxiclinks.features._pipeline as features_module
    from toxiclinks.model import write_seed_data as synth_write
    from toxiclinks.reading import read_export

    links_csv, _, _ = synth_write(tmp_path, 3, 200, seed=5)
    links = read_export(links_csv).links
    fitted.fit(links, np.zeros(len(links)))
    monkeypatch.setattr(features_module, "PARALLEL_ROWS", 10**9)
    one_thread = fitted.transform(links)
    monkeypatch.setattr(features_module, "PARALLEL_ROWS", 1)
    monkeypatch.setattr(features_module, "_PART_ROWS", 97)  # many parts: some are taken back
    two_threads = fitted.transform(links)
    assert one_thread.shape == (len(links), len(FEATURES)) and len(links) > 500
    np.testing.assert_array_equal(one_thread, two_threads)


def test_work_the_pool_has_not_started_runs_on_the_asking_thread():
    """_start: results in order; queued work is taken back instead of waited for."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from toxiclinks.features._pipeline import _start

    release, ran_on = threading.Event(), {}

    def job(i: int):
        def run():
            if i == 0:
                release.wait(10)  # the pool's only thread is busy with this one
            ran_on[i] = threading.current_thread().name
            return i * i
        return run

    with ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
        results = _start(pool, [job(i) for i in range(4)])
        threading.Timer(0.2, release.set).start()
        assert results() == [0, 1, 4, 9]
    assert ran_on[0].startswith("pool") and ran_on[3] == threading.current_thread().name
    assert _start(None, [job(1), job(2)])() == [1, 4]


def test_chunks_sharing_the_host_memo_get_the_features_of_one_batch():
    """A streamed batch computes each host's traits once (the context's memo); chunks that meet a
    host again, or bring only a few new ones (the one-host-at-a-time rule), give the same matrix."""
    from toxiclinks.reading import read_export

    links = read_export("data/sample/ahrefs_sample.csv").links
    links = pd.concat([links, links.iloc[::-1], links.iloc[:5]], ignore_index=True)  # hosts met again
    features = LinkFeatures().fit(links, np.zeros(len(links)))
    whole = features.transform(links)
    builder = features.context_builder()
    cuts = [0, len(links) // 3, len(links) - 7, len(links) - 5, len(links)]
    for start, stop in zip(cuts, cuts[1:], strict=False):
        features.add_to_context(builder, links.iloc[start:stop])
    context = builder.finish()
    chunked = np.vstack([features.transform(links.iloc[start:stop], context.rows(start, stop))
                         for start, stop in zip(cuts, cuts[1:], strict=False)])
    assert np.array_equal(chunked, whole, equal_nan=True)
    assert len(context.hosts.rows) == links["source_host"].nunique()


def test_anchor_features_from_the_first_pass_give_the_same_matrix_and_wrong_ones_are_refused():
    """What add_to_context returns, handed back to transform_with_context, stands for computing the
    anchor features again; values that do not cover the table are an error, not a silent misfit."""
    from toxiclinks.reading import read_export

    links = read_export("data/sample/ahrefs_sample.csv").links
    features = LinkFeatures().fit(links, np.zeros(len(links)))
    builder = features.context_builder()
    cut = len(links) // 2
    kept = [features.add_to_context(builder, links.iloc[:cut]), features.add_to_context(builder, links.iloc[cut:])]
    context = builder.finish()
    parts = [(slice(0, cut), kept[0]), (slice(cut, len(links)), kept[1])]
    again = [features.transform_with_context(links.iloc[s], context.rows(s.start, s.stop))[0] for s, _ in parts]
    reused = [features.transform_with_context(links.iloc[s], context.rows(s.start, s.stop), a)[0] for s, a in parts]
    assert np.array_equal(np.vstack(reused), np.vstack(again), equal_nan=True)
    short = {name: values[:-1] for name, values in kept[0].items()}
    with pytest.raises(ValueError, match="anchor features"):
        features.transform_with_context(links.iloc[:cut], context.rows(0, cut), short)
